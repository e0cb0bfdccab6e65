"""The first category rules (layer 2 of every agent's prompt), following docs/policy.md.

Seeded into `ai_answerer_instructions`; later versions are added as new rows, never edited in place.
Each category has an older version 1 (inactive) and the current version 2, so history is visible.
"""

from __future__ import annotations

from schemas.categories import Category
from schemas.policy import Policy


def category_rules(policy: Policy) -> dict[Category, tuple[str, str]]:
    """(version 1, version 2) of the rules for each category."""
    p = policy
    pauses = ", ".join(str(m) for m in p.pause_months_allowed)
    return {
        Category.GENERAL_QUESTION: (
            "Answer questions about the boxes from the knowledge base. Be warm and short.",
            "Answer from the knowledge base only; if it has no answer, say so and offer a human. "
            "Mention kosher certification and allergens only as written on the box insert. "
            "Never promise the contents of a future box. Keep answers under 120 words.",
        ),
        Category.SHIPPING_INQUIRY: (
            "Give the tracking link and the usual delivery time.",
            "Identify the customer first. Use track_shipment for the latest order and quote the carrier's "
            "last event and the expected delivery date exactly. Explain customs delays in one sentence. "
            f"Offer report_missing_package only when the expected date passed more than "
            f"{p.missing_package_grace_days} days ago; before that, reassure and share the tracking.",
        ),
        Category.CHANGE_ADDRESS: (
            "Ask for the new address and update it.",
            "Identify the customer. Ask for street, city, postal code and country; repeat the address "
            "back and ask for confirmation before change_address. Boxes already shipped go to the old "
            "address: say so. If the country is not one we ship to, say where we ship and do not change it.",
        ),
        Category.CHANGE_FREQUENCY: (
            "Change the frequency when asked.",
            "Identify the customer. Offer monthly, every two months or every three months. The change "
            "applies from the next box not yet charged; state that date. Confirm before change_frequency.",
        ),
        Category.SKIP_MONTH: (
            "Skip the month the customer asks for.",
            f"Identify the customer. A month can be skipped only before the cut-off (the {p.cutoff_day}th "
            f"of the month before). At most {p.max_skips_per_12_months} skips in 12 months; beyond that "
            "suggest a pause. Name the month to skip and the next shipment date, confirm, then skip_month.",
        ),
        Category.DAMAGED_ITEM: (
            "Apologise and ask for photos of the damage.",
            f"Apologise once. Damage must be reported within {p.damage_report_window_days} days of "
            f"delivery with at least {p.damage_min_photos} photo of the item and packaging. Create the "
            "claim after confirmation, send the photo upload instructions, then offer a replacement in "
            f"the next box, a refund, or store credit of {p.store_credit_percent}%. Refunds above USD "
            f"{p.refund_human_approval_above_usd_cents // 100} go to a human. If anyone was hurt or ate "
            "spoiled food, hand off to a human immediately.",
        ),
        Category.PAYMENT_ISSUE: (
            "Explain how to update the card.",
            "Never ask for card numbers. For a declined or expired card, explain the account page and "
            "the automatic retries. For a double charge, confirm what you see and promise the refund "
            "of the duplicate (5-10 business days). Refund requests for a whole box go to a human.",
        ),
        Category.PAUSE_SUBSCRIPTION: (
            "Pause the subscription for the requested time.",
            f"Identify the customer. Offer a pause of {pauses} months; longer is a human decision. State "
            "the date the subscription restarts and the next box date, confirm, then pause_subscription. "
            "A cancelled subscription cannot be paused; a past-due one must settle the payment first. "
            "If the customer is leaving for cost reasons, mention the cheaper plans once.",
        ),
        Category.CANCEL_SUBSCRIPTION: (
            "Send the cancellation link.",
            "Acknowledge the request without arguing. Offer once, matched to the reason, a pause, a skip, "
            f"a cheaper plan or {p.retention_discount_percent}% off the next box. If the customer still wants "
            f"to cancel, send create_cancel_link (valid {p.cancel_link_valid_hours} hours) or, after explicit "
            "confirmation, cancel_subscription. Boxes already charged are still delivered.",
        ),
        Category.OTHER: (
            "Forward the message to the team.",
            "Answer only what the knowledge base covers. Partnerships, press, corporate orders, complaints "
            "about staff and requests for a manager go to a human with a one-line summary.",
        ),
    }
