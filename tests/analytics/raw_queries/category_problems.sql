-- description: How problematic each category is in a period: escalation rate, share of low ratings (1-2), share of AI answers judged worse than the human's, and their sum as a problem score.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar category problem_score
WITH t AS (
    SELECT s.category,
           count(*) AS tickets,
           count(*) FILTER (WHERE s.handled_by = 'human')::numeric / nullif(count(s.handled_by), 0) AS escalation_rate,
           count(*) FILTER (WHERE s.rating <= 2)::numeric / nullif(count(s.rating), 0) AS low_rating_share,
           count(c.id) FILTER (WHERE c.verdict = 'human_better')::numeric / nullif(count(c.id), 0) AS human_better_share
    FROM support_threads_data s
    LEFT JOIN ai_human_comparison c ON c.ticket_id = s.id
    WHERE s.created_at >= %(start)s AND s.created_at < %(end)s
    GROUP BY s.category
)
SELECT category, tickets,
       round(100 * coalesce(escalation_rate, 0), 1) AS escalation_pct,
       round(100 * coalesce(low_rating_share, 0), 1) AS low_rating_pct,
       round(100 * coalesce(human_better_share, 0), 1) AS human_better_pct,
       round(100 * (coalesce(escalation_rate, 0) + coalesce(low_rating_share, 0) + coalesce(human_better_share, 0)), 1)
           AS problem_score
FROM t
ORDER BY problem_score DESC, tickets DESC
