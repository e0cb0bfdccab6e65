-- description: AI answers compared with the human's for the tickets where both exist (tickets a human touched), by when the ticket arrived, for all (one row labelled 'all') or a row per group: the reviewer's verdicts (ai_better, equivalent, human_better), their shares, and text similarity (1.0 = the human sent the AI answer unchanged). Filters are bit masks (0 = no filter).
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: by int = 0 | Group by: 0 nothing, 1 category, 2 verdict, 3 handled_by
-- param: categories int = 0 | Category in: 1 general_question, 2 shipping_inquiry, 4 change_address, 8 change_frequency, 16 skip_month, 32 damaged_item, 64 payment_issue, 128 pause_subscription, 256 cancel_subscription, 512 other
-- param: verdicts int = 0 | Verdict in: 1 ai_better, 2 equivalent, 4 human_better
-- chart: bar label compared
WITH picked AS (
    SELECT c.*, s.handled_by,
           CASE %(by)s::int
               WHEN 1 THEN c.category::text
               WHEN 2 THEN c.verdict
               WHEN 3 THEN coalesce(s.handled_by, 'unanswered')
               ELSE 'all'
           END AS label
    FROM ai_human_comparison c
    JOIN support_threads_data s ON s.id = c.ticket_id
    WHERE s.created_at >= %(start)s AND s.created_at < %(end)s
      AND (%(categories)s::bigint = 0 OR %(categories)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], c.category::text) - 1)) <> 0)
      AND (%(verdicts)s::bigint = 0 OR %(verdicts)s::bigint & (1::bigint << (array_position(ARRAY[
          'ai_better', 'equivalent', 'human_better'], c.verdict) - 1)) <> 0)
)
SELECT CASE WHEN grouping(label) = 1 THEN 'all' ELSE label END AS label,
       count(*) AS compared,
       round(100.0 * count(*) / nullif(sum(count(*)) OVER (), 0), 1) AS share_pct,
       count(*) FILTER (WHERE verdict = 'ai_better') AS ai_better,
       count(*) FILTER (WHERE verdict = 'equivalent') AS equivalent,
       count(*) FILTER (WHERE verdict = 'human_better') AS human_better,
       round(100.0 * count(*) FILTER (WHERE verdict = 'ai_better') / nullif(count(*), 0), 1) AS ai_better_pct,
       round(100.0 * count(*) FILTER (WHERE verdict = 'equivalent') / nullif(count(*), 0), 1) AS equivalent_pct,
       round(100.0 * count(*) FILTER (WHERE verdict = 'human_better') / nullif(count(*), 0), 1) AS human_better_pct,
       round(avg(similarity)::numeric, 3) AS avg_similarity,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY similarity))::numeric, 3) AS median_similarity,
       count(*) FILTER (WHERE similarity >= 1) AS unchanged
FROM picked
-- The empty grouping set gives the one row of totals, 0 for counts even when nothing matches.
GROUP BY GROUPING SETS ((label), ())
HAVING (grouping(label) = 1) = (%(by)s::int = 0)
ORDER BY compared DESC, label
