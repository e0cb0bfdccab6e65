-- description: Tickets per category in a period, with each category's share of the total.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar category tickets
-- From the rollups (migration 0011).
SELECT category, sum(tickets)::bigint AS tickets, round(100.0 * sum(tickets) / sum(sum(tickets)) OVER (), 1) AS share_pct
FROM support_ticket_window(%(start)s, %(end)s)
GROUP BY category
ORDER BY tickets DESC, category
