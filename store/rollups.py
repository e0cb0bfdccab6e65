"""The rollups of migrations 0011, 0015-0017 and 0026: what the saved analytics queries and knowledge search read
instead of scanning.

Triggers keep them exact as rows change; rebuilding computes them again from the raw tables (after a bulk load
with the triggers off, or to check them: `levhaolam db rollups`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import psycopg
from psycopg import sql

# The tables the support_*_rebuild() functions fill (knowledge_lexemes, small, keeps its indexes).
ROLLUP_TABLES: tuple[str, ...] = (
    "support_ticket_rollup", "support_task_rollup", "support_response_rollup", "support_message_rollup",
    "support_comparison_rollup", "support_similarity_rollup", "support_task_detail_rollup", "support_task_spans",
    "support_first_task_rollup", "support_metric_rollup", "support_duration_rollup", "support_customer_rollup",
    "support_ticket_handoffs",
)

_INDEXES = """
SELECT t.relname, x.relname, pg_get_indexdef(i.indexrelid), c.conname, pg_get_constraintdef(c.oid)
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
     LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = ANY(%s::regclass[])
ORDER BY t.relname, x.relname
"""


@contextlib.asynccontextmanager
async def _unindexed(conn: psycopg.AsyncConnection, tables: tuple[str, ...]) -> AsyncIterator[None]:
    """Every index of `tables` (primary keys and unique ones included) dropped while the caller fills them, then
    built again in one sort each: growing a B-tree row by row in random order cost more than computing the rows."""
    indexes = await (await conn.execute(_INDEXES, (list(tables),))).fetchall()
    for table, name, _, constraint, _ in indexes:
        if constraint:
            await conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table),
                                                                                    sql.Identifier(constraint)))
        else:
            await conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for table, _, definition, constraint, constraint_definition in indexes:
        if constraint:
            await conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(constraint),
                sql.SQL(constraint_definition)))  # type: ignore[arg-type]  # the server's own DDL
        else:
            await conn.execute(sql.SQL(definition))  # type: ignore[arg-type]  # the server's own DDL, not user text


async def rebuild_rollups(conn: psycopg.AsyncConnection, *, bulk: bool = False) -> None:
    """Recompute every rollup from the raw tables, in the caller's transaction (or its own, in autocommit).

    `bulk` (the seed, whose transaction nobody else sees): the rollup tables' indexes are dropped during the
    rebuild and built again after it, which locks the tables until the transaction ends."""
    async with conn.transaction():
        async with _unindexed(conn, ROLLUP_TABLES) if bulk else contextlib.nullcontext():
            await conn.execute("SELECT support_rollups_rebuild()")
            await conn.execute("SELECT support_detail_rollups_rebuild()")
            await conn.execute("SELECT support_comparison_rollups_rebuild()")
            await conn.execute("SELECT support_task_rollups_rebuild()")
            await conn.execute("SELECT support_metric_rollups_rebuild()")
        await conn.execute("SELECT knowledge_lexemes_rebuild()")
