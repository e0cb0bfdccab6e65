"""Runs analytics SQL with three of the four defences: the SELECT-only login (the pool's connections are
that role: servers/analytics/reader.py), a READ ONLY transaction with a statement timeout, and a row cap that
marks truncated results (the parser check is separate)."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg_pool import AsyncConnectionPool

from schemas.analytics import QueryResult
from store.errors import first_line

DEFAULT_TIMEOUT_MS = 5_000
MAX_ROWS_LIMIT = 1_000


class QueryFailed(ValueError):
    """The database refused or stopped the query; the message explains it for the caller."""


async def run_read_only(pool: AsyncConnectionPool, query: str, params: dict[str, Any] | None, *, max_rows: int,
                        timeout_ms: int = DEFAULT_TIMEOUT_MS) -> QueryResult:
    """Run on `pool`, which must be the reader pool: no role is switched here, so none can be switched back."""
    started = time.perf_counter()
    try:
        async with pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("SET TRANSACTION READ ONLY")
                await conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(timeout_ms)))
                # A server-side cursor: only max_rows + 1 rows ever leave the database.
                async with conn.cursor(name="analytics") as cur:
                    await cur.execute(query, params)
                    rows = await cur.fetchmany(max_rows + 1)
                    columns = [d.name for d in cur.description or []]
    except errors.QueryCanceled:
        raise QueryFailed(f"the query ran longer than {timeout_ms / 1000:g} s and was stopped; narrow it with a date "
                          "range or aggregate before returning rows") from None
    except errors.InsufficientPrivilege as exc:
        raise QueryFailed(f"{first_line(exc)}: analytics can read only the support tables") from None
    except errors.ReadOnlySqlTransaction as exc:
        raise QueryFailed(f"{first_line(exc)}: analytics queries cannot change data") from None
    except (psycopg.OperationalError, psycopg.InterfaceError):
        raise
    except psycopg.Error as exc:
        raise QueryFailed(f"the database refused the query: {first_line(exc)}") from None
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    return QueryResult(
        columns=columns, rows=[[_jsonable(v) for v in row] for row in rows], row_count=len(rows), truncated=truncated,
        note=f"showing the first {max_rows} rows; more exist, add filters or aggregate" if truncated else None,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2))


def _jsonable(value: Any) -> Any:
    from datetime import date, datetime, timedelta
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | memoryview):
        return "<binary>"
    return value
