-- description: This week so far against the same days of last week: tickets, AI-handled tickets, and the change in percent.
-- param: now timestamptz | The current time
-- chart: bar metric this_week
WITH weeks AS (
    SELECT count(*) FILTER (WHERE created_at >= date_trunc('week', %(now)s::timestamptz)) AS this_tickets,
           count(*) FILTER (WHERE created_at < %(now)s::timestamptz - interval '7 days') AS last_tickets,
           count(*) FILTER (WHERE handled_by = 'ai'
                            AND created_at >= date_trunc('week', %(now)s::timestamptz)) AS this_ai,
           count(*) FILTER (WHERE handled_by = 'ai'
                            AND created_at < %(now)s::timestamptz - interval '7 days') AS last_ai
    FROM support_threads_data
    -- Literal bounds (not from a CTE) so the created_at index narrows the scan to the two weeks.
    WHERE (created_at >= date_trunc('week', %(now)s::timestamptz) AND created_at < %(now)s::timestamptz)
       OR (created_at >= date_trunc('week', %(now)s::timestamptz) - interval '7 days'
           AND created_at < %(now)s::timestamptz - interval '7 days')
)
SELECT 'tickets' AS metric, this_tickets AS this_week, last_tickets AS last_week,
       round(100.0 * (this_tickets - last_tickets) / nullif(last_tickets, 0), 1) AS change_pct FROM weeks
UNION ALL
SELECT 'ai_handled', this_ai, last_ai, round(100.0 * (this_ai - last_ai) / nullif(last_ai, 0), 1) FROM weeks
