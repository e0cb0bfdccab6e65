"""The offline brain: deterministic playbooks per category, through the same MCP tools and gates as a model.

Each playbook looks things up, proposes the one action that fits (the server answers `confirmation_required`),
or answers from the category's knowledge passages, in the customer's language where the phrasebook has it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from orchestrator import lexicon
from orchestrator.brain import BrainInput, BrainReply, proposal_from
from orchestrator.replies import say
from orchestrator.tools import ToolOutcome
from schemas.categories import Category
from schemas.turns import ActionTaken, Button

Playbook = Callable[[BrainInput], Awaitable[BrainReply]]
MIN_PASSAGE_SCORE = 0.01  # a fused rank score: anything found by either ranking counts


def _propose(turn: BrainInput, outcome: ToolOutcome) -> BrainReply:
    """The server's answer to an action called without a token: a question to the customer, or why not."""
    if outcome.needs_confirmation:
        proposal = proposal_from(outcome, turn.category)
        return BrainReply(say("confirm", turn.language, summary=proposal.summary.rstrip(".")), proposal=proposal,
                          buttons=_yes_no(turn.language))
    if outcome.error is not None and outcome.error.code.value in ("policy_violation", "invalid_argument",
                                                                  "not_found"):
        return BrainReply(say("not_allowed", turn.language, reason=outcome.error.message))
    return BrainReply(say("trouble", turn.language), gave_up="tool_failed")


def _yes_no(language: str) -> list[Button]:
    return [Button(title=say("yes", language), value="confirm"), Button(title=say("no", language), value="decline")]


async def _answer_from_knowledge(turn: BrainInput, namespace: str | None = None) -> str | None:
    found = await turn.tools.call("search_knowledge", query=turn.text[:500],
                                  namespace=namespace or turn.config.knowledge_namespace, k=3,
                                  language=turn.language)
    passages = found.data.get("passages", []) if found.ok else []
    if not passages or passages[0]["score"] < MIN_PASSAGE_SCORE:
        return None
    top = passages[0]
    content = str(top["content"]).strip()
    # Passages keep their section heading (often the customer's own question); the answer is the rest.
    heading, _, rest = content.partition("\n")
    return rest.strip() if rest.strip() and heading.strip().lstrip("# ") == str(top["title"]).strip() else content


async def _active_subscription(turn: BrainInput) -> dict[str, Any] | None:
    listed = await turn.tools.call("list_subscriptions", customer_id=turn.customer_id)
    subscriptions = listed.data.get("subscriptions", []) if listed.ok else []
    for wanted in ("active", "paused", "past_due"):
        for sub in subscriptions:
            if sub["status"] == wanted:
                return dict(sub)
    return None


async def general_question(turn: BrainInput) -> BrainReply:
    answer = await _answer_from_knowledge(turn)
    if answer is None:
        return BrainReply(say("holding", turn.language), gave_up="no_answer_in_knowledge")
    return BrainReply(answer, free_text=True)  # a passage, in the knowledge base's language: the guard checks it


async def other(turn: BrainInput) -> BrainReply:
    return BrainReply(say("holding", turn.language), gave_up="outside_the_playbooks")


async def payment_issue(turn: BrainInput) -> BrainReply:
    answer = await _answer_from_knowledge(turn)
    if answer is None:
        return BrainReply(say("holding", turn.language), gave_up="no_answer_in_knowledge")
    return BrainReply(say("payment", turn.language, answer=answer), free_text=True)


async def shipping_inquiry(turn: BrainInput) -> BrainReply:
    listed = await turn.tools.call("list_shipments", customer_id=turn.customer_id, limit=1)
    shipments = listed.data.get("shipments", []) if listed.ok else []
    if not shipments:
        return BrainReply(say("no_shipment", turn.language))
    latest = shipments[0]
    text = say("shipment", turn.language, month=date.fromisoformat(latest["box_month"]).strftime("%B %Y"),
               order=latest["order_id"], status=str(latest["status"]).replace("_", " "),
               carrier=str(latest["carrier"]).replace("_", " ").title(), tracking=latest["tracking_number"])
    if latest.get("delivered_at"):
        text += " " + say("shipment_delivered", turn.language, date=str(latest["delivered_at"])[:10])
    elif latest.get("expected_delivery"):
        text += " " + say("shipment_eta", turn.language, date=latest["expected_delivery"])
    if latest["status"] in ("lost", "exception") or (
            not latest.get("delivered_at") and re.search(r"lost|never (arrived|came)|missing|потерял|perdid|verloren|"
                                                          r"אבד", turn.text, re.IGNORECASE)):
        reported = _propose(turn, await turn.tools.call("report_missing_package", customer_id=turn.customer_id,
                                                        order_id=latest["order_id"], details=turn.text[:500]))
        if reported.proposal is not None:
            reported.text = f"{text} {reported.text}"
            return reported
    return BrainReply(text)


async def _change_subscription(turn: BrainInput, tool: str, ask: str, slot: str, **change: Any) -> BrainReply:
    """Ask for the missing detail, or propose `tool` on the customer's subscription with it."""
    if any(value is None for value in change.values()):
        return BrainReply(say(ask, turn.language), awaiting=slot)
    sub = await _active_subscription(turn)
    if sub is None:
        return BrainReply(say("no_subscription", turn.language), gave_up="no_subscription")
    return _propose(turn, await turn.tools.call(tool, customer_id=turn.customer_id, subscription_id=sub["id"],
                                                **change))


async def pause_subscription(turn: BrainInput) -> BrainReply:
    return await _change_subscription(turn, "pause_subscription", "ask_months", "months",
                                      months=lexicon.months_in(turn.text))


async def skip_month(turn: BrainInput) -> BrainReply:
    sub = await _active_subscription(turn)
    if sub is None or not sub.get("next_shipment_date"):
        return BrainReply(say("no_subscription", turn.language), gave_up="no_subscription")
    box_month = date.fromisoformat(sub["next_shipment_date"]).replace(day=1)
    asked = await turn.tools.call("skip_month", customer_id=turn.customer_id, subscription_id=sub["id"],
                                  box_month=box_month.isoformat())
    if asked.error is not None and asked.error.field == "box_month" and asked.error.code.value == "policy_violation":
        # The next box is past its cut-off (already charged and packed): offer the one after it, saying why.
        following = (box_month.replace(day=28) + timedelta(days=4)).replace(day=1)
        later = _propose(turn, await turn.tools.call("skip_month", customer_id=turn.customer_id,
                                                     subscription_id=sub["id"], box_month=following.isoformat()))
        if later.proposal is not None:
            reason = asked.error.message.rstrip(".")
            later.text = f"{reason[:1].upper()}{reason[1:]}. {later.text}"
            return later
    return _propose(turn, asked)


async def change_frequency(turn: BrainInput) -> BrainReply:
    frequency = lexicon.frequency_in(turn.text)
    return await _change_subscription(turn, "change_frequency", "ask_frequency", "frequency",
                                      frequency=frequency.value if frequency else None)


async def change_address(turn: BrainInput) -> BrainReply:
    reply = await _change_subscription(turn, "change_address", "ask_address", "address",
                                       address=lexicon.address_in(turn.text))
    if reply.proposal is None and reply.awaiting is None and reply.gave_up is None:
        # Refused as written (a postal code this country needs, ...): why, and the question again, not a dead end.
        reply.text = f"{reply.text} {say('ask_address', turn.language)}"
        reply.awaiting = "address"
    return reply


async def damaged_item(turn: BrainInput) -> BrainReply:
    claim = turn.memory.get("claim_id")
    if claim and turn.attachments:
        return await _attach_photos(turn, int(claim))
    history = await turn.tools.call("get_order_history", customer_id=turn.customer_id, limit=3)
    orders = [o for o in (history.data.get("orders", []) if history.ok else [])
              if o.get("shipment_status") == "delivered"]
    if not orders:
        return BrainReply(say("no_recent_order", turn.language), gave_up="no_delivered_order")
    order = orders[0]
    chosen = turn.button_value.removeprefix("item:") if turn.button_value and turn.button_value.startswith(
        "item:") else None
    # Only an item of this order: a made-up button value is no choice at all (we ask again).
    picked = chosen if chosen in {item.partition(": ")[0] for item in order["items"]} else None
    description = turn.memory.get("description") if picked else turn.text
    sku = picked or _mentioned_item(turn.text, order["items"])
    if sku is None:
        # Several products and none named: ask which one rather than claim the wrong one.
        buttons = [Button(title=item.partition(": ")[2][:80] or item[:80], value=f"item:{item.partition(': ')[0]}")
                   for item in order["items"][:8]]
        return BrainReply(say("ask_item", turn.language), buttons=buttons, awaiting="item",
                          remember={"description": turn.text[:4000]})
    description = (description or "").strip()
    return _propose(turn, await turn.tools.call(
        "create_damage_claim", customer_id=turn.customer_id, order_id=order["order_id"],
        items=[{"sku": sku, "damage_type": lexicon.damage_type_in(description).value}],
        description=description[:4000] if len(description) >= 3 else "Damaged item reported in chat"))


async def _attach_photos(turn: BrainInput, claim_id: int) -> BrainReply:
    """Photos the customer sends after we asked for them are their consent to add them to the claim."""
    taken = []
    for attachment in turn.attachments:
        arguments = {"customer_id": turn.customer_id, "claim_id": claim_id, "url": str(attachment.url),
                     "content_type": attachment.content_type}
        asked = await turn.tools.call("attach_photo", **arguments)
        if not asked.needs_confirmation:
            return _propose(turn, asked)
        done = await turn.tools.call("attach_photo", **arguments,
                                     confirmation_token=asked.data["confirmation_token"])
        if not done.executed:
            return _propose(turn, done)
        taken.append(ActionTaken(tool="attach_photo", summary=done.data["summary"], audit_id=done.data["audit_id"]))
    return BrainReply(say("photo_added", turn.language, claim=claim_id), actions_taken=taken)


def _mentioned_item(text: str, items: list[str]) -> str | None:
    """The SKU of the order item whose name the customer mentions ('SKU: name'); the only item of a one-item
    order; else None."""
    words = {w for w in re.findall(r"\w{4,}", text.lower())}
    for item in items:
        sku, _, name = item.partition(": ")
        if words & set(re.findall(r"\w{4,}", name.lower())):
            return sku
    return items[0].partition(": ")[0] if len(items) == 1 else None


async def cancel_subscription(turn: BrainInput) -> BrainReply:
    sub = await _active_subscription(turn)
    if sub is None:
        return BrainReply(say("no_subscription", turn.language), gave_up="no_subscription")
    offers = turn.memory.get("offers", [])
    if turn.button_value and turn.button_value.startswith("offer:") and offers:
        index = turn.button_value.removeprefix("offer:")
        if not index.isdigit() or int(index) >= len(offers):
            return _retention(turn, offers)  # not an offer we made: the offers again, never a guess
        offer = offers[int(index)]
        if offer.get("tool"):
            return _propose(turn, await turn.tools.call(offer["tool"], customer_id=turn.customer_id,
                                                        **offer["suggested_arguments"]))
        # The one-time discount has no tool: a person applies it to the next charge.
        return BrainReply(say("holding", turn.language), gave_up=f"retention_offer_taken:{offer['kind']}")
    if not turn.memory.get("retention_offered"):
        found = await turn.tools.call("get_retention_offers", customer_id=turn.customer_id, subscription_id=sub["id"])
        listed = found.data.get("offers", []) if found.ok else []
        # Up to three offers the platform can carry out, plus the one-time discount unless this customer already had
        # it offered (in any earlier conversation: customer memory).
        discount_again = (await turn.customer_memory()).may_offer("discount")
        offers = [o for o in listed if o.get("tool") in turn.tools.allowed][:3] + [
            o for o in listed if o.get("kind") == "discount" and discount_again]
        if offers:
            return _retention(turn, offers)
    return _propose(turn, await turn.tools.call("cancel_subscription", customer_id=turn.customer_id,
                                                subscription_id=sub["id"], reason=turn.text[:500] or None))


def _retention(turn: BrainInput, offers: list[dict[str, Any]]) -> BrainReply:
    buttons = [Button(title=o["description"][:80], value=f"offer:{i}") for i, o in enumerate(offers)]
    buttons.append(Button(title=say("cancel_anyway", turn.language), value="cancel_anyway"))
    return BrainReply(say("retention", turn.language, offers="; ".join(o["description"] for o in offers)),
                      buttons=buttons, remember={"retention_offered": True, "offers": offers}, offers_made=offers)


PLAYBOOKS: dict[Category, Playbook] = {
    Category.GENERAL_QUESTION: general_question,
    Category.SHIPPING_INQUIRY: shipping_inquiry,
    Category.CHANGE_ADDRESS: change_address,
    Category.CHANGE_FREQUENCY: change_frequency,
    Category.SKIP_MONTH: skip_month,
    Category.DAMAGED_ITEM: damaged_item,
    Category.PAYMENT_ISSUE: payment_issue,
    Category.PAUSE_SUBSCRIPTION: pause_subscription,
    Category.CANCEL_SUBSCRIPTION: cancel_subscription,
    Category.OTHER: other,
}


class OfflineBrain:
    async def handle(self, turn: BrainInput) -> BrainReply:
        return await PLAYBOOKS[turn.category](turn)


