-- description: Ticket metrics in a period, for all tickets (one row labelled 'all') or a row per group, over the tickets that pass every filter: volume and share, who answered (AI alone, AI draft edited by a human, a human = escalation), AI answers and drafts (resolution rate), hand-offs, resolution, ratings, first response / resolution / AI answer times (in seconds), AI cost and customers. A filter is a set of values written as a bit mask (0 = no filter); the bits follow the order of the values listed with it.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: by int = 0 | Group by: 0 nothing, 1 category, 2 channel, 3 urgency, 4 language, 5 handled_by, 6 status, 7 day (UTC), 8 weekday, 9 rating, 10 ai_model, 11 week (Monday), 12 month, 13 hour of day (UTC)
-- param: categories int = 0 | Primary category in: 1 general_question, 2 shipping_inquiry, 4 change_address, 8 change_frequency, 16 skip_month, 32 damaged_item, 64 payment_issue, 128 pause_subscription, 256 cancel_subscription, 512 other
-- param: secondary int = 0 | Secondary category in (same bits as categories)
-- param: channels int = 0 | Channel in: 1 email, 2 web_widget, 4 whatsapp, 8 facebook, 16 telegram, 32 sms, 64 api
-- param: urgencies int = 0 | Urgency in: 1 low, 2 medium, 4 high, 8 critical
-- param: languages int = 0 | Language in: 1 en, 2 de, 4 he, 8 fr, 16 es, 32 ru, 64 nl, 128 pl, 256 it, 512 pt, 1024 uk, 2048 ar, 4096 ja, 8192 zh, 16384 ko, 32768 tr, 65536 sv, 131072 da, 262144 no, 524288 fi, 1048576 cs, 2097152 hu, 4194304 el, 8388608 ro, 16777216 yi
-- param: not_languages int = 0 | Language not in (same bits as languages)
-- param: statuses int = 0 | Status in: 1 new, 2 ai_answered, 4 draft_created, 8 sent, 16 escalated, 32 closed
-- param: handled int = 0 | handled_by in: 1 ai (AI alone), 2 ai_edited, 4 human, 8 not answered yet
-- param: weekdays int = 0 | Arrived on (UTC): 1 Monday, 2 Tuesday, 4 Wednesday, 8 Thursday, 16 Friday, 32 Saturday, 64 Sunday
-- param: models int = 0 | AI model in: 1 gpt-4o, 2 gpt-5.1, 4 gpt-5.2, 8 gpt-5-mini, 16 claude-sonnet-4.5, 32 claude-haiku-4.5, 64 another gpt-4*, 128 another gpt-5*, 256 another claude*, 512 another model, 1024 no AI model
-- param: rated int = 0 | 1 rated tickets only, 2 unrated only
-- param: min_rating int = 0 | Rated at least this (1-5; 0 = no filter)
-- param: max_rating int = 0 | Rated at most this (1-5; 0 = no filter)
-- param: ai_answer int = 0 | 1 tickets the AI wrote an answer for, 2 tickets it did not
-- param: customer int = 0 | 1 identified customers, 2 unknown senders
-- param: resolved_over_minutes int = 0 | Resolved, and it took more than this many minutes (0 = no filter)
-- param: resolved_within_minutes int = 0 | Resolved within this many minutes (0 = no filter)
-- param: response_over_minutes int = 0 | First response took more than this many minutes (0 = no filter)
-- param: response_within_minutes int = 0 | First response within this many minutes (0 = no filter)
-- chart: bar label tickets
-- With no filter, and no grouping or one by day, week or month, the figures come from the rollups of migration 0026
-- (support_ticket_metrics_window, once per day, week or month); anything else reads the raw tables. Both give the
-- same counts, sums, distinct customers and medians, rounded below in one place (tests/analytics/test_rollups.py).
WITH handoff_tickets AS (
    -- A hand-off is created after its ticket arrived, so tasks before the period cannot belong to it.
    SELECT DISTINCT ticket_id FROM ai_agent_tasks
    WHERE task_type = 'handoff' AND created_at >= %(start)s
), picked AS (
    SELECT s.*,
           h.ticket_id IS NOT NULL AS handed_off,
           extract(epoch FROM s.first_response_at - s.created_at) AS response_s,
           extract(epoch FROM s.resolved_at - s.created_at) AS resolution_s,
           extract(epoch FROM s.ai_answered_at - s.created_at) AS ai_answer_s,
           CASE %(by)s::int
               WHEN 1 THEN s.category::text
               WHEN 2 THEN s.channel
               WHEN 3 THEN s.urgency
               WHEN 4 THEN s.language
               WHEN 5 THEN coalesce(s.handled_by, 'unanswered')
               WHEN 6 THEN s.status
               WHEN 7 THEN to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
               WHEN 8 THEN to_char(s.created_at AT TIME ZONE 'UTC', 'FMDay')
               WHEN 9 THEN coalesce(s.rating::text, 'unrated')
               WHEN 10 THEN coalesce(s.ai_model, 'none')
               WHEN 11 THEN to_char(date_trunc('week', s.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD')
               WHEN 12 THEN to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM')
               WHEN 13 THEN to_char(s.created_at AT TIME ZONE 'UTC', 'HH24')
               ELSE 'all'
           END AS label
    FROM support_threads_data s
    LEFT JOIN handoff_tickets h ON h.ticket_id = s.id
    WHERE s.created_at >= %(start)s AND s.created_at < %(end)s
      AND (%(categories)s::bigint = 0 OR %(categories)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], s.category::text) - 1)) <> 0)
      AND (%(secondary)s::bigint = 0 OR %(secondary)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], s.secondary_category::text) - 1)) <> 0)
      AND (%(channels)s::bigint = 0 OR %(channels)s::bigint & (1::bigint << (array_position(ARRAY[
          'email', 'web_widget', 'whatsapp', 'facebook', 'telegram', 'sms', 'api'], s.channel) - 1)) <> 0)
      AND (%(urgencies)s::bigint = 0 OR %(urgencies)s::bigint & (1::bigint << (array_position(ARRAY[
          'low', 'medium', 'high', 'critical'], s.urgency) - 1)) <> 0)
      AND (%(languages)s::bigint = 0 OR %(languages)s::bigint & (1::bigint << (array_position(ARRAY[
          'en', 'de', 'he', 'fr', 'es', 'ru', 'nl', 'pl', 'it', 'pt', 'uk', 'ar', 'ja', 'zh', 'ko', 'tr', 'sv', 'da',
          'no', 'fi', 'cs', 'hu', 'el', 'ro', 'yi'], s.language) - 1)) <> 0)
      -- A language outside the list has no bit: it is never excluded by not_languages.
      AND (%(not_languages)s::bigint = 0 OR coalesce(%(not_languages)s::bigint & (1::bigint << (array_position(ARRAY[
          'en', 'de', 'he', 'fr', 'es', 'ru', 'nl', 'pl', 'it', 'pt', 'uk', 'ar', 'ja', 'zh', 'ko', 'tr', 'sv', 'da',
          'no', 'fi', 'cs', 'hu', 'el', 'ro', 'yi'], s.language) - 1)), 0) = 0)
      AND (%(statuses)s::bigint = 0 OR %(statuses)s::bigint & (1::bigint << (array_position(ARRAY[
          'new', 'ai_answered', 'draft_created', 'sent', 'escalated', 'closed'], s.status) - 1)) <> 0)
      AND (%(handled)s::bigint = 0 OR %(handled)s::bigint & (1::bigint << (array_position(ARRAY[
          'ai', 'ai_edited', 'human', 'unanswered'], coalesce(s.handled_by, 'unanswered')) - 1)) <> 0)
      AND (%(weekdays)s::bigint = 0
           OR %(weekdays)s::bigint & (1::bigint << (extract(isodow FROM s.created_at AT TIME ZONE 'UTC')::int - 1)) <> 0)
      AND (%(models)s::bigint = 0 OR %(models)s::bigint & (1::bigint << (array_position(ARRAY[
          'gpt-4o', 'gpt-5.1', 'gpt-5.2', 'gpt-5-mini', 'claude-sonnet-4.5', 'claude-haiku-4.5', 'gpt-4-other',
          'gpt-5-other', 'claude-other', 'other', 'none'], CASE
               WHEN s.ai_model IS NULL THEN 'none'
               WHEN s.ai_model IN ('gpt-4o', 'gpt-5.1', 'gpt-5.2', 'gpt-5-mini', 'claude-sonnet-4.5', 'claude-haiku-4.5')
                   THEN s.ai_model
               WHEN s.ai_model LIKE 'gpt-4%%' THEN 'gpt-4-other'
               WHEN s.ai_model LIKE 'gpt-5%%' THEN 'gpt-5-other'
               WHEN s.ai_model LIKE 'claude%%' THEN 'claude-other'
               ELSE 'other' END) - 1)) <> 0)
      AND (%(rated)s::int = 0 OR (s.rating IS NOT NULL) = (%(rated)s::int = 1))
      AND (%(min_rating)s::int = 0 OR s.rating >= %(min_rating)s::int)
      AND (%(max_rating)s::int = 0 OR s.rating <= %(max_rating)s::int)
      AND (%(ai_answer)s::int = 0 OR (s.ai_answered_at IS NOT NULL) = (%(ai_answer)s::int = 1))
      AND (%(customer)s::int = 0 OR (s.customer_id IS NOT NULL) = (%(customer)s::int = 1))
      AND (%(resolved_over_minutes)s::int = 0
           OR s.resolved_at - s.created_at > make_interval(mins => %(resolved_over_minutes)s::int))
      AND (%(resolved_within_minutes)s::int = 0
           OR s.resolved_at - s.created_at <= make_interval(mins => %(resolved_within_minutes)s::int))
      AND (%(response_over_minutes)s::int = 0
           OR s.first_response_at - s.created_at > make_interval(mins => %(response_over_minutes)s::int))
      AND (%(response_within_minutes)s::int = 0
           OR s.first_response_at - s.created_at <= make_interval(mins => %(response_within_minutes)s::int))
), shape AS (
    -- The rollups answer (and the raw branch below reads nothing) with no filter and by nothing, day, week or month.
    SELECT %(by)s::int IN (0, 7, 11, 12)
           AND %(categories)s::bigint = 0 AND %(secondary)s::bigint = 0 AND %(channels)s::bigint = 0
           AND %(urgencies)s::bigint = 0 AND %(languages)s::bigint = 0 AND %(not_languages)s::bigint = 0
           AND %(statuses)s::bigint = 0 AND %(handled)s::bigint = 0 AND %(weekdays)s::bigint = 0
           AND %(models)s::bigint = 0 AND %(rated)s::int = 0 AND %(min_rating)s::int = 0 AND %(max_rating)s::int = 0
           AND %(ai_answer)s::int = 0 AND %(customer)s::int = 0 AND %(resolved_over_minutes)s::int = 0
           AND %(resolved_within_minutes)s::int = 0 AND %(response_over_minutes)s::int = 0
           AND %(response_within_minutes)s::int = 0 AS rolled_up
), parts AS (
    SELECT 'all' AS label, %(start)s::timestamptz AS part_start, %(end)s::timestamptz AS part_end
    WHERE %(by)s::int = 0
    UNION ALL
    -- The period cut where UTC days, weeks (from Monday) or months start: each part is a group.
    SELECT to_char(u, CASE %(by)s::int WHEN 12 THEN 'YYYY-MM' ELSE 'YYYY-MM-DD' END),
           greatest(u AT TIME ZONE 'UTC', %(start)s), least((u + g.step) AT TIME ZONE 'UTC', %(end)s)
    FROM (VALUES (7, 'day', interval '1 day'), (11, 'week', interval '7 days'), (12, 'month', interval '1 month'))
             AS g (by, unit, step),
         generate_series(date_trunc(g.unit, %(start)s AT TIME ZONE 'UTC'), %(end)s AT TIME ZONE 'UTC', g.step) AS u
    WHERE g.by = %(by)s::int
), totals AS (
    SELECT p.label, m.*
    FROM parts p CROSS JOIN LATERAL support_ticket_metrics_window(p.part_start, p.part_end, %(start)s) AS m
    -- A group is a label some ticket has; the one row of totals is there even with none.
    WHERE (SELECT rolled_up FROM shape) AND (p.label = 'all' OR m.tickets > 0)
    UNION ALL
    SELECT CASE WHEN grouping(label) = 1 THEN 'all' ELSE label END,
           count(*), count(handled_by), count(*) FILTER (WHERE handled_by = 'ai'),
           count(*) FILTER (WHERE handled_by = 'ai_edited'), count(*) FILTER (WHERE handled_by = 'human'),
           count(ai_answered_at), count(draft_created_at), count(*) FILTER (WHERE handed_off), count(resolved_at),
           count(rating), sum(rating), count(*) FILTER (WHERE rating <= 2), count(*) FILTER (WHERE rating >= 4),
           count(response_s), sum(response_s), sum(resolution_s), sum(ai_answer_s), count(ai_cost_usd),
           sum(ai_cost_usd), count(customer_id), count(DISTINCT customer_id),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_s),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ai_answer_s)
    FROM picked
    WHERE NOT (SELECT rolled_up FROM shape)
    -- The empty grouping set gives the one row of totals, 0 for counts even when no ticket matches.
    GROUP BY GROUPING SETS ((label), ())
    HAVING (grouping(label) = 1) = (%(by)s::int = 0) AND NOT (SELECT rolled_up FROM shape)
)
-- Averages are sum / count, as avg() computes them.
SELECT label,
       tickets,
       round(100.0 * tickets / nullif(sum(tickets) OVER (), 0), 1) AS share_pct,
       answered,
       ai_handled,
       ai_edited,
       human_handled,
       round(100.0 * ai_handled / nullif(answered, 0), 1) AS ai_share_pct,
       round(100.0 * ai_edited / nullif(answered, 0), 1) AS ai_edited_pct,
       round(100.0 * human_handled / nullif(answered, 0), 1) AS escalation_pct,
       ai_answered,
       round(100.0 * ai_answered / nullif(tickets, 0), 1) AS ai_answered_pct,
       drafts AS drafts_created,
       round(100.0 * drafts / nullif(ai_answered, 0), 1) AS resolution_rate_pct,
       handoffs,
       round(100.0 * handoffs / nullif(tickets, 0), 1) AS handoff_pct,
       resolved,
       rated,
       round(100.0 * rated / nullif(tickets, 0), 1) AS rated_pct,
       round(rating_sum::numeric / nullif(rated, 0), 2) AS avg_rating,
       low_ratings,
       round(100.0 * low_ratings / nullif(rated, 0), 1) AS low_rating_pct,
       high_ratings,
       round(100.0 * high_ratings / nullif(rated, 0), 1) AS high_rating_pct,
       -- Durations in seconds: the answer shows them in the unit asked (minutes for a response, hours to resolve).
       round(median_response::numeric, 1) AS median_response_seconds,
       round(response_sum / nullif(responded, 0), 1) AS avg_response_seconds,
       round(median_resolution::numeric, 1) AS median_resolution_seconds,
       round(resolution_sum / nullif(resolved, 0), 1) AS avg_resolution_seconds,
       round(median_ai_answer::numeric, 1) AS median_ai_answer_seconds,
       round(ai_answer_sum / nullif(ai_answered, 0), 1) AS avg_ai_answer_seconds,
       round(coalesce(cost_sum, 0), 2) AS cost_usd,
       round(cost_sum / nullif(cost_count, 0), 4) AS avg_cost_usd,
       customers,
       round(100.0 * identified / nullif(tickets, 0), 1) AS identified_pct,
       tickets - identified AS unknown_senders
FROM totals
ORDER BY tickets DESC, label
