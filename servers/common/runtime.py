"""What a running server holds: its database pool, settings, policy, clock and local caller."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastmcp import Context, FastMCP
from fastmcp.server.dependencies import get_access_token
from psycopg_pool import AsyncConnectionPool

import telemetry
from schemas.policy import Policy, load_policy
from schemas.settings import Settings
from servers.common.principal import Principal, staff_principal
from store.database import database_url, open_pool

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    server: str
    pool: AsyncConnectionPool
    settings: Settings
    policy: Policy
    clock: Clock
    local_principal: Principal

    @property
    def confirmation_ttl(self) -> timedelta:
        seconds = self.settings.confirmation_ttl_seconds or self.policy.confirmation_valid_minutes * 60
        return timedelta(seconds=seconds)

    def principal(self) -> Principal:
        """The bearer token's caller over HTTP; the configured local caller over stdio or in memory."""
        token = get_access_token()
        return Principal.from_claims(token.claims) if token is not None else self.local_principal


def runtime_of(ctx: Context) -> Runtime:
    runtime: Runtime = ctx.lifespan_context["runtime"]
    return runtime


def lifespan_for(
    server_name: str,
    settings: Settings,
    *,
    clock: Clock = utc_now,
    local_principal: Principal | None = None,
) -> Callable[[FastMCP], contextlib.AbstractAsyncContextManager[dict[str, Any]]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastMCP) -> AsyncIterator[dict[str, Any]]:
        telemetry.setup(settings, f"levhaolam-{server_name}")  # once per process; a no-op when nothing is configured
        # Starting the embedded PostgreSQL blocks for about a second: keep it off the event loop.
        url = await asyncio.to_thread(database_url, settings)
        # Autocommit: a read tool's query is one round trip, not three (BEGIN, the query, COMMIT). Every change is
        # one statement or runs inside an explicit transaction (servers/common/actions.perform, the knowledge
        # search's settings), so nothing that must be atomic relies on an implicit one.
        async with open_pool(url, max_size=settings.db_pool_max_size, timeout_s=settings.db_connect_timeout_s,
                             autocommit=True) as pool:
            principal = local_principal or staff_principal(settings.staff_name, settings.staff_tools)
            yield {"runtime": Runtime(server_name, pool, settings, load_policy(), clock, principal)}

    return lifespan
