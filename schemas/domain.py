"""The business domain: customers, subscriptions, orders and shipments, damage claims, payments.

Every enum here is mirrored by a CHECK constraint in `store/migrations`; a test keeps them equal.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, upper case")]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, upper case")]
Cents = Annotated[int, Field(ge=0, description="Amount in the currency's minor unit")]


def _first_of_month(value: date) -> date:
    if value.day != 1:
        raise ValueError("must be the first day of a month (a box month is written YYYY-MM-01)")
    return value


BoxMonth = Annotated[date, AfterValidator(_first_of_month)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)


class Channel(StrEnum):
    """Where a customer wrote from (Chatwoot inbox types); `api` is a direct API or the local chat page."""

    EMAIL = "email"
    WEB_WIDGET = "web_widget"
    WHATSAPP = "whatsapp"
    FACEBOOK = "facebook"
    TELEGRAM = "telegram"
    SMS = "sms"
    API = "api"


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    BIMONTHLY = "bimonthly"
    QUARTERLY = "quarterly"


class SubscriptionPlan(StrEnum):
    CLASSIC = "classic"
    PREMIUM = "premium"
    FAMILY = "family"


class OrderStatus(StrEnum):
    PENDING = "pending"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    CUSTOMS = "customs"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    LOST = "lost"
    RETURNED = "returned"


class Carrier(StrEnum):
    ISRAEL_POST = "israel_post"
    DHL = "dhl"
    UPS = "ups"
    FEDEX = "fedex"


class ClaimStatus(StrEnum):
    AWAITING_PHOTOS = "awaiting_photos"
    UNDER_REVIEW = "under_review"
    RESOLUTION_PROPOSED = "resolution_proposed"
    RESOLVED = "resolved"
    REJECTED = "rejected"


# A claim in one of these states is still being worked on: one per order (a partial unique index), counted as open.
OPEN_CLAIM_STATUSES = (ClaimStatus.AWAITING_PHOTOS, ClaimStatus.UNDER_REVIEW, ClaimStatus.RESOLUTION_PROPOSED)


class Resolution(StrEnum):
    REPLACEMENT = "replacement"
    REFUND = "refund"
    CREDIT = "credit"


class DamageType(StrEnum):
    BROKEN = "broken"
    LEAKED = "leaked"
    CRUSHED = "crushed"
    MISSING = "missing"
    SPOILED = "spoiled"


class PaymentIssueKind(StrEnum):
    CARD_DECLINED = "card_declined"
    CARD_EXPIRED = "card_expired"
    DOUBLE_CHARGE = "double_charge"
    REFUND_REQUEST = "refund_request"
    WRONG_AMOUNT = "wrong_amount"


class PaymentIssueStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Address(_Model):
    id: int | None = None
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country_code: CountryCode


class Customer(_Model):
    id: int
    email: EmailStr
    phone: str | None = None
    first_name: str
    last_name: str
    country_code: CountryCode
    language: str = "en"
    chatwoot_contact_id: int | None = None
    created_at: datetime


class Subscription(_Model):
    id: int
    customer_id: int
    plan: SubscriptionPlan
    status: SubscriptionStatus
    frequency: Frequency
    price_cents: Cents
    currency: CurrencyCode
    next_shipment_date: date | None
    paused_until: date | None = None
    skipped_months: list[BoxMonth] = Field(default_factory=list)
    started_at: datetime
    cancelled_at: datetime | None = None

    @model_validator(mode="after")
    def _status_consistent(self) -> Subscription:
        if self.status is SubscriptionStatus.PAUSED and self.paused_until is None:
            raise ValueError("a paused subscription needs paused_until")
        if self.status is not SubscriptionStatus.PAUSED and self.paused_until is not None:
            raise ValueError("paused_until is only set while the subscription is paused")
        if self.status is SubscriptionStatus.CANCELLED and self.cancelled_at is None:
            raise ValueError("a cancelled subscription needs cancelled_at")
        return self


class OrderItem(_Model):
    sku: str
    name: str
    quantity: int = Field(ge=1)


class ShipmentEvent(_Model):
    occurred_at: datetime
    status: ShipmentStatus
    location: str
    description: str


class Shipment(_Model):
    id: int
    order_id: int
    carrier: Carrier
    tracking_number: str
    status: ShipmentStatus
    shipped_at: datetime | None
    expected_delivery: date | None
    delivered_at: datetime | None = None
    destination_country: CountryCode
    events: list[ShipmentEvent] = Field(default_factory=list)


class Order(_Model):
    id: int
    customer_id: int
    subscription_id: int | None
    box_month: BoxMonth
    status: OrderStatus
    total_cents: Cents
    currency: CurrencyCode
    created_at: datetime
    items: list[OrderItem] = Field(default_factory=list)
    shipment: Shipment | None = None


class ClaimItem(_Model):
    sku: str
    quantity: int = Field(ge=1)
    damage_type: DamageType


class ClaimPhoto(_Model):
    url: str
    content_type: str
    uploaded_at: datetime


class DamageClaim(_Model):
    id: int
    customer_id: int
    order_id: int
    status: ClaimStatus
    description: str
    reported_at: datetime
    items: list[ClaimItem] = Field(min_length=1)
    photos: list[ClaimPhoto] = Field(default_factory=list)
    resolution: Resolution | None = None
    resolution_amount_cents: Cents | None = None
    resolved_at: datetime | None = None


class PaymentIssue(_Model):
    id: int
    customer_id: int
    subscription_id: int | None
    kind: PaymentIssueKind
    status: PaymentIssueStatus
    amount_cents: Cents | None
    currency: CurrencyCode | None
    created_at: datetime
    resolved_at: datetime | None = None


CustomerId = Annotated[int, Field(gt=0, description="The verified customer's id (from identify_customer)")]
SubscriptionId = Annotated[int, Field(gt=0, description="Subscription number, e.g. 123 for #123")]
OrderId = Annotated[int, Field(gt=0, description="Order number, e.g. 4567 for #4567")]
ClaimId = Annotated[int, Field(gt=0, description="Damage claim number")]
