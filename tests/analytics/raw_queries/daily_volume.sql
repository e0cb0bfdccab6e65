-- description: Tickets per day in a period, and how many of them AI handled alone.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: line day tickets
SELECT date_trunc('day', created_at)::date AS day, count(*) AS tickets,
       count(*) FILTER (WHERE handled_by = 'ai') AS ai_handled
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
GROUP BY 1
ORDER BY 1
