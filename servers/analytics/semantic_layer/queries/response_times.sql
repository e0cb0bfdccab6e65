-- description: First response time in a period by who answered: median and 90th percentile, in minutes.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar handled_by median_minutes
-- From the response-time bands (migration 0015): the exact percentile_cont values, reading only the band of each rank.
SELECT handled_by,
       answered,
       round((min(seconds) FILTER (WHERE fraction = 0.5) / 60)::numeric, 2) AS median_minutes,
       round((min(seconds) FILTER (WHERE fraction = 0.9) / 60)::numeric, 2) AS p90_minutes
FROM support_response_percentiles(%(start)s, %(end)s, ARRAY[0.5, 0.9]::float8[])
GROUP BY handled_by, answered
ORDER BY median_minutes
