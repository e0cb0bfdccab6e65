-- description: Tickets handled by AI alone (handled_by = 'ai') in a period, out of answered tickets, optionally for one category.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
-- From the rollups (migration 0011).
SELECT coalesce(sum(ai_handled), 0)::bigint AS ai_handled,
       coalesce(sum(answered), 0)::bigint AS answered,
       round(100.0 * sum(ai_handled) / nullif(sum(answered), 0), 1) AS ai_share_pct
FROM support_ticket_window(%(start)s, %(end)s)
WHERE (%(category)s::text IS NULL OR category = %(category)s)
