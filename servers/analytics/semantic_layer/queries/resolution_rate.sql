-- description: Resolution rate = drafts created / AI answered (business rule), in a period, optionally for one category.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
-- From the rollups (migration 0011).
SELECT coalesce(sum(ai_answered), 0)::bigint AS ai_answered,
       coalesce(sum(drafts), 0)::bigint AS drafts_created,
       round(100.0 * sum(drafts) / nullif(sum(ai_answered), 0), 1) AS resolution_rate_pct
FROM support_ticket_window(%(start)s, %(end)s)
WHERE (%(category)s::text IS NULL OR category = %(category)s)
