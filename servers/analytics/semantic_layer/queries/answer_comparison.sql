-- description: AI answers compared with the human's for the tickets where both exist (tickets a human touched), by when the ticket arrived, for all (one row labelled 'all') or a row per group: the reviewer's verdicts (ai_better, equivalent, human_better), their shares, and text similarity (1.0 = the human sent the AI answer unchanged). Filters are bit masks (0 = no filter).
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: by int = 0 | Group by: 0 nothing, 1 category, 2 verdict, 3 handled_by
-- param: categories int = 0 | Category in: 1 general_question, 2 shipping_inquiry, 4 change_address, 8 change_frequency, 16 skip_month, 32 damaged_item, 64 payment_issue, 128 pause_subscription, 256 cancel_subscription, 512 other
-- param: verdicts int = 0 | Verdict in: 1 ai_better, 2 equivalent, 4 human_better
-- chart: bar label compared
-- From the comparison rollups (migration 0016), which hold verdict and handler but not category: grouped or filtered
-- by category, from the raw tables. The median: the 0.01-wide similarity bands give the band of each rank, the
-- band's exact similarities (support_similarity_window) its value, interpolated as percentile_cont does.
WITH rolled AS (
    SELECT w.*,
           CASE %(by)s::int WHEN 2 THEN w.verdict WHEN 3 THEN coalesce(w.handled_by, 'unanswered') ELSE 'all' END
               AS label
    FROM support_comparison_window(%(start)s, %(end)s) w
    WHERE %(categories)s::bigint = 0 AND %(by)s::int <> 1
      AND (%(verdicts)s::bigint = 0 OR %(verdicts)s::bigint & (1::bigint << (array_position(ARRAY[
          'ai_better', 'equivalent', 'human_better'], w.verdict) - 1)) <> 0)
), cumulative AS (
    SELECT label, band, n, sum(n) OVER (PARTITION BY label ORDER BY band) - n AS before,
           sum(n) OVER (PARTITION BY label) AS total
    FROM (SELECT label, band, sum(compared) AS n FROM rolled GROUP BY label, band) AS b
), located AS (
    -- percentile_cont(0.5): the values at ranks floor and ceil of 0.5 x (n - 1), counted from 0, in their bands.
    SELECT c.label, p.pos, k.upper, c.band, k.rank - c.before AS offset_in_band
    FROM (SELECT DISTINCT label, total, 0.5::float8 * (total - 1)::float8 AS pos FROM cumulative) AS p
    CROSS JOIN LATERAL (VALUES (floor(p.pos), false), (ceil(p.pos), true)) AS k (rank, upper)
    JOIN cumulative c ON c.label = p.label AND k.rank >= c.before AND k.rank < c.before + c.n
), band_values AS MATERIALIZED (  -- each band read once
    SELECT l.label, b.band, f.similarity,
           sum(sum(f.compared)) OVER (PARTITION BY l.label, b.band ORDER BY f.similarity) AS upto
    FROM (SELECT DISTINCT band FROM located) AS b
    CROSS JOIN LATERAL support_similarity_window(%(start)s, %(end)s, b.band) AS f
    JOIN (SELECT DISTINCT verdict, handled_by, label FROM rolled) AS l
      ON l.verdict = f.verdict AND l.handled_by IS NOT DISTINCT FROM f.handled_by
    GROUP BY l.label, b.band, f.similarity
), ranks AS (
    SELECT l.label, l.pos, l.upper, (SELECT v.similarity::float8 FROM band_values v
                                     WHERE v.label = l.label AND v.band = l.band AND v.upto > l.offset_in_band
                                     ORDER BY v.similarity LIMIT 1) AS value
    FROM located l
), medians AS (
    -- float8_lerp: lo + (proportion x (hi - lo)).
    SELECT label, CASE WHEN ceil(pos) > floor(pos)
                       THEN min(value) FILTER (WHERE NOT upper)
                            + ((pos - floor(pos)) * (min(value) FILTER (WHERE upper) - min(value) FILTER (WHERE NOT upper)))
                       ELSE min(value) FILTER (WHERE NOT upper) END AS median
    FROM ranks GROUP BY label, pos
), totals AS (
    SELECT CASE WHEN grouping(label) = 1 THEN 'all' ELSE label END AS label,
           coalesce(sum(compared), 0)::bigint AS compared,
           coalesce(sum(compared) FILTER (WHERE verdict = 'ai_better'), 0)::bigint AS ai_better,
           coalesce(sum(compared) FILTER (WHERE verdict = 'equivalent'), 0)::bigint AS equivalent,
           coalesce(sum(compared) FILTER (WHERE verdict = 'human_better'), 0)::bigint AS human_better,
           sum(similarity_sum) / nullif(sum(compared), 0)::float8 AS avg_similarity,
           coalesce(sum(unchanged), 0)::bigint AS unchanged
    FROM rolled
    GROUP BY GROUPING SETS ((label), ())
    -- (The empty grouping set has a row even with no input: only the branch that answers keeps it.)
    HAVING (grouping(label) = 1) = (%(by)s::int = 0) AND %(categories)s::bigint = 0 AND %(by)s::int <> 1
), raw_picked AS (
    SELECT c.*, s.handled_by,
           CASE %(by)s::int
               WHEN 1 THEN c.category::text
               WHEN 2 THEN c.verdict
               WHEN 3 THEN coalesce(s.handled_by, 'unanswered')
               ELSE 'all'
           END AS label
    FROM ai_human_comparison c
    JOIN support_threads_data s ON s.id = c.ticket_id
    WHERE NOT (%(categories)s::bigint = 0 AND %(by)s::int <> 1)
      AND s.created_at >= %(start)s AND s.created_at < %(end)s
      AND (%(categories)s::bigint = 0 OR %(categories)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], c.category::text) - 1)) <> 0)
      AND (%(verdicts)s::bigint = 0 OR %(verdicts)s::bigint & (1::bigint << (array_position(ARRAY[
          'ai_better', 'equivalent', 'human_better'], c.verdict) - 1)) <> 0)
)
SELECT t.label, t.compared,
       round(100.0 * t.compared / nullif(sum(t.compared) OVER (), 0), 1) AS share_pct,
       t.ai_better, t.equivalent, t.human_better,
       round(100.0 * t.ai_better / nullif(t.compared, 0), 1) AS ai_better_pct,
       round(100.0 * t.equivalent / nullif(t.compared, 0), 1) AS equivalent_pct,
       round(100.0 * t.human_better / nullif(t.compared, 0), 1) AS human_better_pct,
       round(t.avg_similarity::numeric, 3) AS avg_similarity,
       round(m.median::numeric, 3) AS median_similarity,
       t.unchanged
FROM totals t LEFT JOIN medians m ON m.label = t.label
UNION ALL
(SELECT CASE WHEN grouping(label) = 1 THEN 'all' ELSE label END AS label,
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
FROM raw_picked
-- The empty grouping set gives the one row of totals, 0 for counts even when nothing matches.
GROUP BY GROUPING SETS ((label), ())
HAVING (grouping(label) = 1) = (%(by)s::int = 0) AND NOT (%(categories)s::bigint = 0 AND %(by)s::int <> 1))
ORDER BY compared DESC, label
