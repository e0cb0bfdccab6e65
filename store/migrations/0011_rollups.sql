-- Rollups: the saved analytics queries read per-hour and per-day aggregates instead of scanning up to a million
-- tickets, and knowledge search reads how many passages hold each word instead of ranking every passage that
-- shares a common one. Triggers keep both exact in the same transaction as the change they count;
-- support_rollups_rebuild() and knowledge_lexemes_rebuild() compute them again from the raw tables. Function bodies
-- are strings, not BEGIN ATOMIC, so that later migrations may still change the columns they read.

-- ------------------------------------------------------------------------------------------------ tickets
-- One row per (grain, bucket, category, channel, ai_model): 'hour' rows for every UTC hour and 'day' rows for every
-- UTC day (the same tickets twice: a window reads whole days, then whole hours, then the raw tickets of its partial
-- hours; support_ticket_window). Rows whose tickets fall to 0 are deleted, so a group exists iff a ticket does.
CREATE TABLE support_ticket_rollup (
    grain          text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket         timestamptz NOT NULL,
    category       support_category NOT NULL,
    channel        text NOT NULL,
    ai_model       text,
    tickets        bigint NOT NULL,
    ai_handled     bigint NOT NULL,  -- handled_by = 'ai'
    ai_edited      bigint NOT NULL,  -- handled_by = 'ai_edited'
    human_handled  bigint NOT NULL,  -- handled_by = 'human'
    answered       bigint NOT NULL,  -- handled_by IS NOT NULL
    ai_answered    bigint NOT NULL,  -- ai_answered_at IS NOT NULL
    drafts         bigint NOT NULL,  -- draft_created_at IS NOT NULL
    responded      bigint NOT NULL,  -- first_response_at IS NOT NULL
    resolved       bigint NOT NULL,  -- resolved_at IS NOT NULL
    rated          bigint NOT NULL,  -- rating IS NOT NULL
    rating_sum     bigint NOT NULL,
    low_rated      bigint NOT NULL,  -- rating <= 2
    cost_count     bigint NOT NULL,  -- ai_cost_usd IS NOT NULL
    cost_sum       numeric NOT NULL,
    compared       bigint NOT NULL,  -- has an ai_human_comparison row
    human_better   bigint NOT NULL   -- ... whose verdict is human_better
);
CREATE UNIQUE INDEX support_ticket_rollup_key ON support_ticket_rollup (grain, bucket, category, channel, ai_model)
    NULLS NOT DISTINCT;
-- Rows that fell to zero, found without a scan and deleted after each change.
CREATE INDEX support_ticket_rollup_empty ON support_ticket_rollup (grain) WHERE tickets = 0;

-- Agent tasks by the hour or day they started, per task type.
CREATE TABLE support_task_rollup (
    grain     text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket    timestamptz NOT NULL,
    task_type text NOT NULL,
    tasks     bigint NOT NULL,
    failed    bigint NOT NULL,
    PRIMARY KEY (grain, bucket, task_type)
);
CREATE INDEX support_task_rollup_empty ON support_task_rollup (grain) WHERE tasks = 0;

-- Adds sign x each ticket's counts to its hour and day rows. `changes` holds (sign, ticket row, verdict of its
-- comparison): a statement's old rows with -1, its new rows with +1. Sorted keys take row locks in one order, so
-- concurrent writers wait rather than deadlock. (The DELETE is its own statement: one that also updated a row
-- cannot see the update.)
CREATE FUNCTION support_ticket_rollup_apply(changes jsonb) RETURNS void
    LANGUAGE sql
    AS $$
        WITH c AS (
            SELECT (x ->> 'sign')::int AS sign, (x ->> 'verdict') AS verdict, t.*
            FROM jsonb_array_elements(changes) AS x,
                 jsonb_populate_record(NULL::support_threads_data, x -> 'ticket') AS t
        ), summed AS (
            SELECT g.grain, date_trunc(g.grain, c.created_at, 'UTC') AS bucket, c.category, c.channel, c.ai_model,
                   sum(c.sign) AS tickets,
                   sum(c.sign * (c.handled_by IS NOT DISTINCT FROM 'ai')::int) AS ai_handled,
                   sum(c.sign * (c.handled_by IS NOT DISTINCT FROM 'ai_edited')::int) AS ai_edited,
                   sum(c.sign * (c.handled_by IS NOT DISTINCT FROM 'human')::int) AS human_handled,
                   sum(c.sign * (c.handled_by IS NOT NULL)::int) AS answered,
                   sum(c.sign * (c.ai_answered_at IS NOT NULL)::int) AS ai_answered,
                   sum(c.sign * (c.draft_created_at IS NOT NULL)::int) AS drafts,
                   sum(c.sign * (c.first_response_at IS NOT NULL)::int) AS responded,
                   sum(c.sign * (c.resolved_at IS NOT NULL)::int) AS resolved,
                   sum(c.sign * (c.rating IS NOT NULL)::int) AS rated,
                   sum(c.sign * coalesce(c.rating, 0)) AS rating_sum,
                   sum(c.sign * coalesce((c.rating <= 2)::int, 0)) AS low_rated,
                   sum(c.sign * (c.ai_cost_usd IS NOT NULL)::int) AS cost_count,
                   coalesce(sum(c.sign * c.ai_cost_usd), 0) AS cost_sum,
                   sum(c.sign * (c.verdict IS NOT NULL)::int) AS compared,
                   sum(c.sign * coalesce((c.verdict = 'human_better')::int, 0)) AS human_better
            FROM c CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
            GROUP BY 1, 2, 3, 4, 5
        )
        INSERT INTO support_ticket_rollup AS r
        SELECT * FROM summed ORDER BY grain, bucket, category, channel, ai_model
        ON CONFLICT (grain, bucket, category, channel, ai_model) DO UPDATE SET
            tickets = r.tickets + excluded.tickets, ai_handled = r.ai_handled + excluded.ai_handled,
            ai_edited = r.ai_edited + excluded.ai_edited, human_handled = r.human_handled + excluded.human_handled,
            answered = r.answered + excluded.answered, ai_answered = r.ai_answered + excluded.ai_answered,
            drafts = r.drafts + excluded.drafts, responded = r.responded + excluded.responded,
            resolved = r.resolved + excluded.resolved, rated = r.rated + excluded.rated,
            rating_sum = r.rating_sum + excluded.rating_sum, low_rated = r.low_rated + excluded.low_rated,
            cost_count = r.cost_count + excluded.cost_count, cost_sum = r.cost_sum + excluded.cost_sum,
            compared = r.compared + excluded.compared, human_better = r.human_better + excluded.human_better;
        DELETE FROM support_ticket_rollup WHERE tickets = 0;
$$;

-- Statement-level: a bulk change is one aggregate, not one upsert per row.
CREATE FUNCTION support_tickets_rolled_up() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM support_ticket_rollup_apply(coalesce((
            SELECT jsonb_agg(jsonb_build_object('sign', -1, 'ticket', to_jsonb(o), 'verdict', c.verdict))
            FROM old_rows o LEFT JOIN ai_human_comparison c ON c.ticket_id = o.id), '[]'));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM support_ticket_rollup_apply(coalesce((
            SELECT jsonb_agg(jsonb_build_object('sign', 1, 'ticket', to_jsonb(n), 'verdict', c.verdict))
            FROM new_rows n LEFT JOIN ai_human_comparison c ON c.ticket_id = n.id), '[]'));
    END IF;
    RETURN NULL;
END
$$;

-- A deleted ticket takes its comparison with it (ON DELETE CASCADE), and the comparison's own trigger runs first,
-- when the ticket is already gone: so a DELETE subtracts each ticket, comparison included, before the row goes.
CREATE FUNCTION support_ticket_deleted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM support_ticket_rollup_apply(jsonb_build_array(jsonb_build_object(
        'sign', -1, 'ticket', to_jsonb(OLD),
        'verdict', (SELECT c.verdict FROM ai_human_comparison c WHERE c.ticket_id = OLD.id))));
    RETURN OLD;
END
$$;

-- A comparison moves its ticket from "not compared" to "compared" (or back, or to another verdict).
CREATE FUNCTION support_comparisons_rolled_up() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM support_ticket_rollup_apply(coalesce((
            SELECT jsonb_agg(x) FROM (
                SELECT jsonb_build_object('sign', -1, 'ticket', to_jsonb(t), 'verdict', o.verdict) AS x
                FROM old_rows o JOIN support_threads_data t ON t.id = o.ticket_id
                UNION ALL
                SELECT jsonb_build_object('sign', 1, 'ticket', to_jsonb(t), 'verdict', NULL)
                FROM old_rows o JOIN support_threads_data t ON t.id = o.ticket_id) AS s), '[]'));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM support_ticket_rollup_apply(coalesce((
            SELECT jsonb_agg(x) FROM (
                SELECT jsonb_build_object('sign', -1, 'ticket', to_jsonb(t), 'verdict', NULL) AS x
                FROM new_rows n JOIN support_threads_data t ON t.id = n.ticket_id
                UNION ALL
                SELECT jsonb_build_object('sign', 1, 'ticket', to_jsonb(t), 'verdict', n.verdict)
                FROM new_rows n JOIN support_threads_data t ON t.id = n.ticket_id) AS s), '[]'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_tickets_inserted AFTER INSERT ON support_threads_data
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tickets_rolled_up();
CREATE TRIGGER support_tickets_updated AFTER UPDATE ON support_threads_data
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_tickets_rolled_up();
CREATE TRIGGER support_tickets_deleted BEFORE DELETE ON support_threads_data
    FOR EACH ROW EXECUTE FUNCTION support_ticket_deleted();
CREATE TRIGGER support_comparisons_inserted AFTER INSERT ON ai_human_comparison
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_comparisons_rolled_up();
CREATE TRIGGER support_comparisons_updated AFTER UPDATE ON ai_human_comparison
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_comparisons_rolled_up();
CREATE TRIGGER support_comparisons_deleted AFTER DELETE ON ai_human_comparison
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_comparisons_rolled_up();

-- ------------------------------------------------------------------------------------------------ agent tasks
CREATE FUNCTION support_task_rollup_apply(changes jsonb) RETURNS void
    LANGUAGE sql
    AS $$
        INSERT INTO support_task_rollup AS r
        SELECT g.grain, date_trunc(g.grain, (x ->> 'created_at')::timestamptz, 'UTC'), x ->> 'task_type',
               sum((x ->> 'sign')::int), sum((x ->> 'sign')::int * (x ->> 'status' IS NOT DISTINCT FROM 'failed')::int)
        FROM jsonb_array_elements(changes) AS x CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (grain, bucket, task_type) DO UPDATE SET tasks = r.tasks + excluded.tasks,
                                                             failed = r.failed + excluded.failed;
        DELETE FROM support_task_rollup WHERE tasks = 0;
$$;

CREATE FUNCTION support_tasks_rolled_up() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM support_task_rollup_apply(coalesce((
            SELECT jsonb_agg(jsonb_build_object('sign', -1, 'created_at', created_at, 'task_type', task_type,
                                                'status', status)) FROM old_rows), '[]'));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM support_task_rollup_apply(coalesce((
            SELECT jsonb_agg(jsonb_build_object('sign', 1, 'created_at', created_at, 'task_type', task_type,
                                                'status', status)) FROM new_rows), '[]'));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_tasks_inserted AFTER INSERT ON ai_agent_tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tasks_rolled_up();
CREATE TRIGGER support_tasks_updated AFTER UPDATE ON ai_agent_tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_tasks_rolled_up();
CREATE TRIGGER support_tasks_deleted AFTER DELETE ON ai_agent_tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tasks_rolled_up();

-- ------------------------------------------------------------------------------------------------ rebuild
-- Everything again from the raw tables (`levhaolam db rollups`; the demo seed loads with the triggers off, then
-- calls it).
CREATE FUNCTION support_rollups_rebuild() RETURNS void
    LANGUAGE sql
    AS $$
        DELETE FROM support_ticket_rollup;
        INSERT INTO support_ticket_rollup
        SELECT g.grain, date_trunc(g.grain, s.created_at, 'UTC'), s.category, s.channel, s.ai_model,
               count(*), count(*) FILTER (WHERE s.handled_by = 'ai'), count(*) FILTER (WHERE s.handled_by = 'ai_edited'),
               count(*) FILTER (WHERE s.handled_by = 'human'), count(s.handled_by), count(s.ai_answered_at),
               count(s.draft_created_at), count(s.first_response_at), count(s.resolved_at), count(s.rating),
               coalesce(sum(s.rating), 0), count(*) FILTER (WHERE s.rating <= 2), count(s.ai_cost_usd),
               coalesce(sum(s.ai_cost_usd), 0), count(c.id), count(*) FILTER (WHERE c.verdict = 'human_better')
        FROM support_threads_data s LEFT JOIN ai_human_comparison c ON c.ticket_id = s.id
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3, 4, 5;
        DELETE FROM support_task_rollup;
        INSERT INTO support_task_rollup
        SELECT g.grain, date_trunc(g.grain, t.created_at, 'UTC'), t.task_type, count(*),
               count(*) FILTER (WHERE t.status = 'failed')
        FROM ai_agent_tasks t CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3;
$$;
REVOKE EXECUTE ON FUNCTION support_rollups_rebuild() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION support_ticket_rollup_apply(jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION support_task_rollup_apply(jsonb) FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------ windows
-- A window [window_start, window_end) in pieces: whole UTC days [d0, d1) from the 'day' rows, the whole hours
-- around them [h0, d0) and [d1, h1) from the 'hour' rows, and the minutes before h0 and from h1 from the raw
-- tables. With local_days no piece straddles a midnight of the session's time zone (for queries that group by
-- day): day rows only where its midnights are UTC's, hour rows only where its offset is whole hours.
CREATE FUNCTION support_window_bounds(window_start timestamptz, window_end timestamptz, local_days boolean,
                                      OUT h0 timestamptz, OUT h1 timestamptz, OUT d0 timestamptz,
                                      OUT d1 timestamptz)
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    h0 := date_trunc('hour', window_start, 'UTC');
    IF h0 < window_start THEN
        h0 := h0 + interval '1 hour';
    END IF;
    h1 := date_trunc('hour', window_end, 'UTC');
    IF h0 >= h1 OR (local_days AND (extract(timezone_minute FROM window_start) <> 0
                                    OR extract(timezone_minute FROM window_end) <> 0)) THEN
        -- No usable whole hour: the raw rows of the whole window.
        h0 := greatest(window_start, window_end);
        h1 := h0;
        d0 := h0;
        d1 := h0;
        RETURN;
    END IF;
    d0 := date_trunc('day', h0, 'UTC');
    IF d0 < h0 THEN
        d0 := d0 + interval '24 hours';  -- not '1 day', which is 23 or 25 hours across a daylight-saving change
    END IF;
    d1 := date_trunc('day', h1, 'UTC');
    IF d0 >= d1 OR (local_days AND EXISTS (SELECT 1 FROM generate_series(d0, d1, interval '24 hours') AS m
                                           WHERE date_trunc('day', m) <> m)) THEN
        d0 := h0;  -- no usable whole day: hours from h0 to h1
        d1 := h0;
    END IF;
END
$$;

-- Ticket counts of a window, as rows of support_ticket_rollup's shape (grain left out); aggregate them.
-- PL/pgSQL so that the bounds are plain values to the planner: each piece is an index range scan.
CREATE FUNCTION support_ticket_window(window_start timestamptz, window_end timestamptz,
                                      local_days boolean DEFAULT false)
    RETURNS TABLE (bucket timestamptz, category text, channel text, ai_model text, tickets bigint,
                   ai_handled bigint, ai_edited bigint, human_handled bigint, answered bigint, ai_answered bigint,
                   drafts bigint, responded bigint, resolved bigint, rated bigint, rating_sum bigint,
                   low_rated bigint, cost_count bigint, cost_sum numeric, compared bigint, human_better bigint)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, local_days);
    RETURN QUERY
    SELECT r.bucket, r.category::text, r.channel, r.ai_model, r.tickets, r.ai_handled, r.ai_edited,
           r.human_handled, r.answered, r.ai_answered, r.drafts, r.responded, r.resolved, r.rated, r.rating_sum,
           r.low_rated, r.cost_count, r.cost_sum, r.compared, r.human_better
    FROM support_ticket_rollup r
    WHERE r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1
    UNION ALL
    SELECT r.bucket, r.category::text, r.channel, r.ai_model, r.tickets, r.ai_handled, r.ai_edited,
           r.human_handled, r.answered, r.ai_answered, r.drafts, r.responded, r.resolved, r.rated, r.rating_sum,
           r.low_rated, r.cost_count, r.cost_sum, r.compared, r.human_better
    FROM support_ticket_rollup r
    WHERE r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1))
    UNION ALL
    -- Raw rows by the session's hour: in a half-hour time zone a UTC hour straddles midnight.
    SELECT date_trunc('hour', s.created_at), s.category::text, s.channel, s.ai_model, count(*),
           count(*) FILTER (WHERE s.handled_by = 'ai'), count(*) FILTER (WHERE s.handled_by = 'ai_edited'),
           count(*) FILTER (WHERE s.handled_by = 'human'), count(s.handled_by), count(s.ai_answered_at),
           count(s.draft_created_at), count(s.first_response_at), count(s.resolved_at), count(s.rating),
           coalesce(sum(s.rating), 0)::bigint, count(*) FILTER (WHERE s.rating <= 2), count(s.ai_cost_usd),
           coalesce(sum(s.ai_cost_usd), 0), count(c.id), count(*) FILTER (WHERE c.verdict = 'human_better')
    FROM support_threads_data s LEFT JOIN ai_human_comparison c ON c.ticket_id = s.id
    WHERE (s.created_at >= window_start AND s.created_at < b.h0)
       OR (s.created_at >= b.h1 AND s.created_at < window_end)
    GROUP BY 1, 2, 3, 4;
END
$$;

-- Agent tasks of a window by task type, the same way.
CREATE FUNCTION support_task_window(window_start timestamptz, window_end timestamptz)
    RETURNS TABLE (bucket timestamptz, task_type text, tasks bigint, failed bigint)
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT r.bucket, r.task_type, r.tasks, r.failed FROM support_task_rollup r
    WHERE r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1
    UNION ALL
    SELECT r.bucket, r.task_type, r.tasks, r.failed FROM support_task_rollup r
    WHERE r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1))
    UNION ALL
    SELECT date_trunc('hour', t.created_at), t.task_type, count(*), count(*) FILTER (WHERE t.status = 'failed')
    FROM ai_agent_tasks t
    WHERE (t.created_at >= window_start AND t.created_at < b.h0)
       OR (t.created_at >= b.h1 AND t.created_at < window_end)
    GROUP BY 1, 2;
END
$$;

-- The analytics login reads the rollups (and, through the window functions, the tables it already reads).
GRANT SELECT ON support_ticket_rollup, support_task_rollup TO levhaolam_analytics;

-- ------------------------------------------------------------------------------------------------ knowledge
-- How many passages of a namespace hold each lexeme. Search ranks a question by its rarer words only: a word most
-- passages share says little about which one answers, and ranking every passage that holds it was most of a
-- search's time at 10,000 passages (servers/knowledge/retrieval.py).
CREATE TABLE knowledge_lexemes (
    namespace text NOT NULL,
    lexeme    text NOT NULL,
    passages  integer NOT NULL,
    PRIMARY KEY (namespace, lexeme)
);
CREATE INDEX knowledge_lexemes_empty ON knowledge_lexemes (namespace) WHERE passages <= 0;

CREATE FUNCTION knowledge_lexemes_counted() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- Each statement is planned when it first runs, so a branch names only the transition table it has.
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO knowledge_lexemes AS k (namespace, lexeme, passages)
        SELECT o.namespace, l.lexeme, -count(*) FROM old_rows o, unnest(tsvector_to_array(o.tsv)) AS l (lexeme)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (namespace, lexeme) DO UPDATE SET passages = k.passages + excluded.passages;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO knowledge_lexemes AS k (namespace, lexeme, passages)
        SELECT n.namespace, l.lexeme, count(*) FROM new_rows n, unnest(tsvector_to_array(n.tsv)) AS l (lexeme)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (namespace, lexeme) DO UPDATE SET passages = k.passages + excluded.passages;
    END IF;
    DELETE FROM knowledge_lexemes WHERE passages <= 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER knowledge_chunks_inserted AFTER INSERT ON knowledge_chunks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION knowledge_lexemes_counted();
CREATE TRIGGER knowledge_chunks_updated AFTER UPDATE ON knowledge_chunks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION knowledge_lexemes_counted();
CREATE TRIGGER knowledge_chunks_deleted AFTER DELETE ON knowledge_chunks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION knowledge_lexemes_counted();

CREATE FUNCTION knowledge_lexemes_rebuild() RETURNS void
    LANGUAGE sql
    AS $$
        DELETE FROM knowledge_lexemes;
        INSERT INTO knowledge_lexemes
        SELECT c.namespace, l.lexeme, count(*) FROM knowledge_chunks c, unnest(tsvector_to_array(c.tsv)) AS l (lexeme)
        GROUP BY 1, 2;
$$;
REVOKE EXECUTE ON FUNCTION knowledge_lexemes_rebuild() FROM PUBLIC;

-- A database that already holds tickets or passages gets its rollups now, not empty ones.
SELECT support_rollups_rebuild();
SELECT knowledge_lexemes_rebuild();
