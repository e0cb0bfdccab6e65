"""Shared types: categories, router output, policy, settings."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import ValidationError

from schemas.categories import Category, UnknownCategoryError, parse_category
from schemas.policy import load_policy, parse_policy
from schemas.routing import RouterOutput
from schemas.settings import Settings, environment_variables
from tests.helpers import ROOT


def test_there_are_exactly_the_ten_agreed_categories() -> None:
    assert [c.value for c in Category] == [
        "general_question", "shipping_inquiry", "change_address", "change_frequency", "skip_month", "damaged_item",
        "payment_issue", "pause_subscription", "cancel_subscription", "other"]


@pytest.mark.parametrize("spelling", ["skip_month", "Skip-Month", " skip month "])
def test_category_names_are_forgiving_about_case_and_separators(spelling: str) -> None:
    assert parse_category(spelling) is Category.SKIP_MONTH


def test_an_unknown_category_names_the_valid_ones() -> None:
    with pytest.raises(UnknownCategoryError, match=r"unknown category 'refund'; expected one of: general_question, "):
        parse_category("refund")


def test_router_output_for_a_message_with_two_intents() -> None:
    out = RouterOutput(primary="damaged_item", secondary="skip_month", urgency="medium", email=None, confidence=0.9)
    assert out.primary is Category.DAMAGED_ITEM and out.secondary is Category.SKIP_MONTH


@pytest.mark.parametrize(("fields", "bad_field"), [
    ({"primary": "skip_month", "secondary": "skip_month", "confidence": 0.9}, "secondary must differ"),
    ({"primary": "refunds", "confidence": 0.9}, "primary"),
    ({"primary": "other", "confidence": 1.5}, "confidence"),
    ({"primary": "other", "confidence": 0.5, "email": "not-an-email"}, "email"),
    ({"primary": "other", "confidence": 0.5, "language": "english"}, "language"),
    ({"primary": "other", "confidence": 0.5, "mood": "angry"}, "mood"),
])
def test_router_output_refuses_bad_fields_and_names_them(fields: dict, bad_field: str) -> None:
    with pytest.raises(ValidationError, match=bad_field):
        RouterOutput(**fields)


def test_policy_is_read_from_docs_policy_md() -> None:
    policy = load_policy()
    assert policy.pause_months_allowed == [1, 2, 3]
    assert policy.damage_report_window_days == 14
    assert "IL" in policy.supported_countries
    assert policy.delivery_window("DE") == (7, 14) and policy.delivery_window("JP") == policy.delivery_days["ROW"]


def test_skip_cutoff_is_in_the_month_before_even_across_new_year() -> None:
    policy = load_policy()
    assert policy.cutoff_for(date(2027, 1, 1)) == date(2026, 12, 20)
    assert policy.cutoff_for(date(2027, 3, 1)) == date(2027, 2, 20)


def test_a_policy_without_exactly_one_numbers_block_is_refused() -> None:
    with pytest.raises(ValueError, match="exactly one ```toml block, found 0"):
        parse_policy("# Policy\nNo numbers here.")


def test_settings_read_the_environment_and_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cret@db.example.com:5432/support")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    settings = Settings(_env_file=None)
    assert settings.database_url is not None
    assert "s3cret" not in repr(settings) and "sk-test-123" not in repr(settings)


@pytest.mark.parametrize(("url", "message"), [
    ("mysql://x@y/z", "must be a postgresql:// URL"),
    ("postgresql://u@h:port/x", "is not a valid PostgreSQL URL"),
])
def test_a_bad_database_url_is_refused_with_the_reason(monkeypatch: pytest.MonkeyPatch, url: str, message: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)


def test_env_example_lists_exactly_the_settings() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed == set(environment_variables().values())
