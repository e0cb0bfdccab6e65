-- description: Stuck tickets: still new, ai_answered, draft_created or escalated after the given hours, by status, with the oldest.
-- param: now timestamptz | The current time
-- param: older_than_hours int = 24 | How old a ticket must be to count as stuck
-- chart: bar status tickets
SELECT status, count(*) AS tickets, min(created_at) AS oldest
FROM support_threads_data
WHERE status IN ('new', 'ai_answered', 'draft_created', 'escalated')
  AND created_at < %(now)s - make_interval(hours => %(older_than_hours)s)
GROUP BY status
ORDER BY tickets DESC
