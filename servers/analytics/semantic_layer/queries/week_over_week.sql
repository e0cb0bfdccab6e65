-- description: This week so far against the same days of last week: tickets, AI-handled tickets, and the change in percent.
-- param: now timestamptz | The current time
-- chart: bar metric this_week
-- From the rollups (migration 0011): this week so far, and the same stretch of last week, as two windows.
WITH this_week AS (
    SELECT coalesce(sum(tickets), 0)::bigint AS tickets, coalesce(sum(ai_handled), 0)::bigint AS ai
    FROM support_ticket_window(date_trunc('week', %(now)s::timestamptz), %(now)s::timestamptz)
), last_week AS (
    SELECT coalesce(sum(tickets), 0)::bigint AS tickets, coalesce(sum(ai_handled), 0)::bigint AS ai
    FROM support_ticket_window(date_trunc('week', %(now)s::timestamptz) - interval '7 days',
                               %(now)s::timestamptz - interval '7 days')
)
SELECT 'tickets' AS metric, t.tickets AS this_week, l.tickets AS last_week,
       round(100.0 * (t.tickets - l.tickets) / nullif(l.tickets, 0), 1) AS change_pct FROM this_week t, last_week l
UNION ALL
SELECT 'ai_handled', t.ai, l.ai, round(100.0 * (t.ai - l.ai) / nullif(l.ai, 0), 1) FROM this_week t, last_week l
