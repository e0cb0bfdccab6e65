-- description: AI agent tasks (the actions the AI took while handling tickets: identify_customer, track_shipment, create_damage_claim, handoff, ...) in a period by when they started, for all tasks (one row labelled 'all') or a row per group: how many ran, succeeded, failed or were cancelled, the failure rate (failed / finished), durations and tickets. A filter is a set of values written as a bit mask (0 = no filter); the bits follow the order of the values listed with it.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: by int = 0 | Group by: 0 nothing, 1 task_type, 2 category, 3 status, 4 error kind, 5 day (UTC)
-- param: task_types int = 0 | task_type in: 1 identify_customer, 2 track_shipment, 4 pause_subscription, 8 resume_subscription, 16 skip_month, 32 change_frequency, 64 change_address, 128 create_damage_claim, 256 request_photos, 512 propose_resolution, 1024 create_cancel_link, 2048 cancel_subscription, 4096 report_missing_package, 8192 search_knowledge, 16384 handoff
-- param: statuses int = 0 | status in: 1 pending, 2 running, 4 succeeded, 8 failed, 16 cancelled
-- param: categories int = 0 | Ticket category in: 1 general_question, 2 shipping_inquiry, 4 change_address, 8 change_frequency, 16 skip_month, 32 damaged_item, 64 payment_issue, 128 pause_subscription, 256 cancel_subscription, 512 other
-- param: errors int = 0 | Kind of error (failed tasks): 1 carrier_timeout, 2 customer_not_identified, 4 policy_violation, 8 confirmation_expired, 16 another error
-- chart: bar label tasks
-- All tasks, unfiltered: from the task rollups (migrations 0017, 0019): status counts and duration sums per duration
-- band (100 ms), the exact median from the band of its rank and that band's exact durations (an index range), and
-- the distinct tickets from the tickets' first tasks plus those with a task before the period and one in it.
-- Grouped or filtered: from the raw table.
WITH picked AS (
    SELECT t.*,
           -- The error kinds the tools report (see the servers' error codes); anything else is 'other_error'.
           CASE WHEN t.error IS NULL THEN NULL
                WHEN t.error ILIKE '%%carrier%%time%%out%%' THEN 'carrier_timeout'
                WHEN t.error ILIKE '%%not identified%%' THEN 'customer_not_identified'
                WHEN t.error ILIKE 'policy_violation%%' THEN 'policy_violation'
                WHEN t.error ILIKE '%%confirmation%%expired%%' THEN 'confirmation_expired'
                ELSE 'other_error' END AS error_kind
    FROM ai_agent_tasks t
    WHERE t.created_at >= %(start)s AND t.created_at < %(end)s
      AND (%(task_types)s::bigint = 0 OR %(task_types)s::bigint & (1::bigint << (array_position(ARRAY[
          'identify_customer', 'track_shipment', 'pause_subscription', 'resume_subscription', 'skip_month',
          'change_frequency', 'change_address', 'create_damage_claim', 'request_photos', 'propose_resolution',
          'create_cancel_link', 'cancel_subscription', 'report_missing_package', 'search_knowledge', 'handoff'],
          t.task_type) - 1)) <> 0)
      AND (%(statuses)s::bigint = 0 OR %(statuses)s::bigint & (1::bigint << (array_position(ARRAY[
          'pending', 'running', 'succeeded', 'failed', 'cancelled'], t.status) - 1)) <> 0)
      AND (%(categories)s::bigint = 0 OR %(categories)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], t.category::text) - 1)) <> 0)
      -- Unfiltered and ungrouped, the rollups answer (below).
      AND NOT (%(by)s::int = 0 AND %(task_types)s::bigint = 0 AND %(statuses)s::bigint = 0
               AND %(categories)s::bigint = 0 AND %(errors)s::bigint = 0)
), labelled AS (
    SELECT picked.*,
           CASE %(by)s::int
               WHEN 1 THEN task_type
               WHEN 2 THEN category::text
               WHEN 3 THEN status
               WHEN 4 THEN coalesce(error_kind, 'no_error')
               WHEN 5 THEN to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
               ELSE 'all'
           END AS label
    FROM picked
    WHERE %(errors)s::bigint = 0 OR %(errors)s::bigint & (1::bigint << (array_position(ARRAY[
          'carrier_timeout', 'customer_not_identified', 'policy_violation', 'confirmation_expired', 'other_error'],
          error_kind) - 1)) <> 0
), rolled AS (
    SELECT w.* FROM support_task_detail_window(%(start)s, %(end)s) w
    WHERE %(by)s::int = 0 AND %(task_types)s::bigint = 0 AND %(statuses)s::bigint = 0 AND %(categories)s::bigint = 0
          AND %(errors)s::bigint = 0
), cumulative AS (
    SELECT band, n, sum(n) OVER (ORDER BY band) - n AS before, sum(n) OVER () AS total
    FROM (SELECT band, sum(tasks) AS n FROM rolled WHERE band IS NOT NULL GROUP BY band) AS b
), located AS (
    -- percentile_cont(0.5): the values at ranks floor and ceil of 0.5 x (n - 1), counted from 0, in their bands.
    SELECT p.pos, k.upper, c.band, k.rank - c.before AS offset_in_band
    FROM (SELECT DISTINCT total, 0.5::float8 * (total - 1)::float8 AS pos FROM cumulative) AS p
    CROSS JOIN LATERAL (VALUES (floor(p.pos), false), (ceil(p.pos), true)) AS k (rank, upper)
    JOIN cumulative c ON k.rank >= c.before AND k.rank < c.before + c.n
), band_values AS MATERIALIZED (  -- each band read once
    SELECT b.band, f.duration_ms, sum(sum(f.tasks)) OVER (PARTITION BY b.band ORDER BY f.duration_ms) AS upto
    FROM (SELECT DISTINCT band FROM located) AS b
    CROSS JOIN LATERAL support_task_duration_window(%(start)s, %(end)s, b.band) AS f
    GROUP BY b.band, f.duration_ms
), ranks AS (
    SELECT l.pos, l.upper, (SELECT v.duration_ms::float8 FROM band_values v
                            WHERE v.band = l.band AND v.upto > l.offset_in_band
                            ORDER BY v.duration_ms LIMIT 1) AS value
    FROM located l
), median AS (
    -- float8_lerp: lo + (proportion x (hi - lo)).
    SELECT CASE WHEN ceil(pos) > floor(pos)
                THEN min(value) FILTER (WHERE NOT upper)
                     + ((pos - floor(pos)) * (min(value) FILTER (WHERE upper) - min(value) FILTER (WHERE NOT upper)))
                ELSE min(value) FILTER (WHERE NOT upper) END AS value
    FROM ranks GROUP BY pos
), totals AS (
    SELECT coalesce(sum(tasks), 0)::bigint AS tasks, coalesce(sum(succeeded), 0)::bigint AS succeeded,
           coalesce(sum(failed), 0)::bigint AS failed, coalesce(sum(cancelled), 0)::bigint AS cancelled,
           sum(tasks) FILTER (WHERE band IS NOT NULL) AS durations, sum(duration_sum) AS duration_sum
    FROM rolled
    -- (An aggregate without GROUP BY has a row even with no input: only the branch that answers keeps it.)
    HAVING %(by)s::int = 0 AND %(task_types)s::bigint = 0 AND %(statuses)s::bigint = 0 AND %(categories)s::bigint = 0
          AND %(errors)s::bigint = 0
)
SELECT 'all' AS label, t.tasks,
       round(100.0 * t.tasks / nullif(t.tasks, 0), 1) AS share_pct,
       t.succeeded, t.failed, t.cancelled, t.tasks - t.succeeded - t.failed - t.cancelled AS unfinished,
       round(100.0 * t.failed / nullif(t.succeeded + t.failed + t.cancelled, 0), 1) AS failure_pct,
       round(100.0 * t.succeeded / nullif(t.succeeded + t.failed + t.cancelled, 0), 1) AS success_pct,
       round(t.duration_sum / nullif(t.durations, 0)) AS avg_duration_ms,
       round((SELECT value FROM median)::numeric) AS median_duration_ms,
       k.tickets,
       round(t.tasks::numeric / nullif(k.tickets, 0), 2) AS tasks_per_ticket
FROM totals t CROSS JOIN support_task_ticket_window(%(start)s, %(end)s) k
UNION ALL
(SELECT CASE WHEN grouping(label) = 1 THEN 'all' ELSE label END AS label,
       count(*) AS tasks,
       round(100.0 * count(*) / nullif(sum(count(*)) OVER (), 0), 1) AS share_pct,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status IN ('pending', 'running')) AS unfinished,
       -- The documented failure rate: failed / finished (succeeded + failed + cancelled).
       round(100.0 * count(*) FILTER (WHERE status = 'failed')
             / nullif(count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled')), 0), 1) AS failure_pct,
       round(100.0 * count(*) FILTER (WHERE status = 'succeeded')
             / nullif(count(*) FILTER (WHERE status IN ('succeeded', 'failed', 'cancelled')), 0), 1) AS success_pct,
       round(avg(duration_ms)) AS avg_duration_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms))::numeric) AS median_duration_ms,
       count(DISTINCT ticket_id) AS tickets,
       round(count(*)::numeric / nullif(count(DISTINCT ticket_id), 0), 2) AS tasks_per_ticket
FROM labelled
-- The empty grouping set gives the one row of totals, 0 for counts even when no task matches.
GROUP BY GROUPING SETS ((label), ())
HAVING (grouping(label) = 1) = (%(by)s::int = 0)
   AND NOT (%(by)s::int = 0 AND %(task_types)s::bigint = 0 AND %(statuses)s::bigint = 0 AND %(categories)s::bigint = 0
            AND %(errors)s::bigint = 0))
ORDER BY tasks DESC, label
