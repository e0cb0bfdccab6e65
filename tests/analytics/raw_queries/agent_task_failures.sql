-- description: AI agent tasks in a period by type: how many ran, failed, and the failure rate.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar task_type failure_pct
SELECT task_type, count(*) AS tasks, count(*) FILTER (WHERE status = 'failed') AS failed,
       round(100.0 * count(*) FILTER (WHERE status = 'failed') / nullif(count(*), 0), 1) AS failure_pct
FROM ai_agent_tasks
WHERE created_at >= %(start)s AND created_at < %(end)s
GROUP BY task_type
ORDER BY failure_pct DESC, tasks DESC
