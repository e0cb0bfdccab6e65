"""Damage server: a claim from report to resolution, and every refusal on the way."""

from __future__ import annotations

from datetime import timedelta

from fastmcp import Client

from tests.helpers import AS_OF, confirm, refusal

SERVER = "damage"


async def delivered_order(db, days_ago: float = 3) -> dict:
    """A delivered order with no open claim, its delivery moved to `days_ago` before AS_OF."""
    row = await (await db.execute(
        "SELECT o.customer_id, o.id, s.id FROM orders o JOIN shipments s ON s.order_id = o.id "
        "WHERE s.status = 'delivered' AND NOT EXISTS (SELECT 1 FROM damage_claims c WHERE c.order_id = o.id) "
        "ORDER BY o.id LIMIT 1")).fetchone()
    assert row is not None
    await db.execute("UPDATE shipments SET delivered_at = greatest(shipped_at, %s) WHERE id = %s",
                     (AS_OF - timedelta(days=days_ago), row[2]))
    items = await (await db.execute("SELECT oi.sku, p.price_cents FROM order_items oi JOIN products p USING (sku) "
                                    "WHERE order_id = %s ORDER BY p.price_cents", (row[1],))).fetchall()
    return {"customer": row[0], "order": row[1], "skus": [i[0] for i in items]}


async def test_a_claim_from_report_to_resolution(client: Client, db) -> None:
    o = await delivered_order(db)
    created = await confirm(client, "create_damage_claim", {
        "customer_id": o["customer"], "order_id": o["order"], "description": "The jar arrived broken",
        "items": [{"sku": o["skus"][0], "quantity": 1, "damage_type": "broken"}]})
    claim = created["result"]
    assert claim["status"] == "awaiting_photos" and claim["items"][0]["sku"] == o["skus"][0]
    base = {"customer_id": o["customer"], "claim_id": claim["id"]}

    photos = (await client.call_tool("request_photos", base)).structured_content
    assert photos["photos_needed"] == 1 and photos["upload_url"].endswith(f"/claims/{claim['id']}")
    early = await refusal(client, "propose_resolution", base | {"resolution": "refund"})
    assert "needs at least 1 photo" in early["message"]

    attached = await confirm(client, "attach_photo", base | {"url": "https://cdn.example.com/p/1.jpg",
                                                             "content_type": "image/jpeg"})
    assert attached["result"]["status"] == "under_review" and len(attached["result"]["photos"]) == 1

    proposed = await confirm(client, "propose_resolution", base | {"resolution": "credit"})
    price = (await (await db.execute("SELECT price_cents FROM products WHERE sku = %s", (o["skus"][0],))).fetchone())[0]
    assert proposed["result"]["resolution"] == "credit"
    assert proposed["result"]["resolution_amount_cents"] == price * 120 // 100

    accepted = await confirm(client, "accept_resolution", base)
    assert accepted["result"]["status"] == "resolved" and accepted["result"]["resolved_at"] is not None
    status = (await client.call_tool("get_claim_status", base)).structured_content
    assert status == accepted["result"]


async def test_claims_follow_the_policy(client: Client, db) -> None:
    late = await delivered_order(db, days_ago=20)
    too_late = await refusal(client, "create_damage_claim", {
        "customer_id": late["customer"], "order_id": late["order"], "description": "Broken",
        "items": [{"sku": late["skus"][0], "damage_type": "broken"}]})
    assert too_late["code"] == "policy_violation" and "within 14 days of delivery" in too_late["message"]

    o = await delivered_order(db, days_ago=2)
    base = {"customer_id": o["customer"], "order_id": o["order"], "description": "Broken"}
    not_in_order = await refusal(client, "create_damage_claim", base | {
        "items": [{"sku": "NOT-IN-BOX", "damage_type": "broken"}]})
    assert not_in_order["code"] == "invalid_argument" and not_in_order["field"] == "items.0.sku"
    bad_type = await refusal(client, "create_damage_claim", base | {"items": [{"sku": o["skus"][0],
                                                                              "damage_type": "ugly"}]})
    assert bad_type["field"] == "items.0.damage_type"
    no_items = await refusal(client, "create_damage_claim", base | {"items": []})
    assert no_items["field"] == "items"

    await confirm(client, "create_damage_claim", base | {"items": [{"sku": o["skus"][0], "damage_type": "leaked"}]})
    second = await refusal(client, "create_damage_claim", base | {"items": [{"sku": o["skus"][1],
                                                                             "damage_type": "broken"}]})
    assert second["code"] == "conflict" and "is already open" in second["message"]


async def test_large_refunds_go_to_a_human(client: Client, db) -> None:
    o = await delivered_order(db)
    await db.execute("UPDATE products SET price_cents = 9000 WHERE sku = %s", (o["skus"][0],))
    claim = (await confirm(client, "create_damage_claim", {
        "customer_id": o["customer"], "order_id": o["order"], "description": "Broken",
        "items": [{"sku": o["skus"][0], "damage_type": "broken"}]}))["result"]
    base = {"customer_id": o["customer"], "claim_id": claim["id"]}
    await confirm(
        client, "attach_photo", base | {"url": "https://cdn.example.com/p/2.png", "content_type": "image/png"}
    )
    refund = await refusal(client, "propose_resolution", base | {"resolution": "refund"})
    assert refund["code"] == "policy_violation" and "needs a human's approval" in refund["message"]
    bad_photo = await refusal(client, "attach_photo", base | {"url": "http://insecure.example.com/x.jpg",
                                                              "content_type": "image/jpeg"})
    assert bad_photo["field"] == "url"
    other = await refusal(client, "get_claim_status", {"customer_id": o["customer"] + 1, "claim_id": claim["id"]})
    assert other["code"] == "not_found"
