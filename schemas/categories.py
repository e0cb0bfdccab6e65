"""The ten support categories and the urgency scale."""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    GENERAL_QUESTION = "general_question"
    SHIPPING_INQUIRY = "shipping_inquiry"
    CHANGE_ADDRESS = "change_address"
    CHANGE_FREQUENCY = "change_frequency"
    SKIP_MONTH = "skip_month"
    DAMAGED_ITEM = "damaged_item"
    PAYMENT_ISSUE = "payment_issue"
    PAUSE_SUBSCRIPTION = "pause_subscription"
    CANCEL_SUBSCRIPTION = "cancel_subscription"
    OTHER = "other"


class Urgency(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class UnknownCategoryError(ValueError):
    """Raised for a category name that is not one of the ten; the message lists the valid ones."""


def parse_category(value: str) -> Category:
    """Accept a category name in any case, with '-' or ' ' for '_'; refuse anything else clearly."""
    normalised = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Category(normalised)
    except ValueError:
        valid = ", ".join(c.value for c in Category)
        raise UnknownCategoryError(f"unknown category {value!r}; expected one of: {valid}") from None
