"""Shipping MCP server: where a box is, when it should arrive, and reporting one that did not."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import psycopg
from fastmcp import Context, FastMCP
from psycopg.rows import dict_row
from pydantic import Field

from schemas.actions import ActionResponse
from schemas.domain import CustomerId, OrderId, ShipmentEvent
from schemas.inputs import NoControlCharacters, PlausibleDate
from schemas.settings import Settings
from schemas.shipping import DeliveryEstimate, MissingPackageReport, ShipmentList, ShipmentSummary, TrackingInfo
from servers.common.actions import ActionCall, ConfirmationArg, IdempotencyArg, perform
from servers.common.app import ADDITIVE_ACTION, READ_ONLY, Transport, create_server
from servers.common.errors import invalid, not_found, policy
from servers.common.principal import Principal
from servers.common.runtime import Clock, runtime_of, utc_now

INSTRUCTIONS = """Shipments of Lev Haolam boxes (from Israel, worldwide). Quote carrier events and dates exactly as
returned; never invent a tracking number or a date. report_missing_package is two-phase and allowed only after the
expected delivery date plus the grace days."""

TRACKING_URL = {
    "israel_post": "https://israelpost.co.il/en/itemtrace?itemcode={}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
}
TrackingNumber = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{8,30}$", description="As printed on the label")]

_SHIPMENT = """
SELECT o.id AS order_id, o.box_month, s.id AS shipment_id, s.carrier, s.tracking_number, s.status, s.shipped_at,
       s.expected_delivery, s.delivered_at
FROM orders o JOIN shipments s ON s.order_id = o.id
WHERE o.customer_id = %s
"""


async def _shipment(conn: psycopg.AsyncConnection, customer_id: int, order_id: int | None,
                    tracking_number: str | None, *, lock: bool = False) -> dict:
    cur = conn.cursor(row_factory=dict_row)
    if order_id is not None:
        await cur.execute(_SHIPMENT + " AND o.id = %s" + (" FOR UPDATE OF s" if lock else ""), (customer_id, order_id))
        what, field = f"A shipment for order #{order_id}", "order_id"
    else:
        await cur.execute(_SHIPMENT + " AND s.tracking_number = %s", (customer_id, (tracking_number or "").upper()))
        what, field = f"Tracking number {tracking_number}", "tracking_number"
    row = await cur.fetchone()
    if row is None:
        raise not_found(what, field)
    return row


def _missing_from(row: dict, grace_days: int) -> date | None:
    if row["status"] == "delivered" or row["expected_delivery"] is None:
        return None
    return row["expected_delivery"] + timedelta(days=grace_days + 1)


async def track_shipment(
    customer_id: CustomerId,
    ctx: Context,
    order_id: OrderId | None = None,
    tracking_number: TrackingNumber | None = None,
) -> TrackingInfo:
    """Status, carrier events and expected delivery of one box, by order number or tracking number (give one).
    Use for 'where is my box?'."""
    if (order_id is None) == (tracking_number is None):
        raise invalid("order_id", "give exactly one of order_id or tracking_number")
    runtime = runtime_of(ctx)
    async with runtime.pool.connection() as conn:
        row = await _shipment(conn, customer_id, order_id, tracking_number)
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute("SELECT occurred_at, status, location, description FROM shipment_events "
                          "WHERE shipment_id = %s ORDER BY occurred_at", (row["shipment_id"],))
        events = [ShipmentEvent(**e) for e in await cur.fetchall()]
    return TrackingInfo(
        order_id=row["order_id"],
        box_month=row["box_month"],
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        tracking_url=TRACKING_URL[row["carrier"]].format(row["tracking_number"]),
        status=row["status"],
        shipped_at=row["shipped_at"],
        expected_delivery=row["expected_delivery"],
        delivered_at=row["delivered_at"],
        events=events,
        missing_report_allowed_from=_missing_from(row, runtime.policy.missing_package_grace_days),
    )


async def list_shipments(
    customer_id: CustomerId,
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=50, description="How many, newest first")] = 10,
) -> ShipmentList:
    """The customer's recent shipments, newest first, with status and tracking numbers."""
    async with runtime_of(ctx).pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(_SHIPMENT + " ORDER BY o.box_month DESC, o.id DESC LIMIT %s", (customer_id, limit))
        rows = await cur.fetchall()
    return ShipmentList(shipments=[ShipmentSummary(**{k: v for k, v in r.items() if k != "shipment_id"})
                                   for r in rows])


async def get_delivery_estimate(
    country_code: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. DE")],
    ctx: Context,
    shipped_on: Annotated[PlausibleDate | None, Field(description="The shipping date, if known (between 2000 and "
                                                                  "2100)")] = None,
) -> DeliveryEstimate:
    """Usual delivery time from Israel to a country (policy), and the expected window for a shipping date."""
    p = runtime_of(ctx).policy
    country = country_code.upper()
    low, high = p.delivery_window(country)
    return DeliveryEstimate(
        country_code=country, we_ship_there=country in p.supported_countries, region=p.region_of(country),
        min_days=low, max_days=high,
        earliest=shipped_on + timedelta(days=low) if shipped_on else None,
        latest=shipped_on + timedelta(days=high) if shipped_on else None)


async def report_missing_package(
    customer_id: CustomerId,
    order_id: OrderId,
    ctx: Context,
    details: Annotated[str | None, Field(max_length=2000, description="What the customer says"),
                       NoControlCharacters] = None,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[MissingPackageReport]:
    """Open an investigation with the carrier for a box that has not arrived. Allowed only when the expected
    delivery date has passed by the grace days (policy); before that, share the tracking instead."""
    runtime = runtime_of(ctx)
    today = runtime.clock().date()
    grace = runtime.policy.missing_package_grace_days

    async def plan(conn: psycopg.AsyncConnection) -> str:
        row = await _shipment(conn, customer_id, order_id, None, lock=True)
        if row["status"] == "delivered":
            raise policy(f"order #{order_id} was delivered on {row['delivered_at']:%Y-%m-%d}; if it is not there, "
                         "a human should look into it", "order_id")
        allowed_from = _missing_from(row, grace)
        if allowed_from is None or today < allowed_from:
            raise policy(f"order #{order_id} is expected by {row['expected_delivery']}; it can be reported missing "
                         f"from {allowed_from} ({grace} days later). Share the tracking until then", "order_id")
        cur = await conn.execute("SELECT id FROM missing_package_reports WHERE shipment_id = %s "
                                 "AND status = 'investigating'", (row["shipment_id"],))
        if await cur.fetchone():
            raise policy(f"order #{order_id} is already being investigated with the carrier", "order_id")
        return (f"Report order #{order_id} ({row['carrier']} {row['tracking_number']}) as missing and open an "
                "investigation with the carrier; if it is not found within 10 days we send a replacement box free")

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, MissingPackageReport]:
        row = await _shipment(conn, customer_id, order_id, None)
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute("INSERT INTO missing_package_reports (customer_id, order_id, shipment_id, details, "
                          "reported_at) VALUES (%s, %s, %s, %s, %s) RETURNING id, status, reported_at",
                          (customer_id, order_id, row["shipment_id"], details, runtime.clock()))
        report = await cur.fetchone()
        assert report is not None
        result = MissingPackageReport(report_id=report["id"], order_id=order_id,
                                      tracking_number=row["tracking_number"], status=report["status"],
                                      reported_at=report["reported_at"],
                                      next_steps="We investigate with the carrier; a replacement ships free if the "
                                                 "box is not found within 10 days.")
        return f"Order #{order_id} is reported missing (report #{report['id']})", result

    call = ActionCall("report_missing_package", customer_id, {"order_id": order_id, "details": details},
                      MissingPackageReport, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


def build(settings: Settings | None = None, *, transport: Transport = "memory", clock: Clock = utc_now,
          local_principal: Principal | None = None) -> FastMCP:
    mcp = create_server("shipping", INSTRUCTIONS, settings, transport=transport, clock=clock,
                        local_principal=local_principal)
    for fn in (track_shipment, list_shipments, get_delivery_estimate):
        mcp.tool(fn, annotations=READ_ONLY)
    mcp.tool(report_missing_package, annotations=ADDITIVE_ACTION)
    return mcp
