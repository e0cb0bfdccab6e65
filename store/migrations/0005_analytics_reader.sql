-- The analytics server's database role: it can SELECT the support tables and nothing else.
-- Roles are cluster-wide, so it is created only if missing; granting it to the migrating user lets
-- the server `SET LOCAL ROLE` into it for each query.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'levhaolam_analytics') THEN
        CREATE ROLE levhaolam_analytics NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
END
$$;
GRANT levhaolam_analytics TO CURRENT_USER;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM levhaolam_analytics;
GRANT USAGE ON SCHEMA public TO levhaolam_analytics;
GRANT SELECT ON support_threads_data, support_dialogs, ai_human_comparison, ai_agent_tasks, ai_answerer_instructions
    TO levhaolam_analytics;

-- Indexes for the vetted analytics queries (servers/analytics/knowledge/queries).
CREATE INDEX support_threads_open_idx ON support_threads_data (status, created_at)
    WHERE status IN ('new', 'ai_answered', 'draft_created', 'escalated');
CREATE INDEX support_threads_channel_created_idx ON support_threads_data (channel, created_at);
CREATE INDEX ai_human_comparison_category_idx ON ai_human_comparison (category);
