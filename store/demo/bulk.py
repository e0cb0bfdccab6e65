"""Loading many rows at once: foreign keys, secondary indexes and triggers set aside during the load, restored after.

PostgreSQL checks a foreign key row by row during COPY but for a whole table in one join when the constraint is
added, and builds an index in one sort faster than it grows one row at a time ("Populating a Database" in its
manual). Triggers (the rollups' counters, migration 0011) are off: the caller recomputes what they maintain in one
pass. Everything happens inside the caller's transaction: if a restored constraint fails, nothing was loaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import psycopg
from psycopg import sql

_FOREIGN_KEYS = """
SELECT n.nspname, t.relname, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
ORDER BY t.relname, c.conname
"""
# Indexes that back no constraint (primary keys and unique constraints stay: foreign keys need them).
_PLAIN_INDEXES = """
SELECT n.nspname, x.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace
WHERE i.indrelid = ANY(%s::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY x.relname
"""


@contextlib.asynccontextmanager
async def bulk_load(conn: psycopg.AsyncConnection, tables: Sequence[str]) -> AsyncIterator[None]:
    """Drop the foreign keys and plain indexes of `tables` and switch off their triggers, let the caller load, then
    put everything back as it was. Must run inside a transaction."""
    names = list(tables)
    foreign_keys = await (await conn.execute(_FOREIGN_KEYS, (names,))).fetchall()
    indexes = await (await conn.execute(_PLAIN_INDEXES, (names,))).fetchall()
    for schema, table, name, _ in foreign_keys:
        await conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(schema, table),
                                                                                sql.Identifier(name)))
    for schema, name, _ in indexes:
        await conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
    for table in names:
        await conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table)))
    yield
    for table in names:
        await conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table)))
    # Sorting for an index build in memory rather than on disk; only for this transaction.
    await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, _, definition in indexes:
        await conn.execute(sql.SQL(definition))  # type: ignore[arg-type]  # the server's own DDL, not user text
    for schema, table, name, definition in foreign_keys:
        await conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(schema, table), sql.Identifier(name), sql.SQL(definition)))  # type: ignore[arg-type]
