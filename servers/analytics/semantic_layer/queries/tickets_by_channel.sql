-- description: Tickets per channel (email, web_widget, whatsapp, ...) in a period, with shares.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar channel tickets
-- From the rollups (migration 0011).
SELECT channel, sum(tickets)::bigint AS tickets, round(100.0 * sum(tickets) / sum(sum(tickets)) OVER (), 1) AS share_pct
FROM support_ticket_window(%(start)s, %(end)s)
GROUP BY channel
ORDER BY tickets DESC, channel
