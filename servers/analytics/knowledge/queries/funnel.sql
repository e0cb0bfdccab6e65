-- description: The ticket funnel in a period: received, AI answered, draft created, answered (first response), resolved.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar stage tickets
SELECT stage, tickets FROM (
    SELECT 1 AS step, 'received' AS stage, count(*) AS tickets FROM support_threads_data
        WHERE created_at >= %(start)s AND created_at < %(end)s
    UNION ALL SELECT 2, 'ai_answered', count(ai_answered_at) FROM support_threads_data
        WHERE created_at >= %(start)s AND created_at < %(end)s
    UNION ALL SELECT 3, 'draft_created', count(draft_created_at) FROM support_threads_data
        WHERE created_at >= %(start)s AND created_at < %(end)s
    UNION ALL SELECT 4, 'answered', count(first_response_at) FROM support_threads_data
        WHERE created_at >= %(start)s AND created_at < %(end)s
    UNION ALL SELECT 5, 'resolved', count(resolved_at) FROM support_threads_data
        WHERE created_at >= %(start)s AND created_at < %(end)s
) AS f
ORDER BY step
