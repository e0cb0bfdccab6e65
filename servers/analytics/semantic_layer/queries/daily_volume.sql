-- description: Tickets per day in a period, and how many of them AI handled alone.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: line day tickets
-- From the rollups (migration 0011), in pieces that never straddle a midnight of the session's time zone.
SELECT date_trunc('day', bucket)::date AS day, sum(tickets)::bigint AS tickets, sum(ai_handled)::bigint AS ai_handled
FROM support_ticket_window(%(start)s, %(end)s, local_days => true)
GROUP BY 1
ORDER BY 1
