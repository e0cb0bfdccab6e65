-- The task rollups of 0017 rebuilt in less than half the time (`levhaolam seed` rebuilds every rollup after its
-- load, and has a time target): no rollup with a row per hour and exact duration, which held about a row per task
-- (1.6 million rows at 1M tickets), and a row per ticket instead of one per task for the distinct tickets. Sorts and
-- hashes of every rebuild in memory.

-- ------------------------------------------------------------------------------------------------ task durations
-- The exact durations of a band over a period: an index range on the raw table (band, start), no rollup.
DROP TABLE support_task_duration_rollup;
CREATE INDEX ai_agent_tasks_duration_idx ON ai_agent_tasks ((duration_ms / 100), created_at) INCLUDE (duration_ms)
    WHERE duration_ms IS NOT NULL;

CREATE OR REPLACE FUNCTION support_task_duration_window(window_start timestamptz, window_end timestamptz,
                                                        duration_band int)
    RETURNS TABLE (duration_ms int, tasks bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT t.duration_ms, count(*)
    FROM ai_agent_tasks t
    WHERE t.duration_ms IS NOT NULL AND t.duration_ms / 100 = duration_band
      AND t.created_at >= window_start AND t.created_at < window_end
    GROUP BY 1;
END
$$;

CREATE OR REPLACE FUNCTION support_task_details_apply(changes jsonb) RETURNS void
    LANGUAGE sql
    AS $$
        INSERT INTO support_task_detail_rollup AS r
        SELECT g.grain, date_trunc(g.grain, t.created_at, 'UTC'), t.duration_ms / 100, sum(x.sign),
               sum(x.sign * (t.status = 'succeeded')::int), sum(x.sign * (t.status = 'failed')::int),
               sum(x.sign * (t.status = 'cancelled')::int), coalesce(sum(x.sign * t.duration_ms), 0)
        FROM (SELECT (e ->> 'sign')::int AS sign, e -> 'task' AS task FROM jsonb_array_elements(changes) AS e) AS x,
             jsonb_populate_record(NULL::ai_agent_tasks, x.task) AS t,
             (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (grain, bucket, band) DO UPDATE SET
            tasks = r.tasks + excluded.tasks, succeeded = r.succeeded + excluded.succeeded,
            failed = r.failed + excluded.failed, cancelled = r.cancelled + excluded.cancelled,
            duration_sum = r.duration_sum + excluded.duration_sum;
        DELETE FROM support_task_detail_rollup WHERE tasks = 0;
$$;

-- ------------------------------------------------------------------------------------------------ distinct tickets
-- A row per ticket with tasks instead of a row per task: its first and last task's start. Distinct tickets with a
-- task in [s, e) = tickets whose first task is in it (support_first_task_rollup) + tickets whose first task is
-- before s and last at or after s (their span holds s) that have a task in it. Spans shorter than a day are found
-- by their first task in [s - 1 day, s), longer ones (rare: a ticket's tasks take minutes) by their own index.
DROP TABLE support_task_gaps;
CREATE TABLE support_task_spans (
    ticket_id bigint PRIMARY KEY,
    first_at  timestamptz NOT NULL,
    last_at   timestamptz NOT NULL
);
CREATE INDEX support_task_spans_first_idx ON support_task_spans (first_at) INCLUDE (last_at, ticket_id);
CREATE INDEX support_task_spans_long_idx ON support_task_spans (last_at) WHERE last_at - first_at >= interval '1 day';

CREATE OR REPLACE FUNCTION support_task_chains_refresh(tickets bigint[]) RETURNS void
    LANGUAGE sql
    AS $$
        INSERT INTO support_first_task_rollup AS r
        SELECT g.grain, date_trunc(g.grain, f.first_at, 'UTC'), sum(f.sign)
        FROM (SELECT -1 AS sign, first_at FROM support_task_spans WHERE ticket_id = ANY (tickets)
              UNION ALL
              SELECT 1, min(created_at) FROM ai_agent_tasks WHERE ticket_id = ANY (tickets) GROUP BY ticket_id) AS f
             CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (grain, bucket) DO UPDATE SET tickets = r.tickets + excluded.tickets;
        DELETE FROM support_first_task_rollup WHERE tickets = 0;
        DELETE FROM support_task_spans WHERE ticket_id = ANY (tickets);
        INSERT INTO support_task_spans
        SELECT ticket_id, min(created_at), max(created_at) FROM ai_agent_tasks WHERE ticket_id = ANY (tickets)
        GROUP BY ticket_id;
$$;

CREATE OR REPLACE FUNCTION support_task_ticket_window(window_start timestamptz, window_end timestamptz)
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
            + (SELECT count(*) FROM support_task_spans f
               WHERE (f.first_at >= window_start AND f.first_at < b.h0)
                  OR (f.first_at >= b.h1 AND f.first_at < window_end))
            + (SELECT count(*) FROM (
                   SELECT f.ticket_id FROM support_task_spans f
                   WHERE f.first_at >= window_start - interval '1 day' AND f.first_at < window_start
                     AND f.last_at >= window_start AND f.last_at - f.first_at < interval '1 day'
                   UNION ALL
                   SELECT f.ticket_id FROM support_task_spans f
                   WHERE f.last_at - f.first_at >= interval '1 day' AND f.last_at >= window_start
                     AND f.first_at < window_start) AS straddling
               -- A subquery per candidate (there are few), not a join with every task of the period.
               WHERE (SELECT true FROM ai_agent_tasks t WHERE t.ticket_id = straddling.ticket_id
                                                        AND t.created_at >= window_start
                                                        AND t.created_at < window_end LIMIT 1)))::bigint;
END
$$;

CREATE OR REPLACE FUNCTION support_task_rollups_rebuild() RETURNS void
    LANGUAGE sql
    SET work_mem = '256MB'
    AS $$
        DELETE FROM support_task_detail_rollup;
        INSERT INTO support_task_detail_rollup
        SELECT g.grain, date_trunc(g.grain, t.created_at, 'UTC'), t.duration_ms / 100, count(*),
               count(*) FILTER (WHERE t.status = 'succeeded'), count(*) FILTER (WHERE t.status = 'failed'),
               count(*) FILTER (WHERE t.status = 'cancelled'), coalesce(sum(t.duration_ms), 0)
        FROM ai_agent_tasks t CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2, 3;
        DELETE FROM support_task_spans;
        INSERT INTO support_task_spans
        SELECT ticket_id, min(created_at), max(created_at) FROM ai_agent_tasks GROUP BY ticket_id;
        DELETE FROM support_first_task_rollup;
        INSERT INTO support_first_task_rollup
        SELECT g.grain, date_trunc(g.grain, f.first_at, 'UTC'), count(*)
        FROM support_task_spans f CROSS JOIN (VALUES ('hour'), ('day')) AS g (grain)
        GROUP BY 1, 2;
$$;

-- ------------------------------------------------------------------------------------------------ response times
-- The histogram of a 90-day period is ~35,000 rows: read from an index that holds them (an index-only scan).
CREATE INDEX support_response_rollup_cover ON support_response_rollup (grain, bucket) INCLUDE (handled_by, band, tickets);

CREATE OR REPLACE FUNCTION support_response_percentiles(window_start timestamptz, window_end timestamptz, fractions float8[])
    RETURNS TABLE (handled_by text, answered bigint, fraction float8, seconds float8)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    b record;
BEGIN
    SELECT * INTO b FROM support_window_bounds(window_start, window_end, false);
    RETURN QUERY
    WITH pieces AS (
        -- One index range per piece (an OR of them would be a bitmap scan of the table, not an index-only scan).
        SELECT r.handled_by, r.band, r.tickets FROM support_response_rollup r
        WHERE r.grain = 'day' AND r.bucket >= b.d0 AND r.bucket < b.d1
        UNION ALL
        SELECT r.handled_by, r.band, r.tickets FROM support_response_rollup r
        WHERE r.grain = 'hour' AND r.bucket >= b.h0 AND r.bucket < b.d0
        UNION ALL
        SELECT r.handled_by, r.band, r.tickets FROM support_response_rollup r
        WHERE r.grain = 'hour' AND r.bucket >= b.d1 AND r.bucket < b.h1
        UNION ALL
        SELECT s.handled_by, support_response_band(s.first_response_at, s.created_at), count(*)
        FROM support_threads_data s
        WHERE s.first_response_at IS NOT NULL
          AND ((s.created_at >= window_start AND s.created_at < b.h0)
               OR (s.created_at >= b.h1 AND s.created_at < window_end))
        GROUP BY 1, 2
    ), bands AS (
        SELECT p.handled_by, p.band, sum(p.tickets)::bigint AS n FROM pieces p GROUP BY 1, 2
    ), cumulative AS (
        SELECT d.handled_by, d.band, d.n,
               (sum(d.n) OVER (PARTITION BY d.handled_by ORDER BY d.band) - d.n)::bigint AS before,
               (sum(d.n) OVER (PARTITION BY d.handled_by))::bigint AS total
        FROM bands d
    ), wanted AS (
        SELECT DISTINCT c.handled_by, c.total, f.fraction, f.fraction * (c.total - 1)::float8 AS pos
        FROM cumulative c CROSS JOIN unnest(fractions) AS f (fraction)
    ), located AS (
        SELECT w.handled_by, w.total, w.fraction, w.pos, k.upper, c.band, k.rank - c.before AS offset_in_band
        FROM wanted w
        CROSS JOIN LATERAL (VALUES (floor(w.pos)::bigint, false), (ceil(w.pos)::bigint, true)) AS k (rank, upper)
        JOIN cumulative c ON c.handled_by = w.handled_by AND k.rank >= c.before AND k.rank < c.before + c.n
    ), band_values AS MATERIALIZED (
        -- Each band's times of the period read and sorted once, whichever ranks fall in it.
        SELECT l.handled_by, l.band, array_agg(v.seconds ORDER BY v.seconds) AS sorted
        FROM (SELECT DISTINCT handled_by, band FROM located) AS l
        CROSS JOIN LATERAL (
            SELECT extract(epoch FROM s.first_response_at - s.created_at)::float8 AS seconds
            FROM support_threads_data s
            WHERE s.handled_by = l.handled_by AND s.first_response_at IS NOT NULL
              AND support_response_band(s.first_response_at, s.created_at) = l.band
              AND s.created_at >= window_start AND s.created_at < window_end) AS v
        GROUP BY 1, 2
    ), ranked AS (
        SELECT l.handled_by, l.total, l.fraction, l.pos, l.upper, v.sorted[(l.offset_in_band + 1)::int] AS seconds
        FROM located l JOIN band_values v ON v.handled_by = l.handled_by AND v.band = l.band
    )
    -- float8_lerp: lo + (proportion x (hi - lo)), proportion = pos - first_row.
    SELECT r.handled_by, r.total, r.fraction,
           CASE WHEN ceil(r.pos) > floor(r.pos)
                THEN min(r.seconds) FILTER (WHERE NOT r.upper)
                     + ((r.pos - floor(r.pos)) * (min(r.seconds) FILTER (WHERE r.upper)
                                                  - min(r.seconds) FILTER (WHERE NOT r.upper)))
                ELSE min(r.seconds) FILTER (WHERE NOT r.upper) END
    FROM ranked r
    GROUP BY r.handled_by, r.total, r.fraction, r.pos;
END
$$;

-- ------------------------------------------------------------------------------------------------ in memory
ALTER FUNCTION support_rollups_rebuild() SET work_mem = '256MB';
ALTER FUNCTION support_detail_rollups_rebuild() SET work_mem = '256MB';
ALTER FUNCTION support_comparison_rollups_rebuild() SET work_mem = '256MB';

GRANT SELECT ON support_task_spans TO levhaolam_analytics;

SELECT support_task_rollups_rebuild();
