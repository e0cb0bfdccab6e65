-- description: Number of tickets received in a period, optionally for one category and/or channel.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
-- param: channel channel = null | Only this channel
-- From the rollups (migration 0011): whole days and hours pre-counted, the raw tickets only at the window's edges.
SELECT coalesce(sum(tickets), 0)::bigint AS tickets
FROM support_ticket_window(%(start)s, %(end)s)
WHERE (%(category)s::text IS NULL OR category = %(category)s)
  AND (%(channel)s::text IS NULL OR channel = %(channel)s)
