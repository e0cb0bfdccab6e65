-- description: Tickets handled by AI alone (handled_by = 'ai') in a period, out of answered tickets, optionally for one category.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
SELECT count(*) FILTER (WHERE handled_by = 'ai') AS ai_handled,
       count(handled_by) AS answered,
       round(100.0 * count(*) FILTER (WHERE handled_by = 'ai') / nullif(count(handled_by), 0), 1) AS ai_share_pct
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
  AND (%(category)s::text IS NULL OR category = %(category)s)
