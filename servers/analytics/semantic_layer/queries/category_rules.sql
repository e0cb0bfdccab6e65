-- description: Versions of the category rules given to the AI (ai_answerer_instructions): each version, who wrote it, the day it was written (a version is in force from then until the next one), and whether it is the one in force now; optionally for some categories (bit mask, 0 = all) or only the versions in force.
-- param: categories int = 0 | Category in: 1 general_question, 2 shipping_inquiry, 4 change_address, 8 change_frequency, 16 skip_month, 32 damaged_item, 64 payment_issue, 128 pause_subscription, 256 cancel_subscription, 512 other
-- param: active int = 0 | 1 only the versions in force, 2 only earlier versions
SELECT category, version, is_active, (created_at AT TIME ZONE 'UTC')::date AS written_on, created_by,
       length(instructions) AS characters
FROM ai_answerer_instructions
WHERE (%(categories)s::bigint = 0 OR %(categories)s::bigint & (1::bigint << (array_position(ARRAY[
          'general_question', 'shipping_inquiry', 'change_address', 'change_frequency', 'skip_month', 'damaged_item',
          'payment_issue', 'pause_subscription', 'cancel_subscription', 'other'], category::text) - 1)) <> 0)
  AND (%(active)s::int = 0 OR is_active = (%(active)s::int = 1))
ORDER BY category, version DESC
