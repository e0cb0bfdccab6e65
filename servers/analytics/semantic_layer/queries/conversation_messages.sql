-- description: Messages of the tickets that arrived in a period (support_dialogs), for all tickets (one row labelled 'all') or a row per group: messages by who sent them (customer, AI, human) and the average per ticket. Filters are bit masks (0 = no filter).
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- param: by int = 0 | Group by: 0 nothing, 1 category, 2 channel, 3 handled_by
-- param: categories int = 0 | Category in: 1 general_question, 2 shipping_inquiry, 4 change_address, 8 change_frequency, 16 skip_month, 32 damaged_item, 64 payment_issue, 128 pause_subscription, 256 cancel_subscription, 512 other
-- param: channels int = 0 | Channel in: 1 email, 2 web_widget, 4 whatsapp, 8 facebook, 16 telegram, 32 sms, 64 api
-- chart: bar label avg_messages
-- From the message rollups (migration 0015): tickets and their messages by role, per category, channel and handler.
WITH picked AS (
    SELECT w.*,
           CASE %(by)s::int
               WHEN 1 THEN w.category
               WHEN 2 THEN w.channel
               WHEN 3 THEN coalesce(w.handled_by, 'unanswered')
               ELSE 'all'
           END AS label
    FROM support_message_window(%(start)s, %(end)s) w
    WHERE (%(categories)s::bigint = 0 OR %(categories)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], w.category) - 1)) <> 0)
      AND (%(channels)s::bigint = 0 OR %(channels)s::bigint & (1::bigint << (array_position(ARRAY[
          'email', 'web_widget', 'whatsapp', 'facebook', 'telegram', 'sms', 'api'], w.channel) - 1)) <> 0)
)
SELECT CASE WHEN grouping(label) = 1 THEN 'all' ELSE label END AS label,
       coalesce(sum(tickets), 0)::bigint AS tickets,
       coalesce(sum(customer_messages + ai_messages + human_messages), 0) AS messages,
       coalesce(sum(customer_messages), 0) AS customer_messages,
       coalesce(sum(ai_messages), 0) AS ai_messages,
       coalesce(sum(human_messages), 0) AS human_messages,
       -- avg() of per-ticket counts is their sum over the tickets, divided as avg() divides.
       round(sum(customer_messages + ai_messages + human_messages) / nullif(sum(tickets), 0), 2) AS avg_messages,
       round(sum(customer_messages) / nullif(sum(tickets), 0), 2) AS avg_customer_messages
FROM picked
GROUP BY GROUPING SETS ((label), ())
HAVING (grouping(label) = 1) = (%(by)s::int = 0)
ORDER BY tickets DESC, label
