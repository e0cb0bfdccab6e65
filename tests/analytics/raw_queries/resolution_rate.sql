-- description: Resolution rate = drafts created / AI answered (business rule), in a period, optionally for one category.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
SELECT count(ai_answered_at) AS ai_answered,
       count(draft_created_at) AS drafts_created,
       round(100.0 * count(draft_created_at) / nullif(count(ai_answered_at), 0), 1) AS resolution_rate_pct
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
  AND (%(category)s::text IS NULL OR category = %(category)s)
