-- Rollups of the AI agent tasks for the saved query agent_tasks (issue 14): status counts, durations (sum and an
-- exact median, as 0016 does for similarities) and how many distinct tickets had a task in a period.

-- ------------------------------------------------------------------------------------------------ tables
-- Tasks per hour or day they started and duration band (duration_ms / 100; null: no duration yet).
CREATE TABLE support_task_detail_rollup (
    grain        text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket       timestamptz NOT NULL,
    band         int,
    tasks        bigint NOT NULL,
    succeeded    bigint NOT NULL,
    failed       bigint NOT NULL,
    cancelled    bigint NOT NULL,
    duration_sum bigint NOT NULL
);
CREATE UNIQUE INDEX support_task_detail_rollup_key ON support_task_detail_rollup (grain, bucket, band) NULLS NOT DISTINCT;
CREATE INDEX support_task_detail_rollup_empty ON support_task_detail_rollup (grain) WHERE tasks = 0;

-- The exact durations (whole milliseconds) within each band, for the median.
CREATE TABLE support_task_duration_rollup (
    grain       text NOT NULL CHECK (grain IN ('hour', 'day')),
    band        int NOT NULL,
    bucket      timestamptz NOT NULL,
    duration_ms int NOT NULL,
    tasks       bigint NOT NULL,
    PRIMARY KEY (grain, band, bucket, duration_ms)
);
CREATE INDEX support_task_duration_rollup_empty ON support_task_duration_rollup (grain) WHERE tasks = 0;

-- Distinct tickets with a task in [s, e) = tickets whose first task is in it (support_first_task_rollup) + tickets
-- with a task before s whose next task is in it: a task whose predecessor (same ticket, by created_at then id)
-- started before s while it started at or after s; the range (previous, created] holds s (a GiST lookup, no scan).
CREATE TABLE support_task_gaps (
    task_id    bigint PRIMARY KEY,
    ticket_id  bigint NOT NULL,
    created_at timestamptz NOT NULL,
    prev_at    timestamptz  -- null: the ticket's first task
);
CREATE INDEX support_task_gaps_ticket_idx ON support_task_gaps (ticket_id);
CREATE INDEX support_task_gaps_span_idx ON support_task_gaps USING gist (tstzrange(prev_at, created_at, '(]'))
    WHERE prev_at IS NOT NULL;
CREATE INDEX support_task_gaps_first_idx ON support_task_gaps (created_at) WHERE prev_at IS NULL;

CREATE TABLE support_first_task_rollup (
    grain   text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket  timestamptz NOT NULL,
    tickets bigint NOT NULL,
    PRIMARY KEY (grain, bucket)
);
CREATE INDEX support_first_task_rollup_empty ON support_first_task_rollup (grain) WHERE tickets = 0;

-- ------------------------------------------------------------------------------------------------ keeping them
-- `changes`: {sign, task: the task row}.
CREATE FUNCTION support_task_details_apply(changes jsonb) RETURNS void
    LANGUAGE sql
    AS $$
        WITH c AS (
            SELECT (x ->> 'sign')::int AS sign, g.grain, date_trunc(g.grain, t.created_at, 'UTC') AS bucket, t.*
            FROM jsonb_array_elements(changes) AS x,
                 jsonb_populate_record(NULL::ai_agent_tasks, x -> 'task') AS t,
                 (VALUES ('hour'), ('day')) AS g (grain)
        ), durations AS (
            INSERT INTO support_task_duration_rollup AS r
            SELECT grain, duration_ms / 100, bucket, duration_ms, sum(sign) FROM c WHERE duration_ms IS NOT NULL
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
            ON CONFLICT (grain, band, bucket, duration_ms) DO UPDATE SET tasks = r.tasks + excluded.tasks
        )
        INSERT INTO support_task_detail_rollup AS r
        SELECT grain, bucket, duration_ms / 100, sum(sign), sum(sign * (status = 'succeeded')::int),
               sum(sign * (status = 'failed')::int), sum(sign * (status = 'cancelled')::int),
               coalesce(sum(sign * duration_ms), 0)
        FROM c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (grain, bucket, band) DO UPDATE SET
            tasks = r.tasks + excluded.tasks, succeeded = r.succeeded + excluded.succeeded,
            failed = r.failed + excluded.failed, cancelled = r.cancelled + excluded.cancelled,
            duration_sum = r.duration_sum + excluded.duration_sum;
        DELETE FROM support_task_detail_rollup WHERE tasks = 0;
        DELETE FROM support_task_duration_rollup WHERE tasks = 0;
$$;

-- The task chains of some tickets computed again: their first tasks moved in the rollup, their gaps replaced.
CREATE FUNCTION support_task_chains_refresh(tickets bigint[]) RETURNS void
    LANGUAGE sql
    AS $$
        INSERT INTO support_first_task_rollup AS r
        SELECT g.grain, date_trunc(g.grain, f.created_at, 'UTC'), sum(f.sign)
        FROM (SELECT -1 AS sign, created_at FROM support_task_gaps WHERE ticket_id = ANY (tickets) AND prev_at IS NULL
              UNION ALL
              SELECT 1, min(created_at) FROM ai_agent_tasks WHERE ticket_id = ANY (tickets) GROUP BY ticket_id) AS f
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (grain, bucket) DO UPDATE SET tickets = r.tickets + excluded.tickets;
        DELETE FROM support_first_task_rollup WHERE tickets = 0;
        DELETE FROM support_task_gaps WHERE ticket_id = ANY (tickets);
        INSERT INTO support_task_gaps
        SELECT id, ticket_id, created_at, lag(created_at) OVER (PARTITION BY ticket_id ORDER BY created_at, id)
        FROM ai_agent_tasks WHERE ticket_id = ANY (tickets);
$$;

CREATE FUNCTION support_tasks_detailed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- Each statement is planned when it first runs, so a branch names only the transition tables it has.
    IF TG_OP = 'UPDATE' THEN
        PERFORM support_task_details_apply(coalesce((
            SELECT jsonb_agg(x) FROM (SELECT jsonb_build_object('sign', -1, 'task', to_jsonb(o)) AS x FROM old_rows o
                                      UNION ALL
                                      SELECT jsonb_build_object('sign', 1, 'task', to_jsonb(n)) FROM new_rows n) AS s),
            '[]'));
        PERFORM support_task_chains_refresh(ARRAY(SELECT ticket_id FROM old_rows UNION SELECT ticket_id FROM new_rows
                                                  ORDER BY 1));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM support_task_details_apply(coalesce((
            SELECT jsonb_agg(jsonb_build_object('sign', -1, 'task', to_jsonb(o))) FROM old_rows o), '[]'));
        PERFORM support_task_chains_refresh(ARRAY(SELECT DISTINCT ticket_id FROM old_rows ORDER BY 1));
    ELSE
        PERFORM support_task_details_apply(coalesce((
            SELECT jsonb_agg(jsonb_build_object('sign', 1, 'task', to_jsonb(n))) FROM new_rows n), '[]'));
        PERFORM support_task_chains_refresh(ARRAY(SELECT DISTINCT ticket_id FROM new_rows ORDER BY 1));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER support_tasks_detail_inserted AFTER INSERT ON ai_agent_tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tasks_detailed();
CREATE TRIGGER support_tasks_detail_updated AFTER UPDATE ON ai_agent_tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION support_tasks_detailed();
CREATE TRIGGER support_tasks_detail_deleted AFTER DELETE ON ai_agent_tasks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION support_tasks_detailed();

CREATE FUNCTION support_task_rollups_rebuild() RETURNS void
    LANGUAGE sql
    AS $$
        DELETE FROM support_task_detail_rollup;
        INSERT INTO support_task_detail_rollup
        SELECT g.grain, date_trunc(g.grain, t.created_at, 'UTC'), t.duration_ms / 100, count(*),
               count(*) FILTER (WHERE t.status = 'succeeded'), count(*) FILTER (WHERE t.status = 'failed'),
               count(*) FILTER (WHERE t.status = 'cancelled'), coalesce(sum(t.duration_ms), 0)
        FROM ai_agent_tasks t CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3;
        DELETE FROM support_task_duration_rollup;
        INSERT INTO support_task_duration_rollup
        SELECT g.grain, t.duration_ms / 100, date_trunc(g.grain, t.created_at, 'UTC'), t.duration_ms, count(*)
        FROM ai_agent_tasks t CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        WHERE t.duration_ms IS NOT NULL
        GROUP BY 1, 2, 3, 4;
        DELETE FROM support_task_gaps;
        INSERT INTO support_task_gaps
        SELECT id, ticket_id, created_at, lag(created_at) OVER (PARTITION BY ticket_id ORDER BY created_at, id)
        FROM ai_agent_tasks;
        DELETE FROM support_first_task_rollup;
        INSERT INTO support_first_task_rollup
        SELECT g.grain, date_trunc(g.grain, f.created_at, 'UTC'), count(*)
        FROM support_task_gaps f CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        WHERE f.prev_at IS NULL
        GROUP BY 1, 2;
$$;
REVOKE EXECUTE ON FUNCTION support_task_rollups_rebuild() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION support_task_details_apply(jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION support_task_chains_refresh(bigint[]) FROM PUBLIC;

-- ------------------------------------------------------------------------------------------------ windows
CREATE FUNCTION support_task_detail_window(window_start timestamptz, window_end timestamptz)
    RETURNS TABLE (band int, tasks bigint, succeeded bigint, failed bigint, cancelled bigint, duration_sum bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT r.band, r.tasks, r.succeeded, r.failed, r.cancelled, r.duration_sum
    FROM support_task_detail_rollup r
    WHERE (r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
       OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1)))
    UNION ALL
    SELECT t.duration_ms / 100, count(*), count(*) FILTER (WHERE t.status = 'succeeded'),
           count(*) FILTER (WHERE t.status = 'failed'), count(*) FILTER (WHERE t.status = 'cancelled'),
           coalesce(sum(t.duration_ms), 0)
    FROM ai_agent_tasks t
    WHERE (t.created_at >= window_start AND t.created_at < b.h0)
       OR (t.created_at >= b.h1 AND t.created_at < window_end)
    GROUP BY 1;
END
$$;

-- The exact durations of one band in a window, with how many tasks took each.
CREATE FUNCTION support_task_duration_window(window_start timestamptz, window_end timestamptz, duration_band int)
    RETURNS TABLE (duration_ms int, tasks bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT r.duration_ms, r.tasks
    FROM support_task_duration_rollup r
    WHERE r.band = duration_band
      AND ((r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
           OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0) OR (r.bucket >= b.d1 AND r.bucket < b.h1))))
    UNION ALL
    SELECT t.duration_ms, count(*)
    FROM ai_agent_tasks t
    WHERE t.duration_ms / 100 = duration_band
      AND ((t.created_at >= window_start AND t.created_at < b.h0)
           OR (t.created_at >= b.h1 AND t.created_at < window_end))
    GROUP BY 1;
END
$$;

-- How many distinct tickets had a task in [window_start, window_end).
CREATE FUNCTION support_task_ticket_window(window_start timestamptz, window_end timestamptz)
    RETURNS TABLE (tickets bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    SELECT (coalesce((SELECT sum(r.tickets) FROM support_first_task_rollup r
                      WHERE (r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1)
                         OR (r.grain = 'hour' AND ((r.bucket >= b.h0 AND r.bucket < b.d0)
                                                   OR (r.bucket >= b.d1 AND r.bucket < b.h1)))), 0)
            + (SELECT count(*) FROM support_task_gaps f
               WHERE f.prev_at IS NULL AND ((f.created_at >= window_start AND f.created_at < b.h0)
                                            OR (f.created_at >= b.h1 AND f.created_at < window_end)))
            + (SELECT count(*) FROM support_task_gaps f
               WHERE f.prev_at IS NOT NULL AND tstzrange(f.prev_at, f.created_at, '(]') @> window_start
                 AND f.created_at < window_end))::bigint;
END
$$;

GRANT SELECT ON support_task_detail_rollup, support_task_duration_rollup, support_task_gaps, support_first_task_rollup
    TO levhaolam_analytics;

SELECT support_task_rollups_rebuild();
