-- description: Model cost of AI answers in a period, per model, in US dollars, with the cost per answer.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar ai_model cost_usd
-- From the rollups (migration 0011): sums and counts of costs, so the average is avg()'s own sum / count.
SELECT ai_model, sum(tickets)::bigint AS answers,
       round(CASE WHEN sum(cost_count) > 0 THEN sum(cost_sum) END, 2) AS cost_usd,
       round(sum(cost_sum) / nullif(sum(cost_count), 0), 4) AS cost_per_answer_usd
FROM support_ticket_window(%(start)s, %(end)s)
WHERE ai_model IS NOT NULL
GROUP BY ai_model
ORDER BY cost_usd DESC
