-- description: Model cost of AI answers in a period, per model, in US dollars, with the cost per answer.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar ai_model cost_usd
SELECT ai_model, count(*) AS answers, round(sum(ai_cost_usd), 2) AS cost_usd,
       round(avg(ai_cost_usd), 4) AS cost_per_answer_usd
FROM support_threads_data
WHERE created_at >= %(start)s AND created_at < %(end)s AND ai_model IS NOT NULL
GROUP BY ai_model
ORDER BY cost_usd DESC
