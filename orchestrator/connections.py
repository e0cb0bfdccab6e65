"""Pooled MCP connections, reused across turns, each carrying the current turn's bearer token.

A connect costs 26-70 ms and a call ~5 ms, so connections are opened once and kept. One connected
`MCPServerStreamableHttp` serialises its requests, so each server has a small pool: a turn leases one connection
per server it needs, exclusively, and concurrent turns do not queue behind each other. The protocol in use has no
MCP session, so the token is a per-request `Authorization` header: the leased connection's `httpx2.Auth` reads
the token set for the lease (a context variable would not reach the transport's background task).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2
from agents.exceptions import UserError
from agents.mcp import MCPServerStreamableHttp
from agents.mcp.util import ToolFilterContext
from mcp_types import Tool as MCPTool

from schemas.services import McpServer

log = logging.getLogger(__name__)


class BearerAuth(httpx2.Auth):
    """Adds the token of the current lease to every request of one connection."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.on_request: Callable[[], None] | None = None  # told when a request of the lease is about to be written

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        if self.token:
            request.headers["Authorization"] = f"Bearer {self.token}"
        if self.on_request is not None:
            self.on_request()
        yield request


def allowed_by_turn(context: ToolFilterContext, tool: MCPTool) -> bool:
    """Model-driven agents see only the tools of their category (the run context carries the allow-list)."""
    allowed = getattr(context.run_context.context, "allowed_tools", None)
    return allowed is not None and tool.name in allowed


async def _unfiltered_tools(mcp: MCPServerStreamableHttp) -> list[MCPTool]:
    # The per-turn filter needs a run context; listing outside a run (warm-up, checks) sees every tool.
    saved, mcp.tool_filter = mcp.tool_filter, None
    try:
        return await mcp.list_tools()
    finally:
        mcp.tool_filter = saved


@dataclass
class PooledConnection:
    server: McpServer
    mcp: MCPServerStreamableHttp
    auth: BearerAuth
    connected: bool = False


class McpServerUnreachable(Exception):
    """A server the orchestrator could not connect to: which one, where, and why (the SDK's redacted reason)."""

    def __init__(self, server: McpServer, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the {server.value} MCP server at {url}: {reason}")
        self.server, self.url, self.reason = server, url, reason


@dataclass
class McpConnections:
    """`urls`: each server's endpoint. `warm_token(server)`: a token to connect and list tools with (every tool
    any category may use on that server, no customer)."""

    urls: Mapping[McpServer, str]
    warm_token: Callable[[McpServer], str]
    per_server: int = 4
    timeout_s: float = 10.0
    _idle: dict[McpServer, asyncio.Queue[PooledConnection]] = field(default_factory=dict)
    _all: list[PooledConnection] = field(default_factory=list)

    def __post_init__(self) -> None:
        for server, url in self.urls.items():
            queue: asyncio.Queue[PooledConnection] = asyncio.Queue()
            for _ in range(self.per_server):
                auth = BearerAuth()
                mcp = MCPServerStreamableHttp(
                    params={"url": url, "auth": auth, "timeout": self.timeout_s},
                    name=server.value, cache_tools_list=True, client_session_timeout_seconds=self.timeout_s,
                    tool_filter=allowed_by_turn, use_structured_content=True)
                pooled = PooledConnection(server, mcp, auth)
                queue.put_nowait(pooled)
                self._all.append(pooled)
            self._idle[server] = queue

    async def _ensure_connected(self, pooled: PooledConnection) -> None:
        if pooled.connected:
            return
        pooled.auth.token = self.warm_token(pooled.server)
        await pooled.mcp.connect()
        # Cache the full tool list once, under the wide token; each turn narrows it with its own filter and token.
        await _unfiltered_tools(pooled.mcp)
        pooled.connected = True

    async def tools_of(self, server: McpServer) -> set[str]:
        """What the server lists for the orchestrator: checked against categories.toml at start."""
        try:
            async with self.lease([server], self.warm_token(server)) as leased:
                return {tool.name for tool in await _unfiltered_tools(leased[server])}
        except UserError as exc:  # "Failed to connect to MCP server 'NAME': REASON"
            raise McpServerUnreachable(server, self.urls[server], str(exc).partition(": ")[2] or str(exc)) from None

    @contextlib.asynccontextmanager
    async def lease(self, servers: list[McpServer], token: str, on_request: Callable[[], None] | None = None
                    ) -> AsyncIterator[dict[McpServer, Any]]:
        """One connection per server for this turn, all carrying `token`. A connection that failed during the
        lease is closed and reconnects on its next use (e.g. after the server restarted). `on_request` is called as
        each request of the lease is about to be written."""
        taken: list[PooledConnection] = []
        failed = False
        try:
            for server in sorted(set(servers), key=list(McpServer).index):  # one order: no lease deadlocks
                taken.append(await self._idle[server].get())
            for pooled in taken:
                await self._ensure_connected(pooled)
                pooled.auth.token = token
                pooled.auth.on_request = on_request
            yield {pooled.server: pooled.mcp for pooled in taken}
        except BaseException:
            failed = True
            raise
        finally:
            for pooled in taken:
                pooled.auth.token = None
                pooled.auth.on_request = None
                if failed:
                    await self._reset(pooled)
                self._idle[pooled.server].put_nowait(pooled)

    async def _reset(self, pooled: PooledConnection) -> None:
        if pooled.connected:
            with contextlib.suppress(Exception):
                await pooled.mcp.cleanup()
        pooled.connected = False

    async def close(self) -> None:
        for pooled in self._all:
            await self._reset(pooled)
