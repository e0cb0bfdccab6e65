-- description: Tickets per category in a period, with each category's share of the total.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar category tickets
SELECT category, count(*) AS tickets, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
GROUP BY category
ORDER BY tickets DESC, category
