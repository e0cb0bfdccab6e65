"""Inputs and outputs of the shipping server's tools."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from schemas.domain import Carrier, ShipmentEvent, ShipmentStatus


class TrackingInfo(BaseModel):
    order_id: int
    box_month: date
    carrier: Carrier
    tracking_number: str
    tracking_url: str
    status: ShipmentStatus
    shipped_at: datetime | None
    expected_delivery: date | None = Field(description="The carrier's latest expected delivery date")
    delivered_at: datetime | None
    events: list[ShipmentEvent] = Field(description="Oldest first")
    missing_report_allowed_from: date | None = Field(
        description="From this date report_missing_package is allowed, if still not delivered")


class ShipmentSummary(BaseModel):
    order_id: int
    box_month: date
    carrier: Carrier
    tracking_number: str
    status: ShipmentStatus
    shipped_at: datetime | None
    expected_delivery: date | None
    delivered_at: datetime | None


class ShipmentList(BaseModel):
    shipments: list[ShipmentSummary]


class DeliveryEstimate(BaseModel):
    country_code: str
    we_ship_there: bool
    region: str
    min_days: int
    max_days: int
    earliest: date | None = Field(description="With a shipping date: the earliest expected delivery")
    latest: date | None


class MissingPackageReport(BaseModel):
    report_id: int
    order_id: int
    tracking_number: str
    status: str
    reported_at: datetime
    next_steps: str
