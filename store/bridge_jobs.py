"""SQL of the Chatwoot bridge's durable queue: jobs (one per customer message owed an answer), the conversations'
last known state, and Chatwoot's echoes of the bot's own posts. The bridge's webhook and workers call these.

A worker holds a job through a lease: `lease_token` is set when it claims the job and every later write names it, so
a worker that stalled past its lease (and whose job another worker took) can no longer change the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

CHANNEL = "bridge_jobs"  # LISTEN/NOTIFY: a new or replayed job wakes the workers at once

UNFINISHED = ("queued", "running")


@dataclass(frozen=True)
class JobRow:
    id: int
    dedupe_key: str
    account_id: int
    conversation_id: int
    request: dict[str, Any]
    state: str
    attempts: int
    lease_token: UUID | None
    response: dict[str, Any] | None
    plan: dict[str, Any] | None
    steps_done: int
    step_started_at: datetime | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    outcome: str | None


_COLUMNS = ("id, dedupe_key, account_id, conversation_id, request, state, attempts, lease_token, response, plan, "
            "steps_done, step_started_at, last_error, created_at, finished_at, outcome")


async def accept(conn: psycopg.AsyncConnection, *, seen: tuple[int, int, str] | None = None,
                 job: tuple[str, str | None, int, int, dict[str, Any]] | None = None,
                 echo: tuple[int, int, int, str] | None = None) -> int | None:
    """Record what one webhook brought, in one statement: the conversation's state `(account, conversation,
    status)`, a job `(dedupe_key, delivery_id, account, conversation, request)`, the bot's echo `(account,
    conversation, message id, fingerprint)`. The new job's id; None when there is no job or it already exists."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if seen is not None:
        parts.append("seen AS (INSERT INTO bridge_conversations (account_id, conversation_id, status) "
                     "VALUES (%(s_account)s, %(s_conversation)s, %(s_status)s) "
                     "ON CONFLICT (account_id, conversation_id) DO UPDATE SET status = EXCLUDED.status, "
                     "updated_at = now())")
        params |= {"s_account": seen[0], "s_conversation": seen[1], "s_status": seen[2][:32]}
    if echo is not None:
        parts.append("echo AS (INSERT INTO bridge_echoes (account_id, conversation_id, chatwoot_message_id, "
                     "fingerprint) VALUES (%(e_account)s, %(e_conversation)s, %(e_message)s, %(e_fingerprint)s) "
                     "ON CONFLICT DO NOTHING)")
        params |= {"e_account": echo[0], "e_conversation": echo[1], "e_message": echo[2], "e_fingerprint": echo[3]}
    if job is None:
        if parts:
            await conn.execute("WITH " + ", ".join(parts) + " SELECT 1", params)
        return None
    # Either unique key (the message, or Chatwoot's delivery id) already present means this is a redelivery.
    parts.append("job AS (INSERT INTO bridge_jobs (dedupe_key, delivery_id, account_id, conversation_id, request) "
                 "VALUES (%(j_key)s, %(j_delivery)s, %(j_account)s, %(j_conversation)s, %(j_request)s) "
                 "ON CONFLICT DO NOTHING RETURNING id)")
    params |= {"j_key": job[0], "j_delivery": job[1], "j_account": job[2], "j_conversation": job[3],
               "j_request": Jsonb(job[4])}
    cur = await conn.execute("WITH " + ", ".join(parts) + f" SELECT id, pg_notify('{CHANNEL}', id::text) FROM job",
                             params)
    row = await cur.fetchone()
    return int(row[0]) if row else None


async def claim(conn: psycopg.AsyncConnection, lease_s: float) -> JobRow | None:
    """Take the oldest job that is ready (or whose worker went silent past its lease) and is the first unfinished job
    of its conversation, so that one conversation's messages are answered in order, one at a time."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "WITH next AS (SELECT j.id FROM bridge_jobs j "
        "  WHERE ((j.state = 'queued' AND j.run_after <= now()) OR (j.state = 'running' AND j.lease_until < now())) "
        "  AND NOT EXISTS (SELECT 1 FROM bridge_jobs e WHERE e.account_id = j.account_id "
        "    AND e.conversation_id = j.conversation_id AND e.id < j.id AND e.state IN ('queued', 'running')) "
        "  ORDER BY j.id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE bridge_jobs j SET state = 'running', attempts = j.attempts + 1, lease_token = gen_random_uuid(), "
        "  lease_until = now() + make_interval(secs => %s), updated_at = now() "
        f"FROM next WHERE j.id = next.id RETURNING {', '.join('j.' + c.strip() for c in _COLUMNS.split(','))}",
        (lease_s,))
    row = await cur.fetchone()
    return JobRow(**row) if row else None


async def _held(conn: psycopg.AsyncConnection, sql: str, params: tuple[Any, ...]) -> bool:
    """Run an UPDATE guarded by `id = %s AND lease_token = %s` (the last two params); False if the lease was lost."""
    cur = await conn.execute(sql + " WHERE id = %s AND lease_token = %s AND state = 'running'", params)
    return cur.rowcount == 1


async def extend(conn: psycopg.AsyncConnection, job_id: int, token: UUID, lease_s: float) -> bool:
    return await _held(conn, "UPDATE bridge_jobs SET lease_until = now() + make_interval(secs => %s)",
                       (lease_s, job_id, token))


async def save_plan(conn: psycopg.AsyncConnection, job_id: int, token: UUID, response: dict[str, Any],
                    plan: dict[str, Any]) -> bool:
    return await _held(conn, "UPDATE bridge_jobs SET response = %s, plan = %s, updated_at = now()",
                       (Jsonb(response), Jsonb(plan), job_id, token))


async def start_step(conn: psycopg.AsyncConnection, job_id: int, token: UUID, index: int) -> bool:
    """Mark action `index` as under way, before it is sent: after a crash its outcome is known to be uncertain."""
    return await _step(conn, "step_started_at = now()", job_id, token, index)


async def clear_step(conn: psycopg.AsyncConnection, job_id: int, token: UUID, index: int) -> bool:
    """Action `index` certainly did not happen (Chatwoot refused it): it is not under way any more."""
    return await _step(conn, "step_started_at = NULL", job_id, token, index)


async def finish_step(conn: psycopg.AsyncConnection, job_id: int, token: UUID, index: int) -> bool:
    return await _step(conn, "steps_done = steps_done + 1, step_started_at = NULL", job_id, token, index)


async def _step(conn: psycopg.AsyncConnection, assignment: str, job_id: int, token: UUID, index: int) -> bool:
    cur = await conn.execute(f"UPDATE bridge_jobs SET {assignment}, updated_at = now() WHERE id = %s "
                             "AND lease_token = %s AND state = 'running' AND steps_done = %s", (job_id, token, index))
    return cur.rowcount == 1


async def complete(conn: psycopg.AsyncConnection, job_id: int, token: UUID, outcome: str) -> bool:
    return await _held(conn, "UPDATE bridge_jobs SET state = 'done', outcome = %s, lease_token = NULL, "
                             "lease_until = NULL, finished_at = now(), updated_at = now()", (outcome, job_id, token))


async def retry_later(conn: psycopg.AsyncConnection, job_id: int, token: UUID, error: str, delay_s: float) -> bool:
    return await _held(conn, "UPDATE bridge_jobs SET state = 'queued', last_error = %s, lease_token = NULL, "
                             "lease_until = NULL, run_after = now() + make_interval(secs => %s), updated_at = now()",
                       (error[:2000], delay_s, job_id, token))


async def bury(conn: psycopg.AsyncConnection, job_id: int, token: UUID, reason: str) -> bool:
    """A dead letter: kept with its reason until someone replays it (`levhaolam bridge dead-letters --replay`)."""
    return await _held(conn, "UPDATE bridge_jobs SET state = 'dead', last_error = %s, outcome = 'dead', "
                             "lease_token = NULL, lease_until = NULL, finished_at = now(), updated_at = now()",
                       (reason[:2000], job_id, token))


async def echoed_since(conn: psycopg.AsyncConnection, account_id: int, conversation_id: int, fingerprint: str,
                       since: datetime) -> bool:
    """Did Chatwoot echo a bot message with this fingerprint after `since` (minus a little clock slack)?"""
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM bridge_echoes WHERE account_id = %s AND conversation_id = %s "
        "AND fingerprint = %s AND received_at >= %s - interval '5 seconds')",
        (account_id, conversation_id, fingerprint, since))
    row = await cur.fetchone()
    return bool(row and row[0])


async def known_status(conn: psycopg.AsyncConnection, account_id: int, conversation_id: int) -> str | None:
    cur = await conn.execute("SELECT status FROM bridge_conversations WHERE account_id = %s AND conversation_id = %s",
                             (account_id, conversation_id))
    row = await cur.fetchone()
    return str(row[0]) if row else None


async def dead_letters(conn: psycopg.AsyncConnection, limit: int = 100) -> list[JobRow]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(f"SELECT {_COLUMNS} FROM bridge_jobs WHERE state = 'dead' ORDER BY id LIMIT %s", (limit,))
    return [JobRow(**row) for row in await cur.fetchall()]


async def replay(conn: psycopg.AsyncConnection, job_id: int) -> bool:
    """Queue a dead letter again. Its journal stays: actions already done in Chatwoot are not repeated."""
    cur = await conn.execute(
        "UPDATE bridge_jobs SET state = 'queued', attempts = 0, run_after = now(), finished_at = NULL, outcome = NULL, "
        "updated_at = now() WHERE id = %s AND state = 'dead'", (job_id,))
    if cur.rowcount != 1:
        return False
    await conn.execute(f"SELECT pg_notify('{CHANNEL}', %s)", (str(job_id),))
    return True


async def job(conn: psycopg.AsyncConnection, job_id: int) -> JobRow | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(f"SELECT {_COLUMNS} FROM bridge_jobs WHERE id = %s", (job_id,))
    row = await cur.fetchone()
    return JobRow(**row) if row else None


async def counts(conn: psycopg.AsyncConnection) -> dict[str, int]:
    cur = await conn.execute("SELECT state, count(*) FROM bridge_jobs GROUP BY state")
    return {str(state): int(n) for state, n in await cur.fetchall()}
