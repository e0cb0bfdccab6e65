"""What tests share that is not a fixture: the fixed clock, settings, MCP clients, tokens and small assertions.

Fixtures live in the conftest files; everything a test module imports comes from here.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from fastmcp import Client, FastMCP
from fastmcp.client.transports import StreamableHttpTransport
from psycopg.rows import dict_row

from access.tokens import mint_token
from schemas.services import MCP_PATH
from schemas.settings import Settings
from servers.common.loopback import serve_on_loopback
from store.demo.generator import SeedConfig

ROOT = Path(__file__).resolve().parents[1]
HELP_CENTER = ROOT / "docs" / "help-center"

AS_OF = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SMALL = SeedConfig(customers=120, tickets=900, seed=7, as_of=AS_OF)

JWT_SECRET = "test-secret-" + "x" * 40
CANCEL_KEY = base64.b64encode(bytes(range(32))).decode()


def fixed_clock() -> datetime:
    return AS_OF


def settings_for(url: str, **overrides: Any) -> Settings:
    values = {"DATABASE_URL": url, "LEVHAOLAM_JWT_SECRET": JWT_SECRET, "LEVHAOLAM_CANCEL_LINK_KEY": CANCEL_KEY,
              "LEVHAOLAM_DB_CONNECT_TIMEOUT": 3} | overrides
    return Settings(_env_file=None, **values)


def error_of(result: Any) -> dict:
    """The typed error of a failed tool call."""
    assert result.is_error, result
    return json.loads(result.content[0].text)


@contextlib.asynccontextmanager
async def memory_client(server: FastMCP) -> AsyncIterator[Client]:
    async with Client(server) as client:
        yield client


@contextlib.asynccontextmanager
async def http_server(server: FastMCP) -> AsyncIterator[str]:
    """A real uvicorn serving the server's streamable HTTP app on a free port; yields the endpoint URL."""
    async with serve_on_loopback(server.http_app(path=MCP_PATH)) as base:
        yield f"{base}{MCP_PATH}"


def bearer(tools: list[str], *, scope: str = "test", subject: str = "tests/http", **claims: Any) -> str:
    return mint_token(JWT_SECRET, subject=subject, scope=scope, tools=tools, **claims)


def http_client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(StreamableHttpTransport(url, headers=headers))


async def audit_rows(conn: psycopg.AsyncConnection, tool: str | None = None) -> list[dict]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT * FROM action_audit WHERE %(t)s::text IS NULL OR tool = %(t)s ORDER BY id", {"t": tool})
    return await cur.fetchall()


async def confirm(client: Client, tool: str, arguments: dict) -> dict:
    """Ask, then confirm, the way an agent does after the customer said yes."""
    first = await client.call_tool(tool, arguments, raise_on_error=False)
    assert not first.is_error, first.content
    assert first.structured_content["status"] == "confirmation_required"
    done = await client.call_tool(tool, arguments | {"confirmation_token": first.structured_content[
        "confirmation_token"]}, raise_on_error=False)
    assert not done.is_error, done.content
    return done.structured_content


async def refusal(client: Client, tool: str, arguments: dict) -> dict:
    return error_of(await client.call_tool(tool, arguments, raise_on_error=False))


async def active_subscription(db: psycopg.AsyncConnection, skip: int = 0) -> tuple[int, int]:
    row = await (await db.execute(
        "SELECT customer_id, id FROM subscriptions WHERE status = 'active' AND frequency = 'monthly' "
        "ORDER BY id OFFSET %s LIMIT 1", (skip,))).fetchone()
    assert row is not None
    return row[0], row[1]


async def status_of(db: psycopg.AsyncConnection, subscription_id: int) -> tuple:
    row = await (await db.execute("SELECT status, paused_until::text, next_shipment_date::text FROM subscriptions "
                                  "WHERE id = %s", (subscription_id,))).fetchone()
    assert row is not None
    return tuple(row)
