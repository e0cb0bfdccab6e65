"""Customers server: identification and the customer's own records only."""

from __future__ import annotations

import pytest
from fastmcp import Client

from tests.helpers import refusal

SERVER = "customers"


async def a_customer(db) -> dict:
    row = await (await db.execute("SELECT id, email, phone, chatwoot_contact_id FROM customers WHERE phone IS NOT NULL "
                                  "AND chatwoot_contact_id IS NOT NULL ORDER BY id LIMIT 1")).fetchone()
    assert row is not None
    return {"id": row[0], "email": row[1], "phone": row[2], "chatwoot": row[3]}


async def test_identify_by_email_phone_or_chatwoot_contact(client: Client, db) -> None:
    c = await a_customer(db)
    spaced_phone = c["phone"][:4] + " " + c["phone"][4:]
    for key, value in (("email", c["email"].upper()), ("phone", spaced_phone), ("chatwoot_contact_id", c["chatwoot"])):
        found = (await client.call_tool("identify_customer", {key: value})).structured_content
        assert found["found"] and found["matched_by"] == key and found["customer"]["id"] == c["id"]
    nobody = (await client.call_tool("identify_customer", {"email": "nobody@nowhere.example"})).structured_content
    assert nobody == {"found": False, "matched_by": None, "customer": None}


@pytest.mark.parametrize(("arguments", "field"), [
    ({}, "email"),
    ({"email": "a@b.com", "phone": "+972500000000"}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": "12"}, "phone"),
    ({"chatwoot_contact_id": -5}, "chatwoot_contact_id"),
])
async def test_identify_bad_input(client: Client, arguments: dict, field: str) -> None:
    error = await refusal(client, "identify_customer", arguments)
    assert error["code"] == "invalid_argument" and error["field"] == field


async def test_profile_and_order_history(client: Client, db) -> None:
    c = await a_customer(db)
    profile = (await client.call_tool("get_customer_profile", {"customer_id": c["id"]})).structured_content
    assert profile["customer"]["email"] == c["email"] and profile["subscriptions"] and profile["addresses"]
    history = (await client.call_tool("get_order_history", {"customer_id": c["id"], "limit": 3})).structured_content
    assert 1 <= len(history["orders"]) <= 3 and ":" in history["orders"][0]["items"][0]
    months = [o["box_month"] for o in history["orders"]]
    assert months == sorted(months, reverse=True)
    missing = await refusal(client, "get_customer_profile", {"customer_id": 10_000_000})
    assert missing["code"] == "not_found" and missing["field"] == "customer_id"
