-- description: How problematic each category is in a period: escalation rate, share of low ratings (1-2), share of AI answers judged worse than the human's, and their sum as a problem score.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar category problem_score
-- From the rollups (migration 0011), which count each ticket's comparison verdict with the ticket.
WITH t AS (
    SELECT category,
           sum(tickets)::bigint AS tickets,
           sum(human_handled)::numeric / nullif(sum(answered), 0) AS escalation_rate,
           sum(low_rated)::numeric / nullif(sum(rated), 0) AS low_rating_share,
           sum(human_better)::numeric / nullif(sum(compared), 0) AS human_better_share
    FROM support_ticket_window(%(start)s, %(end)s)
    GROUP BY category
)
SELECT category, tickets,
       round(100 * coalesce(escalation_rate, 0), 1) AS escalation_pct,
       round(100 * coalesce(low_rating_share, 0), 1) AS low_rating_pct,
       round(100 * coalesce(human_better_share, 0), 1) AS human_better_pct,
       round(100 * (coalesce(escalation_rate, 0) + coalesce(low_rating_share, 0) + coalesce(human_better_share, 0)), 1)
           AS problem_score
FROM t
ORDER BY problem_score DESC, tickets DESC
