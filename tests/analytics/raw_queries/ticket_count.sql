-- description: Number of tickets received in a period, optionally for one category and/or channel.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
-- param: channel channel = null | Only this channel
SELECT count(*) AS tickets
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
  AND (%(category)s::text IS NULL OR category = %(category)s)
  AND (%(channel)s::text IS NULL OR channel = %(channel)s)
