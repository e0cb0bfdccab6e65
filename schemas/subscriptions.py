"""Inputs and outputs of the subscriptions server's tools."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.domain import Address, Frequency, Subscription, SubscriptionPlan
from schemas.inputs import NoControlCharacters


class SubscriptionList(BaseModel):
    subscriptions: list[Subscription]


class AddressInput(BaseModel):
    """A postal address as the customer gives it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    line1: Annotated[str, Field(min_length=3, max_length=200, description="Street and number"), NoControlCharacters]
    line2: Annotated[str | None, Field(max_length=200, description="Apartment, floor, c/o"), NoControlCharacters] = None
    city: Annotated[str, Field(min_length=1, max_length=100), NoControlCharacters]
    region: Annotated[str | None, Field(max_length=100, description="State or province, where used"),
                      NoControlCharacters] = None
    postal_code: Annotated[str | None, Field(max_length=20), NoControlCharacters] = None
    country_code: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. DE, US, IL"),
                            NoControlCharacters]


class AddressChange(BaseModel):
    subscription_id: int
    address: Address
    applies_from: str = Field(description="The first box that goes to the new address")


class RetentionOffer(BaseModel):
    kind: Literal["pause", "skip_next_box", "cheaper_plan", "lower_frequency", "discount"]
    description: str
    tool: str | None = Field(description="The tool that applies this offer, if any")
    suggested_arguments: dict[str, Any] = Field(default_factory=dict)


class RetentionOffers(BaseModel):
    subscription_id: int
    offers: list[RetentionOffer]


class CancelLink(BaseModel):
    url: str
    expires_at: datetime


class CancelLinkInfo(BaseModel):
    customer_id: int
    subscription_id: int
    expires_at: datetime


__all__ = ["AddressChange", "AddressInput", "CancelLink", "CancelLinkInfo", "Frequency", "RetentionOffer",
           "RetentionOffers", "SubscriptionList", "SubscriptionPlan"]
