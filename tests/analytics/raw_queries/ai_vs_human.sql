-- description: Who answered tickets in a period: AI alone, AI draft edited by a human, or a human.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar handled_by tickets
SELECT handled_by, count(*) AS tickets, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s AND handled_by IS NOT NULL
GROUP BY handled_by
ORDER BY tickets DESC
