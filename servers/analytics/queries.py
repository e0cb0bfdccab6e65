"""Running analytics SQL, the one way both the tools and the analytics agent do it: vetted queries with checked
parameters, free SQL through the guard, and remembering a learning. Failures are typed (`ToolFailure`)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from schemas.analytics import QueryResult
from schemas.categories import UnknownCategoryError, parse_category
from schemas.domain import Channel
from schemas.errors import ErrorCode
from servers.analytics import context, sql_guard
from servers.analytics.executor import QueryFailed, run_read_only
from servers.common.errors import ToolFailure, invalid
from servers.common.runtime import Runtime

CHANNELS = tuple(channel.value for channel in Channel)


def coerce_params(query_name: str, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The saved query's parameters typed and defaulted; an unknown or malformed one names itself."""
    saved = context.saved_queries()[query_name]
    known = {p.name for p in saved.params}
    for extra in set(params) - known:
        raise invalid(
            f"params.{extra}", f"{query_name} has no parameter {extra!r}; it takes {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    for p in saved.params:
        raw = params.get(p.name, None if p.default in (None, "null") else p.default)
        if raw is None and p.name == "now":
            raw = now
        if raw is None:
            if p.default is None:
                raise invalid(f"params.{p.name}", f"{query_name} needs {p.name}: {p.description}")
            values[p.name] = None
            continue
        try:
            if p.type == "timestamptz":
                parsed = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
                if isinstance(parsed, date) and not isinstance(parsed, datetime):
                    parsed = datetime.combine(parsed, time())
                values[p.name] = parsed if parsed.tzinfo else parsed.replace(tzinfo=now.tzinfo)
            elif p.type == "int":
                values[p.name] = int(raw)
            elif p.type == "category":
                values[p.name] = parse_category(str(raw)).value
            elif p.type == "channel":
                if str(raw) not in CHANNELS:
                    raise ValueError(f"expected one of {', '.join(CHANNELS)}")
                values[p.name] = str(raw)
        except UnknownCategoryError as exc:
            raise invalid(f"params.{p.name}", str(exc)) from None
        except (TypeError, ValueError) as exc:
            raise invalid(f"params.{p.name}", f"not a valid {p.type}: {exc}") from None
    return values


async def run_saved(runtime: Runtime, reader: AsyncConnectionPool, name: str, params: dict[str, Any], max_rows: int
                    ) -> QueryResult:
    """A vetted query on the reader pool (servers/analytics/reader.py), never on the platform's own pool."""
    if name not in context.saved_queries():
        raise ToolFailure(ErrorCode.NOT_FOUND, f"no saved query {name!r}; see list_saved_queries", "name")
    values = coerce_params(name, params, runtime.clock())
    try:
        return await run_read_only(reader, context.saved_queries()[name].sql, values, max_rows=max_rows,
                                   timeout_ms=runtime.settings.analytics_timeout_ms)
    except QueryFailed as exc:
        raise ToolFailure(ErrorCode.INVALID_ARGUMENT, str(exc), "params") from None


async def run_checked_sql(runtime: Runtime, reader: AsyncConnectionPool, sql: str, max_rows: int) -> QueryResult:
    """One SELECT through the guard, then the read-only executor on the reader pool."""
    try:
        sql_guard.check(sql)
        return await run_read_only(reader, sql, None, max_rows=max_rows,
                                   timeout_ms=runtime.settings.analytics_timeout_ms)
    except (sql_guard.UnsafeQuery, QueryFailed) as exc:
        raise invalid("sql", str(exc)) from None


async def insert_learning(conn: psycopg.AsyncConnection, *, question: str, mistake: str, fix: str, sql: str | None,
                          tags: list[str], created_by: str) -> int:
    cur = await conn.execute(
        "INSERT INTO analytics_learnings (question, mistake, fix, sql, tags, created_by) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id", (question, mistake, fix, sql, tags, created_by))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])
