"""SQL of what we remember about a customer across conversations (`customer_memories`, migrations 0002 and 0012).
The orchestrator writes it after each turn and reads it at the next; `levhaolam memory` shows and forgets it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class MemoryRow:
    id: int
    kind: str  # preference | fact | complaint | retention
    key: str | None
    category: str | None
    content: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    source_conversation_id: int | None = None


_COLUMNS = "id, kind, key, category, content, data, created_at, updated_at, source_conversation_id"


async def recall(conn: psycopg.AsyncConnection, customer_id: int, limit: int = 50) -> list[MemoryRow]:
    return await recalled(await ask_recall(conn, customer_id, limit))


async def ask_recall(conn: psycopg.AsyncConnection, customer_id: int, limit: int = 50
                     ) -> psycopg.AsyncCursor[dict[str, Any]]:
    """`recall` in two steps: the query goes out now, `recalled` reads it. In a pipeline, queries asked before any is
    read share one round trip."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(f"SELECT {_COLUMNS} FROM customer_memories WHERE customer_id = %s "
                      "ORDER BY updated_at DESC, id DESC LIMIT %s", (customer_id, limit))
    return cur


async def recalled(cur: psycopg.AsyncCursor[dict[str, Any]]) -> list[MemoryRow]:
    return [MemoryRow(**row) for row in await cur.fetchall()]


async def remember(conn: psycopg.AsyncConnection, *, customer_id: int, kind: str, key: str, content: str,
                   category: str | None = None, data: dict[str, Any] | None = None,
                   conversation_id: int | None = None, replace: bool = True) -> None:
    """One memory per customer, kind and key: `replace` updates it (a preference changes), otherwise the first one
    stays (a retention offer was made when it was first made)."""
    update = ("content = EXCLUDED.content, category = EXCLUDED.category, data = EXCLUDED.data, "
              "source_conversation_id = EXCLUDED.source_conversation_id, updated_at = now()") if replace else None
    await conn.execute(
        "INSERT INTO customer_memories (customer_id, kind, key, category, content, data, source_conversation_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (customer_id, kind, key) WHERE key IS NOT NULL DO "
        + (f"UPDATE SET {update}" if update else "NOTHING"),
        (customer_id, kind, key, category, content[:2000], Jsonb(data or {}), conversation_id))


async def forget(conn: psycopg.AsyncConnection, customer_id: int) -> list[MemoryRow]:
    """Delete everything remembered about the customer; return what was deleted."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(f"DELETE FROM customer_memories WHERE customer_id = %s RETURNING {_COLUMNS}", (customer_id,))
    return sorted((MemoryRow(**row) for row in await cur.fetchall()), key=lambda row: row.id)


async def find_customer(conn: psycopg.AsyncConnection, who: str) -> tuple[int, str] | None:
    """A customer by id or e-mail (case-insensitive): (id, email)."""
    if who.strip().lstrip("#").isdigit():
        cur = await conn.execute("SELECT id, email FROM customers WHERE id = %s", (int(who.strip().lstrip("#")),))
    else:
        cur = await conn.execute("SELECT id, email FROM customers WHERE lower(email) = lower(%s)", (who.strip(),))
    row = await cur.fetchone()
    return (int(row[0]), str(row[1])) if row else None
