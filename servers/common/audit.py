"""The append-only action audit log: every executed action and every refused attempt."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from servers.common.principal import Principal

_INSERT = """
INSERT INTO action_audit (caller, scope, server, tool, customer_id, conversation_id, arguments, outcome,
                          error_code, result)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id
"""


async def record(
    conn: psycopg.AsyncConnection,
    *,
    principal: Principal,
    server: str,
    tool: str,
    arguments: dict[str, Any],
    outcome: str,
    customer_id: int | None = None,
    error_code: str | None = None,
    result: dict[str, Any] | None = None,
) -> int:
    """Insert one audit row on `conn` (inside the caller's transaction when there is one)."""
    cur = await conn.execute(_INSERT, (
        principal.subject, principal.scope, server, tool, customer_id, principal.conversation_id, Jsonb(arguments),
        outcome, error_code, Jsonb(result) if result is not None else None,
    ))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])
