"""Subscriptions server: every tool, its policy refusals, bad input and other customers' records."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from fastmcp import Client

from tests.helpers import AS_OF, active_subscription, confirm, memory_client, refusal, status_of

SERVER = "subscriptions"


async def test_get_and_list_subscriptions(client: Client, db: psycopg.AsyncConnection) -> None:
    customer, sub = await active_subscription(db)
    got = (await client.call_tool("get_subscription", {"customer_id": customer, "subscription_id": sub})).data
    assert got.id == sub and got.status == "active"
    listed = (await client.call_tool("list_subscriptions", {"customer_id": customer})).structured_content
    assert sub in [s["id"] for s in listed["subscriptions"]]


async def test_another_customers_subscription_looks_exactly_like_a_missing_one(client: Client, db) -> None:
    customer, _ = await active_subscription(db)
    _, other_sub = await active_subscription(db, skip=1)
    theirs = await refusal(client, "get_subscription", {"customer_id": customer, "subscription_id": other_sub})
    missing = await refusal(client, "get_subscription", {"customer_id": customer, "subscription_id": 99_999_999})
    assert theirs["code"] == missing["code"] == "not_found" and theirs["field"] == "subscription_id"
    assert theirs["message"].replace(str(other_sub), "N") == missing["message"].replace("99999999", "N")
    for tool in ("pause_subscription", "cancel_subscription", "get_retention_offers"):
        args = {"customer_id": customer, "subscription_id": other_sub} | ({"months": 1} if "pause" in tool else {})
        assert (await refusal(client, tool, args))["code"] == "not_found"


@pytest.mark.parametrize(("arguments", "field", "message"), [
    ({"subscription_id": 1, "months": 4}, "months", "a pause can be 1, 2, 3 months"),
    ({"subscription_id": 0, "months": 1}, "subscription_id", "greater than 0"),
    ({"subscription_id": "abc", "months": 1}, "subscription_id", "valid integer"),
    ({"months": 1}, "subscription_id", "this field is required"),
    ({"subscription_id": 1, "months": 1, "confirmation_token": "short"}, "confirmation_token", "at least 16"),
    ({"subscription_id": 1, "months": 1, "idempotency_key": "bad key!"}, "idempotency_key", "pattern"),
    ({"subscription_id": 1, "months": 1, "force": True}, "force", "no such argument"),
])
async def test_bad_input_names_the_field(client: Client, arguments: dict, field: str, message: str) -> None:
    error = await refusal(client, "pause_subscription", {"customer_id": 1, **arguments})
    assert error["code"] == "invalid_argument" and error["field"] == field and message in error["message"]


async def test_pause_refusals_follow_the_policy(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    await confirm(client, "pause_subscription", {"customer_id": customer, "subscription_id": sub, "months": 1})
    again = await refusal(client, "pause_subscription", {"customer_id": customer, "subscription_id": sub, "months": 1})
    assert again["code"] == "policy_violation" and "already paused until 2027-02-01" in again["message"]
    row = await (await db.execute("SELECT customer_id, id FROM subscriptions WHERE status = 'cancelled' LIMIT 1"
                                  )).fetchone()
    cancelled = await refusal(client, "pause_subscription", {"customer_id": row[0], "subscription_id": row[1],
                                                             "months": 1})
    assert cancelled["code"] == "policy_violation" and "is cancelled, so it cannot be paused" in cancelled["message"]
    row = await (await db.execute("SELECT customer_id, id FROM subscriptions WHERE status = 'past_due' LIMIT 1"
                                  )).fetchone()
    past_due = await refusal(client, "pause_subscription", {"customer_id": row[0], "subscription_id": row[1],
                                                            "months": 1})
    assert "unpaid charge" in past_due["message"]


async def test_resume_a_paused_subscription(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    await confirm(client, "pause_subscription", {"customer_id": customer, "subscription_id": sub, "months": 3})
    done = await confirm(client, "resume_subscription", {"customer_id": customer, "subscription_id": sub})
    assert done["result"]["status"] == "active" and done["result"]["next_shipment_date"] == "2027-01-05"
    not_paused = await refusal(client, "resume_subscription", {"customer_id": customer, "subscription_id": sub})
    assert "not paused" in not_paused["message"]


async def test_skip_only_before_the_cutoff_and_at_most_twice_a_year(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    await db.execute("DELETE FROM subscription_skips WHERE subscription_id = %s", (sub,))
    await db.execute("UPDATE subscriptions SET next_shipment_date = '2027-01-05' WHERE id = %s", (sub,))
    base = {"customer_id": customer, "subscription_id": sub}
    late = await refusal(client, "skip_month", base | {"box_month": "2026-12-01"})
    assert late["field"] == "box_month" and "cut-off for the December 2026 box was 2026-11-20" in late["message"]
    done = await confirm(client, "skip_month", base | {"box_month": "2027-01-01"})
    assert done["summary"] == "The January 2027 box is skipped; the next box ships 2027-02-05"
    assert await status_of(db, sub) == ("active", None, "2027-02-05")
    await confirm(client, "skip_month", base | {"box_month": "2027-03-01"})
    third = await refusal(client, "skip_month", base | {"box_month": "2027-05-01"})
    assert third["code"] == "policy_violation" and "at most 2 boxes can be skipped in 12 months" in third["message"]
    twice = await refusal(client, "skip_month", base | {"box_month": "2027-01-01"})
    assert "already skipped" in twice["message"]
    mid_month = await refusal(client, "skip_month", base | {"box_month": "2027-04-15"})
    assert mid_month == {"code": "invalid_argument", "field": "box_month",
                         "message": "give the first day of the month, e.g. 2027-04-01"}


async def test_change_frequency(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    base = {"customer_id": customer, "subscription_id": sub}
    same = await refusal(client, "change_frequency", base | {"frequency": "monthly"})
    assert same == {"code": "invalid_argument", "field": "frequency",
                    "message": f"subscription #{sub} is already monthly"}
    done = await confirm(client, "change_frequency", base | {"frequency": "quarterly"})
    assert done["result"]["frequency"] == "quarterly"
    unknown = await refusal(client, "change_frequency", base | {"frequency": "weekly"})
    assert unknown["field"] == "frequency"


GOOD_ADDRESS = {"line1": "Friedrichstrasse 43", "city": "Berlin", "postal_code": "10117", "country_code": "de"}


async def test_change_address_validates_and_applies_to_future_boxes(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    base = {"customer_id": customer, "subscription_id": sub}
    japan = await refusal(client, "change_address", base | {"address": GOOD_ADDRESS | {"country_code": "JP"}})
    assert japan["code"] == "policy_violation" and japan["field"] == "address.country_code"
    assert "we do not ship to JP" in japan["message"]
    bad_postcode = await refusal(client, "change_address", base | {"address": GOOD_ADDRESS | {"postal_code": "1234"}})
    assert bad_postcode == {"code": "invalid_argument", "field": "address.postal_code",
                            "message": "'1234' is not a valid postal code for DE"}
    no_postcode = await refusal(client, "change_address", base | {"address": GOOD_ADDRESS | {"postal_code": None}})
    assert no_postcode["field"] == "address.postal_code"
    done = await confirm(client, "change_address", base | {"address": GOOD_ADDRESS})
    assert done["result"]["address"]["country_code"] == "DE"
    row = await (await db.execute(
        "SELECT a.line1, a.is_default, (SELECT count(*) FROM addresses WHERE customer_id = %s AND is_default) "
        "FROM subscriptions s JOIN addresses a ON a.id = s.shipping_address_id WHERE s.id = %s",
        (customer, sub))).fetchone()
    assert row == ("Friedrichstrasse 43", True, 1)


async def test_cancel_once(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    base = {"customer_id": customer, "subscription_id": sub}
    done = await confirm(client, "cancel_subscription", base | {"reason": "moving abroad"})
    assert done["result"]["status"] == "cancelled" and done["result"]["next_shipment_date"] is None
    again = await refusal(client, "cancel_subscription", base)
    assert again["code"] == "policy_violation" and "already cancelled" in again["message"]


async def test_retention_offers_fit_the_subscription(client: Client, db) -> None:
    customer, sub = await active_subscription(db)
    await db.execute("UPDATE subscriptions SET plan = 'classic', next_shipment_date = '2027-01-05' WHERE id = %s",
                     (sub,))
    offers = (await client.call_tool("get_retention_offers", {"customer_id": customer, "subscription_id": sub}
                                     )).structured_content["offers"]
    kinds = [o["kind"] for o in offers]
    assert kinds == ["pause", "skip_next_box", "lower_frequency", "discount"]
    assert offers[1]["suggested_arguments"] == {"subscription_id": sub, "box_month": "2027-01-01"}


async def test_cancel_links_open_only_untampered_and_unexpired(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    now = [AS_OF]
    async with memory_client(make_server("subscriptions", clock=lambda: now[0])) as client:
        link = (await client.call_tool("create_cancel_link", {"customer_id": customer, "subscription_id": sub}
                                       )).structured_content
        assert link["url"].startswith("https://levhaolam.com/account/cancel?t=")
        opened = (await client.call_tool("verify_cancel_link", {"link": link["url"]})).structured_content
        assert opened == {"customer_id": customer, "subscription_id": sub, "expires_at": link["expires_at"]}
        token = link["url"].split("t=")[1]
        for position in (0, len(token) // 2, len(token) - 1):
            flipped = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
            tampered = await refusal(client, "verify_cancel_link", {"link": flipped})
            assert tampered == {"code": "invalid_argument", "field": "link",
                                "message": "this cancel link is not valid: it was altered or not issued by us"}
        now[0] = AS_OF + timedelta(hours=48, seconds=1)
        expired = await refusal(client, "verify_cancel_link", {"link": link["url"]})
        assert "expired" in expired["message"]
    audited = await (await db.execute("SELECT count(*) FROM action_audit WHERE tool = 'create_cancel_link'")).fetchone()
    assert audited == (1,)


async def test_cancel_links_need_a_configured_key(make_server, db) -> None:
    customer, sub = await active_subscription(db)
    async with memory_client(make_server("subscriptions", LEVHAOLAM_CANCEL_LINK_KEY=None)) as client:
        error = await refusal(client, "create_cancel_link", {"customer_id": customer, "subscription_id": sub})
    assert error["code"] == "unavailable" and "LEVHAOLAM_CANCEL_LINK_KEY" in error["message"]
