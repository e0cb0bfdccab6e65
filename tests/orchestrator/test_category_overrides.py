"""Staff's database overrides of categories.toml: merged over the file, validated, never widening a tool list."""

from __future__ import annotations

import psycopg
import pytest

from orchestrator.categories import CategoryConfigError, load_categories, with_overrides, with_stored_overrides
from orchestrator.service import running_pipeline
from schemas.categories import Category
from schemas.turns import Decision
from store import category_overrides
from tests.helpers import settings_for
from tests.orchestrator.conftest import platform_on
from tests.orchestrator.test_memory_learning import run_cli


def test_an_override_changes_only_what_it_names() -> None:
    base = load_categories()
    changed = with_overrides(base, {"damaged_item": {"model": "gpt-5-mini", "gate": {"min_confidence": 0.9}}})
    config, before = changed[Category.DAMAGED_ITEM], base[Category.DAMAGED_ITEM]
    assert config.model == "gpt-5-mini" and config.gate.min_confidence == 0.9
    assert config.gate.mode == before.gate.mode and config.tool_names == before.tool_names
    assert changed[Category.SKIP_MONTH] == base[Category.SKIP_MONTH]


def test_tools_can_be_taken_away_but_never_added() -> None:
    base = load_categories()
    kept = [t for t in base[Category.SKIP_MONTH].tools[next(iter(base[Category.SKIP_MONTH].tools))]][:1]
    server = next(iter(base[Category.SKIP_MONTH].tools)).value
    narrowed = with_overrides(base, {"skip_month": {"tools": {server: kept}}})
    assert narrowed[Category.SKIP_MONTH].tool_names == kept
    with pytest.raises(CategoryConfigError, match=r"tools\.subscriptions: cancel_subscription not allowed"):
        with_overrides(base, {"general_question": {"tools": {"subscriptions": ["cancel_subscription"]}}})


@pytest.mark.parametrize(("override", "message"), [
    ({"needs_customer": False}, "needs_customer cannot be overridden"),
    ({"reasoning_effort": "extreme"}, "database override of payment_issue: reasoning_effort"),
    ({"gate": {"mode": "send_everything"}}, "gate.mode"),
    ({"knowledge_namespace": "gossip"}, "knowledge_namespace 'gossip' is not one of"),
])
def test_an_invalid_override_is_refused_naming_the_field(override: dict, message: str) -> None:
    with pytest.raises(CategoryConfigError, match=message):
        with_overrides(load_categories(), {"payment_issue": override})


async def test_the_orchestrator_starts_with_what_staff_stored(knowledge_url: str, embedder) -> None:
    refused = run_cli(["categories", "override", "general_question", '{"needs_customer": true}', "--reason", "x"],
                      knowledge_url)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "needs_customer cannot be overridden" in refused.stderr
    garbled = run_cli(["categories", "override", "general_question", '{"gate": {"mode": "draft"}', "--reason", "x"],
                      knowledge_url)
    assert garbled.returncode == 1 and len(garbled.stderr.strip().splitlines()) == 1
    assert "settings: not valid JSON" in garbled.stderr
    stored = run_cli(["categories", "override", "general_question", '{"gate": {"mode": "draft"}}', "--reason",
                      "new honey supplier: a person checks answers this week", "--by", "lead.sara"], knowledge_url)
    assert stored.returncode == 0, stored.stderr
    shown = run_cli(["categories", "show"], knowledge_url)
    assert shown.returncode == 0 and "lead.sara" in shown.stdout and "draft >= 0.45" in shown.stdout
    async with platform_on(knowledge_url, embedder) as platform:
        answered = await platform.send("c-override", "Is the honey in the box kosher?")
    assert answered.category == "general_question" and answered.decision is Decision.DRAFT
    assert any("draft" in reason for reason in answered.reasons)
    cleared = run_cli(["categories", "clear", "general_question"], knowledge_url)
    assert cleared.returncode == 0 and "override removed" in cleared.stdout
    async with platform_on(knowledge_url, embedder) as platform:
        again = await platform.send("c-override-2", "Is the honey in the box kosher?")
    assert again.decision is Decision.AUTO_SEND


@pytest.mark.parametrize("field", ["model", "fallback_model", "retention_model"])
def test_an_override_naming_a_model_without_a_price_is_refused(field: str) -> None:
    with pytest.raises(CategoryConfigError, match=rf"^override of skip_month: {field}: 'gpt-9000' has no price in "
                                                  r"orchestrator/prices\.toml"):
        with_stored_overrides([], {"skip_month": {field: "gpt-9000"}})
    dated = with_stored_overrides([], {"skip_month": {field: "gpt-5.1-2025-11-13"}})  # a snapshot of a priced model
    assert getattr(dated[Category.SKIP_MONTH], field) == "gpt-5.1-2025-11-13"


async def test_an_unpriced_model_is_refused_when_stored_and_blamed_on_the_override_at_start(migrated_db: str) -> None:
    refused = run_cli(["categories", "override", "skip_month", '{"model": "gpt-9000"}', "--reason", "test"],
                      migrated_db)
    assert refused.returncode == 1 and "override stored" not in refused.stdout
    [line] = refused.stderr.strip().splitlines()
    assert "override of skip_month: model: 'gpt-9000' has no price in orchestrator/prices.toml" in line
    async with await psycopg.AsyncConnection.connect(migrated_db, autocommit=True) as conn:
        assert await category_overrides.overrides(conn) == []
        # One stored before the check existed (or written by hand): the start names it, not categories.toml.
        await category_overrides.set_override(conn, "skip_month", {"model": "gpt-9000"}, reason="old",
                                              changed_by="lead.sara")
    with pytest.raises(CategoryConfigError) as failed:
        async with running_pipeline(settings_for(migrated_db)):
            pass
    message = str(failed.value)
    assert message.startswith("stored override of skip_month (in the database, not categories.toml): model: "
                              "'gpt-9000' has no price")
    assert "levhaolam categories clear skip_month" in message and "\n" not in message
    shown = run_cli(["categories", "show"], migrated_db)  # the same words where staff look
    assert shown.returncode == 1 and "stored override of skip_month" in shown.stderr
    cleared = run_cli(["categories", "clear", "skip_month"], migrated_db)
    assert cleared.returncode == 0 and run_cli(["categories", "show"], migrated_db).returncode == 0
