-- description: The ticket funnel in a period: received, AI answered, draft created, answered (first response), resolved.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar stage tickets
-- From the rollups (migration 0011).
SELECT v.stage, v.tickets
FROM (
    SELECT coalesce(sum(tickets), 0)::bigint AS received, coalesce(sum(ai_answered), 0)::bigint AS ai_answered,
           coalesce(sum(drafts), 0)::bigint AS draft_created, coalesce(sum(responded), 0)::bigint AS answered,
           coalesce(sum(resolved), 0)::bigint AS resolved
    FROM support_ticket_window(%(start)s, %(end)s)
) AS c
CROSS JOIN LATERAL (VALUES (1, 'received', c.received), (2, 'ai_answered', c.ai_answered),
                           (3, 'draft_created', c.draft_created), (4, 'answered', c.answered),
                           (5, 'resolved', c.resolved)) AS v (step, stage, tickets)
ORDER BY v.step
