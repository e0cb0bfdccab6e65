"""Inputs and outputs of the customers server's tools."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from schemas.domain import Address, Customer, OrderStatus, ShipmentStatus, Subscription


class IdentifyResult(BaseModel):
    found: bool
    matched_by: Literal["email", "phone", "chatwoot_contact_id"] | None
    customer: Customer | None = Field(description="Only when exactly one customer matches")


class CustomerProfile(BaseModel):
    customer: Customer
    addresses: list[Address]
    subscriptions: list[Subscription]
    open_damage_claims: int
    open_payment_issues: int


class OrderSummary(BaseModel):
    order_id: int
    subscription_id: int | None
    box_month: date
    status: OrderStatus
    total_cents: int
    currency: str
    items: list[str] = Field(description="'SKU: product name' of each item")
    shipment_status: ShipmentStatus | None
    tracking_number: str | None


class OrderHistory(BaseModel):
    orders: list[OrderSummary]
