-- description: Who answered tickets in a period: AI alone, AI draft edited by a human, or a human.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar handled_by tickets
-- From the rollups (migration 0011): one count per kind of handler, a row for each that handled any ticket.
SELECT v.handled_by, v.tickets, round(100.0 * v.tickets / sum(v.tickets) OVER (), 1) AS share_pct
FROM (SELECT sum(ai_handled)::bigint AS ai, sum(ai_edited)::bigint AS ai_edited, sum(human_handled)::bigint AS human
      FROM support_ticket_window(%(start)s, %(end)s)) AS w
CROSS JOIN LATERAL (VALUES ('ai', w.ai), ('ai_edited', w.ai_edited), ('human', w.human)) AS v (handled_by, tickets)
WHERE v.tickets > 0
ORDER BY tickets DESC
