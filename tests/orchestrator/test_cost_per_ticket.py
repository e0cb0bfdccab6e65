"""The cost per ticket of the demo conversation set under the brief's model table (categories.toml), from the price
table (prices.toml) and scripted usage.

One scripted conversation per category, as a model would hold it (the tool calls it would make, a short answer),
runs through the whole platform; each model call's usage is estimated from the request the adapter actually sent
(system prompt with its layers, tool schemas, conversation and tool outputs, at 4 characters a token) plus reasoning
tokens per effort level (assumed, below). The router and the guardrail judge, which would run with a key, are priced
per message the same way. Tickets are weighted by the demo data's category mix (support_threads_data).

Run with `-s` to see the table. The README quotes the result; this test keeps the two equal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest
from agents.testing import ModelCall, ScriptedModel, assistant_message, function_call
from agents.testing.model import ModelStep
from agents.usage import Usage
from openai.types.responses.response_usage import OutputTokensDetails

from orchestrator.categories import load_categories
from orchestrator.costs import ModelUsage, load_prices
from orchestrator.guardrails import INPUT_JUDGE, OUTPUT_JUDGE
from orchestrator.router import ROUTER_INSTRUCTIONS, OfflineRouting
from schemas.categories import Category
from servers.knowledge.embeddings import LocalMiniLM
from tests.orchestrator.conftest import Platform, delivered_items, platform_on

CHARS_PER_TOKEN = 4
# Reasoning tokens per model call, by effort (assumptions; not measured: no key on this machine).
REASONING = {"none": 0, "minimal": 30, "low": 200, "medium": 600, "high": 1200}
README_COST_PER_TICKET = 0.0195  # USD, the figure the README quotes; prompt changes move it a little


def tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def request_text(call: ModelCall) -> str:
    tools = json.dumps([{"name": t.name, "description": getattr(t, "description", ""),
                         "parameters": getattr(t, "params_json_schema", {})} for t in call.tools])
    return (call.system_instructions or "") + tools + json.dumps(call.input, default=str)


def estimated(output: Any, effort: str) -> ModelStep:
    """A model step whose usage is estimated from the request it answers."""

    def respond(call: ModelCall) -> ModelStep:
        written = json.dumps(output.model_dump(exclude_none=True), default=str)
        reasoning = REASONING[effort]
        usage = Usage(requests=1, input_tokens=tokens(request_text(call)),
                      output_tokens=tokens(written) + reasoning,
                      total_tokens=tokens(request_text(call)) + tokens(written) + reasoning,
                      output_tokens_details=OutputTokensDetails(reasoning_tokens=reasoning))
        return ModelStep(output=[output], usage=usage)

    return ModelStep.respond(respond)


Conversation = Callable[[Platform, dict[str, Any], Callable[[str, list[Any]], None]], Any]


async def general_question(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("general_question", [function_call("search_knowledge", {"query": "kosher", "namespace": "faq"}, call_id="g1"),
                              assistant_message("Yes: all food products carry a kosher certification from a "
                                                "recognised Israeli authority, printed on each item.")])
    await p.send("t-general_question", "Are the products in the box kosher?")
    return 1


async def shipping_inquiry(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("shipping_inquiry", [function_call("list_shipments", {"customer_id": c["id"], "limit": 1}, call_id="s1"),
                              assistant_message("Your latest box is on its way; you can follow it with the tracking "
                                                "number in your account. Boxes usually arrive within 7-14 days.")])
    await p.send("t-shipping_inquiry", "Where is my box? It has been two weeks.", email=c["email"])
    return 1


async def change_address(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("change_address", [function_call("list_subscriptions", {"customer_id": c["id"]}, call_id="a1"),
                            function_call("change_address", {"customer_id": c["id"], "subscription_id":
                                                             c["subscription"], "address": {
                                "line1": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115",
                                "country_code": "DE"}}, call_id="a2")])
    proposed = await p.send("t-change_address", "We moved, please send my boxes to Hauptstrasse 5, Berlin, 10115, "
                            "Germany", email=c["email"])
    await p.send("t-change_address", button=proposed.buttons[0].value)
    return 2


async def change_frequency(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("change_frequency", [function_call("list_subscriptions", {"customer_id": c["id"]}, call_id="f1"),
                              function_call("change_frequency", {
                                  "customer_id": c["id"], "subscription_id": c["subscription"],
                                  "frequency": "bimonthly"}, call_id="f2")])
    proposed = await p.send("t-change_frequency", "Can I get the box every two months instead?", email=c["email"])
    await p.send("t-change_frequency", button=proposed.buttons[0].value)
    return 2


async def skip_month(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("skip_month", [function_call("list_subscriptions", {"customer_id": c["id"]}, call_id="k1"),
                        function_call("skip_month", {"customer_id": c["id"], "subscription_id": c["subscription"],
                                                     "box_month": "2027-01-01"}, call_id="k2")])
    proposed = await p.send("t-skip_month", "Please skip my next box, we are travelling", email=c["email"])
    await p.send("t-skip_month", button=proposed.buttons[0].value)
    return 2


async def damaged_item(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    item = (await delivered_items(p.db, c["id"]))[0]
    history = await (await p.db.execute(
        "SELECT o.id, i.sku FROM orders o JOIN shipments s ON s.order_id = o.id JOIN order_items i ON "
        "i.order_id = o.id JOIN products pr ON pr.sku = i.sku WHERE o.customer_id = %s AND s.status = 'delivered' "
        "AND pr.name = %s ORDER BY o.id DESC LIMIT 1", (c["id"], item))).fetchone()
    assert history is not None
    plan("damaged_item", [function_call("get_order_history", {"customer_id": c["id"], "limit": 3}, call_id="d1"),
                          function_call("create_damage_claim", {
                              "customer_id": c["id"], "order_id": history[0], "description": f"The {item} broke",
                              "items": [{"sku": history[1], "damage_type": "broken"}]}, call_id="d2")])
    proposed = await p.send("t-damaged_item", f"The {item} in my box arrived broken", email=c["email"])
    await p.send("t-damaged_item", button=proposed.buttons[0].value)
    return 2


async def payment_issue(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("payment_issue", [function_call("get_customer_profile", {"customer_id": c["id"]}, call_id="p1"),
                           function_call("search_knowledge", {"query": "charged twice", "namespace": "payments"},
                                         call_id="p2"),
                           assistant_message("I'm sorry about that. A confirmed double charge is refunded in full and "
                                             "takes 5-10 business days; our billing team will check your account.")])
    await p.send("t-payment_issue", "I was charged twice this month for the same box", email=c["email"])
    return 1


async def pause_subscription(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("pause_subscription", [function_call("list_subscriptions", {"customer_id": c["id"]}, call_id="u1"),
                                function_call("pause_subscription", {"customer_id": c["id"], "subscription_id":
                                                                     c["subscription"], "months": 2}, call_id="u2")])
    proposed = await p.send("t-pause_subscription", "Please pause my subscription for two months", email=c["email"])
    await p.send("t-pause_subscription", button=proposed.buttons[0].value)
    return 2


async def cancel_subscription(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("cancel_subscription", [
        function_call("list_subscriptions", {"customer_id": c["id"]}, call_id="x1"),
        function_call("get_retention_offers", {"customer_id": c["id"], "subscription_id": c["subscription"]},
                      call_id="x2"),
        assistant_message("I'm sorry to hear you'd like to leave. Before you decide: you could pause for 1, 2 or 3 "
                          "months, or skip just the next box. Would one of these suit you, or shall I cancel?")])
    await p.send("t-cancel_subscription", "I want to cancel my subscription, it's too expensive", email=c["email"])
    plan("cancel_subscription", [function_call("cancel_subscription", {
        "customer_id": c["id"], "subscription_id": c["subscription"], "reason": "price"}, call_id="x3")])
    proposed = await p.send("t-cancel_subscription", "No thanks, please cancel it")
    await p.send("t-cancel_subscription", button=proposed.buttons[0].value)
    return 3


async def other(p: Platform, c: dict[str, Any], plan: Callable[[str, list[Any]], None]) -> int:
    plan("other", [assistant_message("Thank you for reaching out. A colleague will reply about the partnership.")])
    await p.send("t-other", "We are a logistics company and would like to offer a partnership")
    return 1


CONVERSATIONS: dict[Category, Conversation] = {
    Category.GENERAL_QUESTION: general_question, Category.SHIPPING_INQUIRY: shipping_inquiry,
    Category.CHANGE_ADDRESS: change_address, Category.CHANGE_FREQUENCY: change_frequency,
    Category.SKIP_MONTH: skip_month, Category.DAMAGED_ITEM: damaged_item, Category.PAYMENT_ISSUE: payment_issue,
    Category.PAUSE_SUBSCRIPTION: pause_subscription, Category.CANCEL_SUBSCRIPTION: cancel_subscription,
    Category.OTHER: other,
}


def per_message_overhead(messages: int, model_replies: int) -> float:
    """Router (every message) and guardrail judge (every message, every model-written reply), gpt-5-mini."""
    prices, categories = load_prices(), load_categories()
    router = ModelUsage(categories.router.model, requests=messages,
                        input_tokens=messages * (tokens(ROUTER_INSTRUCTIONS) + 250),  # + message + output schema
                        output_tokens=messages * (45 + REASONING["minimal"]), thinking_tokens=messages * 30)
    judge = ModelUsage(categories.guard.model, requests=messages + model_replies,
                       input_tokens=messages * (tokens(INPUT_JUDGE) + 120) + model_replies * (
                           tokens(OUTPUT_JUDGE) + 1800 + 600),  # + policy.md, tool outputs, the reply
                       output_tokens=(messages + model_replies) * (20 + REASONING["minimal"]),
                       thinking_tokens=(messages + model_replies) * 30)
    return router.cost(prices) + judge.cost(prices)


@pytest.mark.slow
async def test_cost_per_ticket_of_the_demo_conversation_set(knowledge_url: str, embedder: LocalMiniLM) -> None:
    categories = load_categories()
    models: dict[str, ScriptedModel] = {}

    def model_for(name: str) -> ScriptedModel:
        return models.setdefault(name, ScriptedModel())

    def plan(category: str, outputs: list[Any]) -> None:
        config = categories[Category(category)]  # in retention mode Sonnet stays Sonnet: the model named first
        model_for(config.model).extend([estimated(output, config.reasoning_effort.value) for output in outputs])

    rows: dict[Category, tuple[float, int]] = {}
    async with platform_on(knowledge_url, embedder, model_for=model_for, router=OfflineRouting()) as platform:
        mix = dict(await (await platform.db.execute(
            "SELECT category, count(*) FROM support_threads_data GROUP BY 1")).fetchall())
        # Customers picked before anything changes (a changed frequency or status would move the others' offsets);
        # skip_month and damaged_item need the one whose next open box is January 2027 and a recent delivery.
        delivered = await platform.customer(0)
        found = await (await platform.db.execute(
            "SELECT c.id, c.email, s.id FROM customers c JOIN subscriptions s ON s.customer_id = c.id "
            "WHERE s.status = 'active' AND s.frequency = 'monthly' AND c.id <> %s AND (SELECT count(*) FROM "
            "subscriptions x WHERE x.customer_id = c.id) = 1 ORDER BY c.id LIMIT 10",
            (delivered["id"],))).fetchall()
        others = [{"id": r[0], "email": r[1], "subscription": r[2]} for r in found]
        for offset, (category, conversation) in enumerate(CONVERSATIONS.items()):
            picked = category in (Category.SKIP_MONTH, Category.DAMAGED_ITEM)
            await conversation(platform, delivered if picked else others[offset], plan)
            row = await (await platform.db.execute(
                "SELECT sum(t.cost_usd), count(*) FILTER (WHERE t.model IS NOT NULL), "
                "count(*) FILTER (WHERE m.body NOT LIKE '[button]%%') FROM turns t "
                "JOIN conversations c ON c.id = t.conversation_id JOIN messages m ON m.id = t.message_id "
                "WHERE c.external_id = %s", (f"t-{category.value}",))).fetchone()
            assert row is not None and row[0] is not None, category
            cost, model_replies, typed = float(row[0]), int(row[1]), int(row[2])
            rows[category] = (cost + per_message_overhead(typed, model_replies), typed)
        assert all(model.remaining_steps == 0 for model in models.values()), {
            name: model.remaining_steps for name, model in models.items()}

    total = sum(mix.values())
    per_ticket = sum(rows[category][0] * mix[category.value] / total for category in rows)
    print("\ncategory              share   model                 cost/ticket (USD)")
    for category, (cost, _) in rows.items():
        config = categories[category]
        print(f"{category.value:20s} {mix[category.value] / total:6.1%}   {config.model:20s}  {cost:.4f}")
    print(f"weighted cost per ticket: {per_ticket:.6f} USD")
    assert per_ticket == pytest.approx(README_COST_PER_TICKET, rel=0.05)  # measured 0.019484
