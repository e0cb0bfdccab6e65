-- description: The ticket funnel in a period: received, AI answered, draft created, answered (first response), resolved.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar stage tickets
SELECT v.stage, v.tickets
FROM (
    SELECT count(*) AS received, count(ai_answered_at) AS ai_answered, count(draft_created_at) AS draft_created,
           count(first_response_at) AS answered, count(resolved_at) AS resolved
    FROM support_threads_data
    WHERE created_at >= %(start)s AND created_at < %(end)s
) AS c
CROSS JOIN LATERAL (VALUES (1, 'received', c.received), (2, 'ai_answered', c.ai_answered),
                           (3, 'draft_created', c.draft_created), (4, 'answered', c.answered),
                           (5, 'resolved', c.resolved)) AS v (step, stage, tickets)
ORDER BY v.step
