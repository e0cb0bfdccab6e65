"""The two-phase action protocol, enforced by the server whatever the client does."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from fastmcp import Client

from tests.helpers import AS_OF, active_subscription, audit_rows, error_of, memory_client, status_of


async def ask(client: Client, customer: int, sub: int, months: int = 2, **extra) -> dict:
    result = await client.call_tool("pause_subscription", {"customer_id": customer, "subscription_id": sub,
                                                           "months": months, **extra}, raise_on_error=False)
    assert not result.is_error, result.content
    return result.structured_content


async def test_without_a_token_nothing_changes_and_the_summary_says_exactly_what_will_happen(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    before = await status_of(db, sub)
    async with memory_client(make_server("subscriptions")) as client:
        answer = await ask(client, customer, sub)
    assert answer["status"] == "confirmation_required"
    # On 2026-11-28 the December box is past its cut-off; a 2-month pause skips January and February.
    assert answer["summary"] == f"Pause subscription #{sub} for 2 months; next box ships 2027-03-05"
    assert answer["arguments"] == {"customer_id": customer, "subscription_id": sub, "months": 2}
    assert answer["expires_at"].startswith((AS_OF + timedelta(minutes=15)).date().isoformat())
    assert await status_of(db, sub) == before
    [row] = await audit_rows(db, "pause_subscription")
    assert (
        row["outcome"] == "confirmation_requested" and row["caller"] == "staff/staff" and row["customer_id"] == customer
    )


async def test_the_confirmed_call_executes_once_and_is_audited(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    async with memory_client(make_server("subscriptions")) as client:
        token = (await ask(client, customer, sub))["confirmation_token"]
        done = await ask(client, customer, sub, confirmation_token=token)
        again = await client.call_tool("pause_subscription", {"customer_id": customer, "subscription_id": sub,
                                                              "months": 2, "confirmation_token": token},
                                       raise_on_error=False)
    assert done["status"] == "executed" and done["result"]["status"] == "paused"
    assert await status_of(db, sub) == ("paused", "2027-03-01", "2027-03-05")
    assert error_of(again) == {"code": "confirmation_used", "field": "confirmation_token", "message":
                               "this confirmation was already used; the action was done once. Call without a token "
                               "to ask the customer again if they want it done again"}
    outcomes = [r["outcome"] for r in await audit_rows(db, "pause_subscription")]
    assert outcomes == ["confirmation_requested", "executed", "refused"]


@pytest.mark.parametrize("attack", ["forged", "other_arguments", "other_customer", "other_tool"])
async def test_a_token_not_issued_for_this_exact_call_is_refused(make_server, db, attack: str) -> None:
    customer, sub = await active_subscription(db)
    other_customer, other_sub = await active_subscription(db, skip=1)
    async with memory_client(make_server("subscriptions")) as client:
        token = (await ask(client, customer, sub))["confirmation_token"]
        other_token = (await ask(client, other_customer, other_sub))["confirmation_token"]
        tool, arguments = "pause_subscription", {"customer_id": customer, "subscription_id": sub, "months": 2}
        if attack == "forged":
            arguments["confirmation_token"] = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        elif attack == "other_arguments":
            arguments |= {"months": 3, "confirmation_token": token}
        elif attack == "other_customer":
            arguments["confirmation_token"] = other_token
        else:
            tool, arguments = "cancel_subscription", {"customer_id": customer, "subscription_id": sub,
                                                      "confirmation_token": token}
        refused = await client.call_tool(tool, arguments, raise_on_error=False)
    error = error_of(refused)
    assert error["code"] == "confirmation_invalid" and error["field"] == "confirmation_token"
    assert (await status_of(db, sub))[0] == "active"
    assert (await audit_rows(db, tool))[-1]["outcome"] == "refused"


async def test_an_expired_token_is_refused(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    now = [AS_OF]
    async with memory_client(make_server("subscriptions", clock=lambda: now[0])) as client:
        token = (await ask(client, customer, sub))["confirmation_token"]
        now[0] = AS_OF + timedelta(minutes=15, seconds=1)
        refused = await client.call_tool("pause_subscription", {"customer_id": customer, "subscription_id": sub,
                                                                "months": 2, "confirmation_token": token},
                                         raise_on_error=False)
    assert error_of(refused)["code"] == "confirmation_expired"
    assert (await status_of(db, sub))[0] == "active"


async def test_the_confirmation_lifetime_is_configurable(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    async with memory_client(make_server("subscriptions", LEVHAOLAM_CONFIRMATION_TTL_SECONDS=60)) as client:
        answer = await ask(client, customer, sub)
    assert answer["expires_at"] == (AS_OF + timedelta(seconds=60)).isoformat().replace("+00:00", "Z")


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_result(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    async with memory_client(make_server("subscriptions")) as client:
        token = (await ask(client, customer, sub))["confirmation_token"]
        first = await ask(client, customer, sub, confirmation_token=token, idempotency_key="retry-key-0001")
        retry = await ask(client, customer, sub, confirmation_token=token, idempotency_key="retry-key-0001")
        conflict = await client.call_tool("pause_subscription", {
            "customer_id": customer, "subscription_id": sub, "months": 3, "confirmation_token": token,
            "idempotency_key": "retry-key-0001"}, raise_on_error=False)
    assert first["status"] == "executed" and not first["replayed"]
    assert retry["replayed"] and retry["audit_id"] == first["audit_id"] and retry["result"] == first["result"]
    assert error_of(conflict)["code"] == "idempotency_conflict"
    outcomes = [r["outcome"] for r in await audit_rows(db, "pause_subscription")]
    assert outcomes.count("executed") == 1 and "replayed" in outcomes


@pytest.mark.parametrize("with_key", [True, False], ids=["same-key", "no-key"])
async def test_a_concurrent_double_submit_applies_exactly_once(make_server, db, with_key: bool) -> None:
    customer, sub = await active_subscription(db)
    server = make_server("subscriptions")
    async with memory_client(server) as asker:
        token = (await ask(asker, customer, sub))["confirmation_token"]
    extra = {"confirmation_token": token} | ({"idempotency_key": "double-submit-1"} if with_key else {})
    arguments = {"customer_id": customer, "subscription_id": sub, "months": 2, **extra}

    async def submit() -> object:
        async with Client(server) as client:
            return await client.call_tool("pause_subscription", arguments, raise_on_error=False)

    results = await asyncio.gather(*(submit() for _ in range(4)))
    executed = [r for r in results if not r.is_error and not r.structured_content["replayed"]]
    assert len(executed) == 1
    others = [r for r in results if r not in executed]
    if with_key:
        assert all(not r.is_error and r.structured_content["replayed"] for r in others)
    else:
        assert all(error_of(r)["code"] == "confirmation_used" for r in others)
    outcomes = [r["outcome"] for r in await audit_rows(db, "pause_subscription")]
    assert outcomes.count("executed") == 1


async def test_policy_is_checked_again_when_the_confirmed_call_executes(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    async with memory_client(make_server("subscriptions")) as client:
        token = (await ask(client, customer, sub))["confirmation_token"]
        await db.execute("UPDATE subscriptions SET status = 'cancelled', cancelled_at = now(), "
                         "next_shipment_date = NULL WHERE id = %s", (sub,))
        refused = await client.call_tool("pause_subscription", {"customer_id": customer, "subscription_id": sub,
                                                                "months": 2, "confirmation_token": token},
                                         raise_on_error=False)
    assert error_of(refused)["code"] == "policy_violation"
    assert "is cancelled, so it cannot be paused" in error_of(refused)["message"]


async def test_bad_input_to_an_action_is_a_refused_attempt_in_the_audit_log(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    async with memory_client(make_server("subscriptions")) as client:
        for months in (7, "two"):
            await client.call_tool("pause_subscription", {"customer_id": customer, "subscription_id": sub,
                                                          "months": months}, raise_on_error=False)
        await client.call_tool("get_subscription", {"customer_id": customer, "subscription_id": "x"},
                               raise_on_error=False)
    rows = await audit_rows(db)
    assert [(r["tool"], r["outcome"], r["error_code"]) for r in rows] == [
        ("pause_subscription", "refused", "invalid_argument")] * 2
    assert rows[0]["arguments"]["months"] == 7 and rows[0]["result"]["field"] == "months"
