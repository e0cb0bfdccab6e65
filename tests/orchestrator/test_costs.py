"""The price table and what it turns usage into: every configured model priced (refused at start otherwise), dated
snapshots priced like their alias, cost per turn stored with the turn, and the cost report per category, per model
and per conversation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from agents.testing import ScriptedModel, assistant_message
from agents.usage import Usage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from levhaolam.support_commands import cost_report, parse_moment
from orchestrator.categories import CONFIG_PATH as CATEGORIES_PATH
from orchestrator.categories import CategoryConfigError, load_categories, parse_categories
from orchestrator.costs import ModelUsage, load_prices
from orchestrator.router import OfflineRouting
from orchestrator.service import check_prices
from schemas.categories import Category
from servers.knowledge.embeddings import LocalMiniLM
from tests.orchestrator.conftest import platform_on


def test_every_configured_model_has_a_reviewed_dated_price() -> None:
    prices, categories = load_prices(), load_categories()
    assert prices.reviewed_on == date(2026, 11, 29) and prices.currency == "USD"
    assert prices.missing(categories.model_names) == []
    assert all(row.source.startswith("https://") for row in prices.models.values())
    assert prices.price_of("claude-sonnet-4-5-20250929") == prices.models["claude-sonnet-4-5"]
    assert prices.price_of("gpt-5.1-mini") is None  # not a dated snapshot of gpt-5.1: unpriced


def test_a_model_without_a_price_is_refused_at_start() -> None:
    text = CATEGORIES_PATH.read_text().replace('fallback_model = "gpt-5.1"', 'fallback_model = "gpt-7-ultra"', 1)
    with pytest.raises(CategoryConfigError, match="without a price in orchestrator/prices.toml: gpt-7-ultra"):
        check_prices(parse_categories(text), load_prices())


def test_the_category_chain_of_models() -> None:
    categories = load_categories()
    assert categories[Category.CANCEL_SUBSCRIPTION].models_to_try(retention=False) == ["claude-sonnet-4-6",
                                                                                      "gpt-5.1"]
    assert categories[Category.PAUSE_SUBSCRIPTION].models_to_try(retention=True) == [
        "claude-sonnet-4-6", "claude-haiku-4-5", "gpt-5.1"]
    assert categories[Category.OTHER].models_to_try(retention=False) == ["gpt-5.2", "claude-sonnet-4-6"]


def test_openai_usage_is_priced_with_cached_input_and_reasoning() -> None:
    used = ModelUsage("gpt-5.1")
    used.add(Usage(requests=1, input_tokens=10_000, output_tokens=1_000, total_tokens=11_000,
                   input_tokens_details=InputTokensDetails.model_validate({"cached_tokens": 8_000,
                                                                           "cache_write_tokens": 0}),
                   output_tokens_details=OutputTokensDetails(reasoning_tokens=600)))
    assert used.cost(load_prices()) == pytest.approx((2_000 * 1.25 + 8_000 * 0.125 + 1_000 * 10.00) / 1e6)


def test_periods() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert parse_moment("7d", now) == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert parse_moment("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_moment("today", now) == datetime(2026, 11, 29, tzinfo=UTC)


async def test_cost_per_turn_is_stored_and_reported_per_category_model_and_conversation(
        knowledge_url: str, embedder: LocalMiniLM) -> None:
    model = ScriptedModel(default_usage=Usage(requests=1, input_tokens=3_000, output_tokens=200, total_tokens=3_200))
    model.extend([[assistant_message("Yes, all food products are certified kosher.")],
                  [assistant_message("Boxes ship from Israel by the 5th of each month.")],
                  [assistant_message("Yes, gifts are possible from your account page.")]])
    async with platform_on(knowledge_url, embedder, model_for=lambda _name: model, router=OfflineRouting()
                           ) as platform:
        one = await platform.send("cost-1", "Are your products kosher?")
        two = await platform.send("cost-1", "Do you have gluten-free products?")
        three = await platform.send("cost-2", "Can I send a box as a gift?")
        per_turn = (3_000 * 1.25 + 200 * 10.00) / 1e6  # gpt-5.1, no cache
        assert one.cost == two.cost == three.cost == pytest.approx(per_turn)
        report = await cost_report(platform.db, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert report.turns == 3 and report.conversations == 2
    assert report.cost_usd == pytest.approx(Decimal(str(round(per_turn, 6))) * 3)
    assert report.per_conversation == pytest.approx(report.cost_usd / 2)
    [model_row] = report.models
    assert (model_row.model, model_row.provider, model_row.requests, model_row.input_tokens) == (
        "gpt-5.1", "openai", 3, 9_000)
    assert [(c.category, c.turns) for c in report.categories] == [("general_question", 3)]
