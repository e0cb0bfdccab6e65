-- description: First response time in a period by who answered: median and 90th percentile, in minutes.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar handled_by median_minutes
SELECT handled_by,
       count(*) AS answered,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)) / 60)::numeric, 2) AS median_minutes,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at - created_at)) / 60)::numeric, 2) AS p90_minutes
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s AND first_response_at IS NOT NULL
GROUP BY handled_by
ORDER BY median_minutes
