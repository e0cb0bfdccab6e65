"""One NamedTuple per seeded table: its fields are the columns the loader copies, in order."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from store.tables import CONTENT_TABLES


class ProductRow(NamedTuple):
    sku: str
    name: str
    kind: str
    price_cents: int
    fragile: bool


class CustomerRow(NamedTuple):
    id: int
    email: str
    phone: str | None
    first_name: str
    last_name: str
    country_code: str
    language: str
    chatwoot_contact_id: int | None
    created_at: datetime


class AddressRow(NamedTuple):
    id: int
    customer_id: int
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str | None
    country_code: str
    is_default: bool
    created_at: datetime


class SubscriptionRow(NamedTuple):
    id: int
    customer_id: int
    plan: str
    status: str
    frequency: str
    price_cents: int
    currency: str
    next_shipment_date: date | None
    paused_until: date | None
    shipping_address_id: int
    started_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    updated_at: datetime


class SkipRow(NamedTuple):
    subscription_id: int
    box_month: date
    created_at: datetime


class OrderRow(NamedTuple):
    id: int
    customer_id: int
    subscription_id: int
    box_month: date
    status: str
    total_cents: int
    currency: str
    created_at: datetime


class OrderItemRow(NamedTuple):
    order_id: int
    sku: str
    quantity: int


class ShipmentRow(NamedTuple):
    id: int
    order_id: int
    carrier: str
    tracking_number: str
    status: str
    shipped_at: datetime | None
    expected_delivery: date | None
    delivered_at: datetime | None
    destination_country: str


class ShipmentEventRow(NamedTuple):
    id: int
    shipment_id: int
    occurred_at: datetime
    status: str
    location: str
    description: str


class DamageClaimRow(NamedTuple):
    id: int
    customer_id: int
    order_id: int
    status: str
    description: str
    reported_at: datetime
    resolution: str | None
    resolution_amount_cents: int | None
    resolved_at: datetime | None


class DamageClaimItemRow(NamedTuple):
    claim_id: int
    sku: str
    quantity: int
    damage_type: str


class DamageClaimPhotoRow(NamedTuple):
    id: int
    claim_id: int
    url: str
    content_type: str
    uploaded_at: datetime


class PaymentIssueRow(NamedTuple):
    id: int
    customer_id: int
    subscription_id: int | None
    kind: str
    status: str
    amount_cents: int | None
    currency: str | None
    created_at: datetime
    resolved_at: datetime | None


class InstructionRow(NamedTuple):
    id: int
    category: str
    version: int
    instructions: str
    is_active: bool
    created_by: str
    created_at: datetime


class TicketRow(NamedTuple):
    id: int
    thread_id: str
    customer_id: int | None
    customer_email: str
    channel: str
    category: str
    secondary_category: str | None
    urgency: str
    language: str
    country_code: str | None
    subject: str
    status: str
    handled_by: str | None
    ai_model: str | None
    ai_cost_usd: Decimal | None
    ai_answer: str | None
    human_answer: str | None
    human_approved: bool
    rating: int | None
    created_at: datetime
    ai_answered_at: datetime | None
    draft_created_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None


class DialogRow(NamedTuple):
    id: int
    ticket_id: int
    seq: int
    role: str
    body: str
    created_at: datetime


class ComparisonRow(NamedTuple):
    id: int
    ticket_id: int
    category: str
    ai_answer: str
    human_answer: str
    similarity: float
    verdict: str
    evaluated_at: datetime


class AgentTaskRow(NamedTuple):
    id: int
    ticket_id: int
    category: str
    task_type: str
    status: str
    created_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None


# Table name for each row type, in an order that satisfies every foreign key.
ROW_TYPES: tuple[type, ...] = (
    ProductRow, CustomerRow, AddressRow, SubscriptionRow, SkipRow, OrderRow, OrderItemRow, ShipmentRow,
    ShipmentEventRow, DamageClaimRow, DamageClaimItemRow, DamageClaimPhotoRow, PaymentIssueRow, InstructionRow,
    TicketRow, DialogRow, ComparisonRow, AgentTaskRow,
)
# Each row type's table; the order of CONTENT_TABLES satisfies the foreign keys.
TABLES: dict[type, str] = dict(zip(ROW_TYPES, CONTENT_TABLES, strict=True))
