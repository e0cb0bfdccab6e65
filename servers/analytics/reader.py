"""The analytics server's own database login: a small pool that connects as the SELECT-only role.

Why a login and not `SET LOCAL ROLE`: a role switch is checked against the session user, so under a superuser
session any SQL that reaches `set_config('role', ...)` (ts_stat and query_to_xml run SQL passed as text) switches
back and reads everything. A session that *is* an unprivileged role, member of no other role, has nothing to
become, whatever SQL runs. Every connection is checked before use; a privileged one is never handed out.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg
from fastmcp import Context, FastMCP
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import AsyncConnectionPool

from schemas.settings import Settings
from servers.common.runtime import Runtime
from store.errors import DatabaseUnavailable, first_line

READER_ROLE = "levhaolam_analytics"
READER_KEY = "analytics_reader"
MAX_READER_CONNECTIONS = 4  # analytics queries are few and short; the main pool keeps the rest

_PRIVILEGES = """
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
       session_user = current_user,
       ARRAY(SELECT m.roleid::regrole::text FROM pg_auth_members m WHERE m.member = r.oid ORDER BY 1)
FROM pg_roles r WHERE r.rolname = session_user
"""

Lifespan = Callable[[FastMCP], AbstractAsyncContextManager[Any]]


class ReaderRefused(DatabaseUnavailable):
    """The analytics login is missing, unreachable or privileged; the message says how to fix it."""


def reader_url(main_url: str, settings: Settings) -> str:
    """LEVHAOLAM_ANALYTICS_DATABASE_URL, or the main URL with the analytics role as its user and no password
    (enough for the embedded PostgreSQL's local trust authentication)."""
    if settings.analytics_database_url is not None:
        return settings.analytics_database_url.get_secret_value()
    params = conninfo_to_dict(main_url)
    params.pop("password", None)  # the main user's password is not the reader's
    params["user"] = READER_ROLE
    return make_conninfo("", **params)


def _where(url: str) -> str:
    params = conninfo_to_dict(url)
    return f"{params.get('host') or 'localhost'}/{params.get('dbname') or ''} as {params.get('user') or '?'}"


async def privilege_problems(conn: psycopg.AsyncConnection) -> list[str]:
    """What makes this session more than a reader: empty when it is only the SELECT-only login."""
    row = await (await conn.execute(_PRIVILEGES)).fetchone()
    if row is None:
        return ["is not a role this database knows"]
    name, superuser, inherit, createrole, createdb, replication, bypassrls, same_user, member_of = row
    checks = [(superuser, "is a superuser"), (inherit, "inherits privileges (needs NOINHERIT)"),
              (createrole, "can create roles"), (createdb, "can create databases"),
              (replication, "is a replication role"), (bypassrls, "bypasses row-level security"),
              (not same_user, "has switched to another role"),
              (bool(member_of), f"is a member of {', '.join(member_of)}")]
    return [f"{name} {problem}" for failed, problem in checks if failed]


async def _verify(conn: psycopg.AsyncConnection) -> None:
    """The pool's configure hook: every new connection is checked before anything runs on it."""
    problems = await privilege_problems(conn)
    await conn.rollback()  # the pool takes only idle connections
    if problems:
        raise ReaderRefused(_privileged(problems))


def _privileged(problems: list[str]) -> str:
    return (f"refusing to run analytics SQL: the analytics login {'; '.join(problems)}. It must be a NOINHERIT "
            "login role that is not a superuser and is a member of no other role (run `levhaolam db migrate`; "
            "check LEVHAOLAM_ANALYTICS_DATABASE_URL)")


@contextlib.asynccontextmanager
async def open_reader_pool(url: str, settings: Settings) -> AsyncIterator[AsyncConnectionPool]:
    """An open pool of reader connections, or ReaderRefused saying what to do."""
    timeout = settings.db_connect_timeout_s
    try:
        conn = await psycopg.AsyncConnection.connect(url, connect_timeout=timeout, autocommit=True)
    except psycopg.Error as exc:
        raise ReaderRefused(
            f"analytics runs its SQL under its own login role ({READER_ROLE}); connecting to {_where(url)} failed: "
            f"{first_line(exc).removeprefix('connection failed: ')}. Run `levhaolam db migrate` (migration 0008 "
            f"makes it a login role); with password authentication give it one (ALTER ROLE {READER_ROLE} PASSWORD "
            f"'...') and set LEVHAOLAM_ANALYTICS_DATABASE_URL=postgresql://{READER_ROLE}:PASSWORD@host:5432/dbname"
        ) from None
    async with conn:
        problems = await privilege_problems(conn)
    if problems:
        raise ReaderRefused(_privileged(problems))
    pool = AsyncConnectionPool(url, min_size=1, max_size=min(MAX_READER_CONNECTIONS, settings.db_pool_max_size),
                               open=False, timeout=timeout, configure=_verify, kwargs={"connect_timeout": timeout})
    await pool.open(wait=True, timeout=timeout)
    try:
        yield pool
    finally:
        await pool.close()


def with_reader_pool(platform_lifespan: Lifespan) -> Lifespan:
    """The platform lifespan plus the reader pool, which needs the platform's database URL and settings."""

    @contextlib.asynccontextmanager
    async def lifespan(server: FastMCP) -> AsyncIterator[dict[str, Any]]:
        async with platform_lifespan(server) as state:
            runtime: Runtime = state["runtime"]
            async with open_reader_pool(reader_url(runtime.pool.conninfo, runtime.settings),
                                        runtime.settings) as reader:
                yield {**state, READER_KEY: reader}

    return lifespan


def reader_of(ctx: Context) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = ctx.lifespan_context[READER_KEY]
    return pool
