-- description: AI agent tasks in a period by type: how many ran, failed, and the failure rate.
-- param: start timestamptz | Start of the period (inclusive)
-- param: end timestamptz | End of the period (exclusive)
-- chart: bar task_type failure_pct
-- From the rollups (migration 0011).
SELECT task_type, sum(tasks)::bigint AS tasks, sum(failed)::bigint AS failed,
       round(100.0 * sum(failed) / nullif(sum(tasks), 0), 1) AS failure_pct
FROM support_task_window(%(start)s, %(end)s)
GROUP BY task_type
ORDER BY failure_pct DESC, tasks DESC
