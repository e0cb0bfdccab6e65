-- description: Tickets per channel (email, web_widget, whatsapp, ...) in a period, with shares.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar channel tickets
SELECT channel, count(*) AS tickets, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share_pct
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
GROUP BY channel
ORDER BY tickets DESC, channel
