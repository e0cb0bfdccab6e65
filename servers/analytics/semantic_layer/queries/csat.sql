-- description: Customer satisfaction in a period: average rating (1-5) of rated tickets and how many were rated, optionally for one category.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
-- From the rollups (migration 0011): the average is the sum of ratings over their count, as avg() computes it.
SELECT round(sum(rating_sum)::numeric / nullif(sum(rated), 0), 2) AS avg_rating,
       coalesce(sum(rated), 0)::bigint AS rated, coalesce(sum(tickets), 0)::bigint AS tickets
FROM support_ticket_window(%(start)s, %(end)s)
WHERE (%(category)s::text IS NULL OR category = %(category)s)
