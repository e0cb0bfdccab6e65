-- Every rollup rebuilt in a quarter of the time (`levhaolam seed` rebuilds them after its load, and has a time
-- target): the raw rows are grouped once, by UTC hour, in a hash table, and the 'day' rows are added up from the
-- 'hour' rows (a few hundred thousand instead of a million raw rows). Before, each raw row was joined with
-- ('hour'), ('day') and the doubled rows sorted, on disk, for one GroupAggregate. Sums of counts and of numeric
-- costs add up exactly in any order; the similarity sums are exact float8 sums (0016), so adding the hours' sums
-- gives the same day total. Each query's rows go through support_rollup_fill, which PostgreSQL may run with
-- parallel workers (the second core). Same rows as before: tests/analytics/test_rollups.py, and at 1M tickets
-- both directions of EXCEPT ALL against the old functions' tables were empty.

-- A rollup's rows computed by a query that PostgreSQL may run in parallel (an INSERT ... SELECT never is; a
-- CREATE TABLE ... AS may be: worker processes scan, join and pre-aggregate their share of the raw rows), then
-- inserted. The workers see the rows of the caller's transaction (the seed's load, not yet committed).
CREATE FUNCTION support_rollup_fill(target regclass, query text) RETURNS void
    LANGUAGE plpgsql
    AS $$
    BEGIN
        -- Columns named after the target's positions: the query's own names repeat (count, sum).
        EXECUTE format('CREATE TEMP TABLE support_rollup_stage (%s) ON COMMIT DROP AS %s',
                       (SELECT string_agg('c' || attnum, ', ' ORDER BY attnum) FROM pg_attribute
                        WHERE attrelid = target AND attnum > 0 AND NOT attisdropped), query);
        EXECUTE format('INSERT INTO %s SELECT * FROM support_rollup_stage', target);
        DROP TABLE support_rollup_stage;
    END
$$;
REVOKE EXECUTE ON FUNCTION support_rollup_fill(regclass, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION support_rollups_rebuild() RETURNS void
    LANGUAGE plpgsql
    SET work_mem = '256MB'
    SET enable_sort = off
    SET parallel_setup_cost = 0
    SET parallel_tuple_cost = 0
    AS $$
    BEGIN
        DELETE FROM support_ticket_rollup;
        PERFORM support_rollup_fill('support_ticket_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), s.category, s.channel, s.ai_model,
                   count(*), count(*) FILTER (WHERE s.handled_by = 'ai'), count(*) FILTER (WHERE s.handled_by = 'ai_edited'),
                   count(*) FILTER (WHERE s.handled_by = 'human'), count(s.handled_by), count(s.ai_answered_at),
                   count(s.draft_created_at), count(s.first_response_at), count(s.resolved_at), count(s.rating),
                   coalesce(sum(s.rating), 0), count(*) FILTER (WHERE s.rating <= 2), count(s.ai_cost_usd),
                   coalesce(sum(s.ai_cost_usd), 0), count(c.id), count(*) FILTER (WHERE c.verdict = 'human_better')
            FROM support_threads_data s LEFT JOIN ai_human_comparison c ON c.ticket_id = s.id
            GROUP BY 2, 3, 4, 5$q$);
        PERFORM support_rollup_fill('support_ticket_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.category, r.channel, r.ai_model, sum(r.tickets),
                   sum(r.ai_handled), sum(r.ai_edited), sum(r.human_handled), sum(r.answered), sum(r.ai_answered),
                   sum(r.drafts), sum(r.responded), sum(r.resolved), sum(r.rated), sum(r.rating_sum), sum(r.low_rated),
                   sum(r.cost_count), sum(r.cost_sum), sum(r.compared), sum(r.human_better)
            FROM support_ticket_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3, 4, 5$q$);
        DELETE FROM support_task_rollup;
        PERFORM support_rollup_fill('support_task_rollup', $q$
            SELECT 'hour', date_trunc('hour', t.created_at, 'UTC'), t.task_type, count(*),
                   count(*) FILTER (WHERE t.status = 'failed')
            FROM ai_agent_tasks t
            GROUP BY 2, 3$q$);
        PERFORM support_rollup_fill('support_task_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.task_type, sum(r.tasks), sum(r.failed)
            FROM support_task_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3$q$);
    END
$$;

CREATE OR REPLACE FUNCTION support_detail_rollups_rebuild() RETURNS void
    LANGUAGE plpgsql
    SET work_mem = '256MB'
    SET enable_sort = off
    SET parallel_setup_cost = 0
    SET parallel_tuple_cost = 0
    AS $$
    BEGIN
        DELETE FROM support_response_rollup;
        PERFORM support_rollup_fill('support_response_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), s.handled_by,
                   support_response_band(s.first_response_at, s.created_at), count(*)
            FROM support_threads_data s
            WHERE s.first_response_at IS NOT NULL
            GROUP BY 2, 3, 4$q$);
        PERFORM support_rollup_fill('support_response_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.handled_by, r.band, sum(r.tickets)
            FROM support_response_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3, 4$q$);
        DELETE FROM support_message_rollup;
        PERFORM support_rollup_fill('support_message_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), s.category, s.channel, s.handled_by, count(*),
                   coalesce(sum(m.customer), 0), coalesce(sum(m.ai), 0), coalesce(sum(m.human), 0)
            FROM support_threads_data s
                 LEFT JOIN (SELECT ticket_id, count(*) FILTER (WHERE role = 'customer') AS customer,
                                   count(*) FILTER (WHERE role = 'ai') AS ai, count(*) FILTER (WHERE role = 'human') AS human
                            FROM support_dialogs GROUP BY ticket_id) AS m ON m.ticket_id = s.id
            GROUP BY 2, 3, 4, 5$q$);
        PERFORM support_rollup_fill('support_message_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.category, r.channel, r.handled_by, sum(r.tickets),
                   sum(r.customer_messages), sum(r.ai_messages), sum(r.human_messages)
            FROM support_message_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3, 4, 5$q$);
    END
$$;

CREATE OR REPLACE FUNCTION support_comparison_rollups_rebuild() RETURNS void
    LANGUAGE plpgsql
    SET work_mem = '256MB'
    SET enable_sort = off
    SET parallel_setup_cost = 0
    SET parallel_tuple_cost = 0
    AS $$
    BEGIN
        DELETE FROM support_comparison_rollup;
        PERFORM support_rollup_fill('support_comparison_rollup', $q$
            SELECT 'hour', date_trunc('hour', s.created_at, 'UTC'), c.verdict, s.handled_by,
                   support_similarity_band(c.similarity), count(*), sum(c.similarity::float8),
                   count(*) FILTER (WHERE c.similarity >= 1)
            FROM ai_human_comparison c JOIN support_threads_data s ON s.id = c.ticket_id
            GROUP BY 2, 3, 4, 5$q$);
        PERFORM support_rollup_fill('support_comparison_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.verdict, r.handled_by, r.band, sum(r.compared),
                   sum(r.similarity_sum), sum(r.unchanged)
            FROM support_comparison_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3, 4, 5$q$);
        DELETE FROM support_similarity_rollup;
        PERFORM support_rollup_fill('support_similarity_rollup', $q$
            SELECT 'hour', support_similarity_band(c.similarity), date_trunc('hour', s.created_at, 'UTC'), c.verdict,
                   s.handled_by, c.similarity, count(*)
            FROM ai_human_comparison c JOIN support_threads_data s ON s.id = c.ticket_id
            GROUP BY 2, 3, 4, 5, 6$q$);
        PERFORM support_rollup_fill('support_similarity_rollup', $q$
            SELECT 'day', r.band, date_trunc('day', r.bucket, 'UTC'), r.verdict, r.handled_by, r.similarity, sum(r.compared)
            FROM support_similarity_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3, 4, 5, 6$q$);
    END
$$;

CREATE OR REPLACE FUNCTION support_task_rollups_rebuild() RETURNS void
    LANGUAGE plpgsql
    SET work_mem = '256MB'
    SET enable_sort = off
    SET parallel_setup_cost = 0
    SET parallel_tuple_cost = 0
    AS $$
    BEGIN
        DELETE FROM support_task_detail_rollup;
        PERFORM support_rollup_fill('support_task_detail_rollup', $q$
            SELECT 'hour', date_trunc('hour', t.created_at, 'UTC'), t.duration_ms / 100, count(*),
                   count(*) FILTER (WHERE t.status = 'succeeded'), count(*) FILTER (WHERE t.status = 'failed'),
                   count(*) FILTER (WHERE t.status = 'cancelled'), coalesce(sum(t.duration_ms), 0)
            FROM ai_agent_tasks t
            GROUP BY 2, 3$q$);
        PERFORM support_rollup_fill('support_task_detail_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), r.band, sum(r.tasks), sum(r.succeeded), sum(r.failed),
                   sum(r.cancelled), sum(r.duration_sum)
            FROM support_task_detail_rollup r WHERE r.grain = 'hour'
            GROUP BY 2, 3$q$);
        DELETE FROM support_task_spans;
        PERFORM support_rollup_fill('support_task_spans', $q$
            SELECT ticket_id, min(created_at), max(created_at) FROM ai_agent_tasks GROUP BY ticket_id$q$);
        DELETE FROM support_first_task_rollup;
        PERFORM support_rollup_fill('support_first_task_rollup', $q$
            SELECT 'hour', date_trunc('hour', f.first_at, 'UTC'), count(*)
            FROM support_task_spans f
            GROUP BY 2$q$);
        PERFORM support_rollup_fill('support_first_task_rollup', $q$
            SELECT 'day', date_trunc('day', r.bucket, 'UTC'), sum(r.tickets)
            FROM support_first_task_rollup r WHERE r.grain = 'hour'
            GROUP BY 2$q$);
    END
$$;
