"""The tables that hold the business's content, in an order that satisfies their foreign keys.

The demo loader fills them in this order; the summary and the content checksum read them.
"""

from __future__ import annotations

CONTENT_TABLES: tuple[str, ...] = (
    "products", "customers", "addresses", "subscriptions", "subscription_skips", "orders", "order_items", "shipments",
    "shipment_events", "damage_claims", "damage_claim_items", "damage_claim_photos", "payment_issues",
    "ai_answerer_instructions", "support_threads_data", "support_dialogs", "ai_human_comparison", "ai_agent_tasks",
)
