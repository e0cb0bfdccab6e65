"""Fixtures for the MCP servers: a seeded database per test, clients over memory, HTTP and stdio."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.transports import StreamableHttpTransport

from schemas.settings import Settings
from servers.common.loopback import serve_on_loopback
from servers.common.principal import Principal
from servers.common.tokens import mint_token
from servers.registry import builder
from tests.conftest import AS_OF

JWT_SECRET = "test-secret-" + "x" * 40
CANCEL_KEY = base64.b64encode(bytes(range(32))).decode()


def fixed_clock():
    return AS_OF


def settings_for(url: str, **overrides: Any) -> Settings:
    values = {"DATABASE_URL": url, "LEVHAOLAM_JWT_SECRET": JWT_SECRET, "LEVHAOLAM_CANCEL_LINK_KEY": CANCEL_KEY,
              "LEVHAOLAM_DB_CONNECT_TIMEOUT": 3} | overrides
    return Settings(_env_file=None, **values)


def error_of(result: Any) -> dict:
    """The typed error of a failed tool call."""
    assert result.is_error, result
    return json.loads(result.content[0].text)


ServerFactory = Callable[..., FastMCP]


@pytest.fixture
def make_server(db_url: str) -> ServerFactory:
    def make(name: str, *, principal: Principal | None = None, clock=fixed_clock, **settings: Any) -> FastMCP:
        return builder(name)(settings_for(db_url, **settings), transport="memory", clock=clock,
                             local_principal=principal)

    return make


@contextlib.asynccontextmanager
async def memory_client(server: FastMCP) -> AsyncIterator[Client]:
    async with Client(server) as client:
        yield client


@contextlib.asynccontextmanager
async def http_server(server: FastMCP) -> AsyncIterator[str]:
    """A real uvicorn serving the server's streamable HTTP app on a free port; yields the endpoint URL."""
    async with serve_on_loopback(server.http_app(path="/mcp")) as base:
        yield f"{base}/mcp"


def bearer(tools: list[str], *, scope: str = "test", subject: str = "tests/http", **claims: Any) -> str:
    return mint_token(JWT_SECRET, subject=subject, scope=scope, tools=tools, **claims)


def http_client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(StreamableHttpTransport(url, headers=headers))


async def audit_rows(conn: psycopg.AsyncConnection, tool: str | None = None) -> list[dict]:
    from psycopg.rows import dict_row

    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT * FROM action_audit WHERE %(t)s::text IS NULL OR tool = %(t)s ORDER BY id", {"t": tool})
    return await cur.fetchall()
