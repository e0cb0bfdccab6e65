"""Who may call what: bearer tokens over HTTP, scopes, customer binding, and a database that goes away."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import httpx
import pytest
from fastmcp import Client

from access.tokens import mint_token
from servers.common.principal import staff_principal
from servers.registry import builder
from tests.helpers import (
    active_subscription,
    audit_rows,
    bearer,
    error_of,
    http_client,
    http_server,
    memory_client,
    settings_for,
)

PAUSE_SCOPE = ["get_subscription", "pause_subscription", "get_retention_offers"]


@pytest.fixture
async def subscriptions_url(db_url: str):
    async with http_server(builder("subscriptions")(settings_for(db_url), transport="http")) as url:
        yield url


async def test_only_the_tools_in_the_token_are_listed(subscriptions_url: str) -> None:
    async with http_client(subscriptions_url, bearer(PAUSE_SCOPE, scope="pause_subscription")) as client:
        assert sorted(t.name for t in await client.list_tools()) == sorted(PAUSE_SCOPE)


async def test_a_call_outside_the_scope_is_refused_and_audited(subscriptions_url: str, db) -> None:
    customer, sub = await active_subscription(db)
    token = bearer(PAUSE_SCOPE, scope="pause_subscription", subject="orchestrator/pause_subscription",
                   conversation_id="cw-4242")
    async with http_client(subscriptions_url, token) as client:
        refused = await client.call_tool("cancel_subscription", {"customer_id": customer, "subscription_id": sub},
                                         raise_on_error=False)
    error = error_of(refused)
    assert error["code"] == "forbidden" and "outside this caller's scope (pause_subscription)" in error["message"]
    [row] = await audit_rows(db, "cancel_subscription")
    assert (row["outcome"], row["error_code"], row["caller"], row["scope"], row["conversation_id"]) == (
        "refused", "forbidden", "orchestrator/pause_subscription", "pause_subscription", "cw-4242")
    assert (await (await db.execute("SELECT status FROM subscriptions WHERE id = %s", (sub,))).fetchone())[
        0
    ] == "active"


async def test_a_token_bound_to_a_customer_cannot_reach_another(subscriptions_url: str, db) -> None:
    customer, sub = await active_subscription(db)
    other_customer, other_sub = await active_subscription(db, skip=1)
    token = bearer(["*"], customer_id=customer)
    async with http_client(subscriptions_url, token) as client:
        own = await client.call_tool("get_subscription", {"customer_id": customer, "subscription_id": sub})
        assert own.structured_content["id"] == sub
        other = await client.call_tool("get_subscription", {"customer_id": other_customer,
                                                            "subscription_id": other_sub}, raise_on_error=False)
    assert error_of(other)["code"] == "not_found"
    assert (await audit_rows(db, "get_subscription"))[-1]["outcome"] == "refused"


@pytest.mark.parametrize("token", [
    None,
    "not-a-jwt",
    mint_token("another-secret-that-is-long-enough-000000", subject="x", scope="staff", tools=["*"]),
    mint_token("test-secret-" + "x" * 40, subject="x", scope="staff", tools=["*"], ttl_seconds=-10),
], ids=["missing", "garbage", "wrong-secret", "expired"])
async def test_http_without_a_valid_token_is_unauthorized(subscriptions_url: str, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as raw:
        response = await raw.post(
            subscriptions_url,
            headers=headers | {"Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
    assert response.status_code == 401


async def test_stdio_staff_scope_comes_from_configuration(make_server) -> None:
    principal = staff_principal("dana", "get_subscription,list_subscriptions")
    async with memory_client(make_server("subscriptions", principal=principal)) as client:
        assert sorted(t.name for t in await client.list_tools()) == ["get_subscription", "list_subscriptions"]
        refused = await client.call_tool("pause_subscription", {"customer_id": 1, "subscription_id": 1, "months": 1},
                                         raise_on_error=False)
    assert error_of(refused)["code"] == "forbidden"


async def test_database_down_gives_a_clear_error_quickly(admin_url: str, seeded_template: str) -> None:
    from tests.pg import scratch_database

    async with scratch_database(admin_url, template=seeded_template) as url:
        server = builder("subscriptions")(settings_for(url), transport="memory")
        async with Client(server) as client:
            ok = await client.call_tool("list_subscriptions", {"customer_id": 1})
            assert not ok.is_error
            import psycopg

            async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as admin:
                name = urlsplit(url).path.lstrip("/")
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            started = time.monotonic()
            for _ in range(2):  # the first call finds a dead connection, the next cannot connect at all
                down = await client.call_tool("pause_subscription", {"customer_id": 1, "subscription_id": 1,
                                                                     "months": 1}, raise_on_error=False)
                assert error_of(down)["code"] == "unavailable"
                assert "nothing was changed" in error_of(down)["message"]
            assert time.monotonic() - started < 15
