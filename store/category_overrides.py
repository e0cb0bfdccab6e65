"""SQL of staff's overrides of the per-category configuration (`levhaolam categories`); the orchestrator reads them
at start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class OverrideRow:
    category: str
    settings: dict[str, Any]
    reason: str
    changed_by: str
    changed_at: datetime


async def overrides(conn: psycopg.AsyncConnection) -> list[OverrideRow]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT category::text AS category, settings, reason, changed_by, changed_at "
                      "FROM category_overrides ORDER BY category")
    return [OverrideRow(**row) for row in await cur.fetchall()]


async def set_override(conn: psycopg.AsyncConnection, category: str, settings: dict[str, Any], *, reason: str,
                       changed_by: str) -> None:
    """Replaces the category's override as a whole: what it does not name comes from the file again."""
    await conn.execute(
        "INSERT INTO category_overrides (category, settings, reason, changed_by) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (category) DO UPDATE SET settings = EXCLUDED.settings, reason = EXCLUDED.reason, "
        "changed_by = EXCLUDED.changed_by, changed_at = now()",
        (category, Jsonb(settings), reason, changed_by))


async def clear_override(conn: psycopg.AsyncConnection, category: str) -> bool:
    cur = await conn.execute("DELETE FROM category_overrides WHERE category = %s", (category,))
    return cur.rowcount > 0
