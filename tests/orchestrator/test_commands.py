"""The orchestrator's commands run the way a person runs them: the real console script, stdin in, stdout out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
from agents.testing import ScriptedModel, assistant_message

from orchestrator.categories import load_categories
from orchestrator.router import ModelRouting
from schemas.categories import Category
from schemas.turns import MAX_TEXT

LEVHAOLAM = str(Path(sys.executable).parent / "levhaolam")


def run(args: list[str], stdin: str, env: dict[str, str] | None = None, timeout: float = 240
        ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run([LEVHAOLAM, *args], input=stdin, env=clean | (env or {}), capture_output=True, text=True,
                          timeout=timeout)


def test_route_prints_one_router_output_per_line_in_order() -> None:
    lines = ["Hi, the jar broke, and skip next month", '{"text": "wo ist mein Paket???"}', "отмените подписку"]
    result = run(["route"], "\n".join(lines) + "\n")
    assert result.returncode == 0 and not result.stderr, result.stderr
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["primary"], o["secondary"], o["language"]) for o in outputs] == [
        ("damaged_item", "skip_month", "en"), ("shipping_inquiry", None, "de"), ("cancel_subscription", None, "ru")]


def test_route_answers_each_bad_line_with_its_own_error_and_routes_the_rest() -> None:
    bad = {
        '{"text": ': "not valid JSON",
        '{"note": "no text"}': 'a JSON line needs a "text" field',
        '{"text": null}': '"text" must be a string, not null',
        '{"text": 5}': '"text" must be a string, not 5',
        '{"text": ["a"]}': '"text" must be a string, not ["a"]',
        "": "empty message",
        "x" * (MAX_TEXT + 1): f"the message is longer than {MAX_TEXT:,} characters",
        json.dumps({"text": "y" * (MAX_TEXT + 1)}): f"the message is longer than {MAX_TEXT:,} characters",
    }
    lines = ["where is my parcel?", *[line for pair in zip(bad, ["skip next month"] * len(bad), strict=True)
                                      for line in pair], "y" * MAX_TEXT]
    result = run(["route"], "\n".join(lines) + "\n")
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == len(lines)  # one answer a line, in order
    assert outputs[0]["primary"] == "shipping_inquiry" and "error" not in outputs[-1]  # the limit itself is routed
    for number, (line, output) in enumerate(zip(lines, outputs, strict=True), start=1):
        if line in bad:
            assert output["line"] == number and output["error"].startswith(bad[line]), (line[:20], output)
        elif line == "skip next month":
            assert output["primary"] == "skip_month"
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"error: {len(bad)} of {len(lines)} lines could not be routed (their error " \
                                    "records say why)"


def test_chat_in_a_terminal_takes_a_damage_report_through_to_a_claim(knowledge_url: str) -> None:
    with psycopg.connect(knowledge_url) as conn:
        row = conn.execute(
            "SELECT c.email, p.name FROM customers c JOIN orders o ON o.customer_id = c.id JOIN shipments s ON "
            "s.order_id = o.id JOIN order_items i ON i.order_id = o.id JOIN products p ON p.sku = i.sku "
            "WHERE s.status = 'delivered' AND s.delivered_at > '2026-11-20' ORDER BY o.id DESC, p.name LIMIT 1"
        ).fetchone()
    assert row is not None
    email, item = row
    typed = f"Hello, the {item} in my last box arrived broken\n1\n/photo https://cdn.example.com/p/1.jpg\n/quit\n"
    result = run(["chat", "--email", email], typed, env={"DATABASE_URL": knowledge_url})
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Open a damage claim for order #" in out and f"{item} (broken). Shall I go ahead?" in out
    assert "[1] Yes, go ahead [2] No" in out
    assert "done: Damage claim #" in out and "send one or more photos" in out
    assert "the photo is attached to claim #" in out and "(damaged_item; sent; category_policy:auto_send)" in out


async def test_the_model_router_uses_structured_output_and_falls_back_offline() -> None:
    config = load_categories().router
    answer = {"primary": "skip_month", "secondary": None, "urgency": "low", "email": "dana@example.com",
              "language": "en", "confidence": 0.93}
    model = ScriptedModel([[assistant_message(json.dumps(answer))]])
    routed = await ModelRouting(model, config).route("skip January please, dana@example.com")
    assert routed.primary is Category.SKIP_MONTH and str(routed.email) == "dana@example.com"
    assert model.calls[0].output_schema is not None

    broken = ScriptedModel([[assistant_message("not json at all")]])
    fallback = await ModelRouting(broken, config).route("my card was charged twice")
    assert fallback.primary is Category.PAYMENT_ISSUE  # the offline classifier answered


def test_chat_sends_a_numbered_choice_as_the_button_not_as_its_words(knowledge_url: str) -> None:
    # As the bridge does: only the button's value goes, never its title as the customer's words.
    with psycopg.connect(knowledge_url) as conn:
        row = conn.execute("SELECT c.email FROM customers c JOIN subscriptions s ON s.customer_id = c.id "
                           "WHERE s.status = 'active' ORDER BY c.id LIMIT 1").fetchone()
    assert row is not None
    typed = "Quiero cancelar mi suscripción\n2\n/quit\n"
    result = run(["chat", "--email", row[0]], typed, env={"DATABASE_URL": knowledge_url})
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "[2] 20% off the next box, once" in out
    # The offer taken, in the cancellation it answers: its title as text was routed as a skip.
    assert "(cancel_subscription; handed to a person; brain:retention_offer_taken:discount)" in out
