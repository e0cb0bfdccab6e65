-- description: Customer satisfaction in a period: average rating (1-5) of rated tickets and how many were rated, optionally for one category.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: category category = null | Only this category
SELECT round(avg(rating), 2) AS avg_rating, count(rating) AS rated, count(*) AS tickets
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s
  AND (%(category)s::text IS NULL OR category = %(category)s)
