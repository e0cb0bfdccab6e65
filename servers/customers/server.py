"""Customers MCP server: find who is writing, and read their profile and order history."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastmcp import Context, FastMCP
from psycopg.rows import dict_row
from pydantic import EmailStr, Field

from schemas.actions import AuditOutcome
from schemas.customers import CustomerProfile, IdentifyResult, OrderHistory, OrderSummary
from schemas.domain import OPEN_CLAIM_STATUSES, Address, Customer, CustomerId, PaymentIssueStatus, Subscription
from schemas.errors import ErrorCode
from schemas.inputs import NoControlCharacters
from schemas.settings import Settings
from servers.common import audit
from servers.common.app import READ_ONLY, Transport, create_server
from servers.common.columns import subscription_columns
from servers.common.errors import invalid, not_found
from servers.common.principal import Principal
from servers.common.runtime import Clock, Runtime, runtime_of, utc_now

INSTRUCTIONS = """Lev Haolam customers. identify_customer finds the customer behind a conversation by e-mail, phone
or Chatwoot contact id; every other tool takes that customer's id. Never reveal data before the customer is
identified, and never another customer's data."""

_CUSTOMER = ("SELECT id, email, phone, first_name, last_name, country_code, language, chatwoot_contact_id, "
             "created_at FROM customers")


async def _customer(conn: psycopg.AsyncConnection, customer_id: int) -> Customer:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_CUSTOMER + " WHERE id = %s", (customer_id,))
    row = await cur.fetchone()
    if row is None:
        raise not_found(f"Customer #{customer_id}", "customer_id")
    return Customer(**row)


def _phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if not 7 <= len(digits) <= 15:
        raise invalid("phone", "give the phone number in international form, e.g. +972 52 123 4567")
    return "+" + digits


async def identify_customer(
    ctx: Context,
    email: Annotated[EmailStr | None, Field(description="The address the customer wrote from or gave")] = None,
    phone: Annotated[str | None, Field(max_length=32, description="International format, e.g. +972521234567"),
                     NoControlCharacters] = None,
    chatwoot_contact_id: Annotated[int | None, Field(gt=0, description="Chatwoot's contact id")] = None,
) -> IdentifyResult:
    """Find the customer by exactly one of e-mail, phone or Chatwoot contact id. found=false means no customer
    matches: ask the customer for the e-mail of their subscription."""
    given = {k: v for k, v in {"email": email, "phone": phone, "chatwoot_contact_id": chatwoot_contact_id}.items()
             if v is not None}
    if len(given) != 1:
        raise invalid("email", "give exactly one of email, phone or chatwoot_contact_id")
    (field, value), = given.items()
    column_value = {"email": lambda v: str(v).strip().lower(), "phone": _phone, "chatwoot_contact_id": int}[field](
        value
    )
    runtime = runtime_of(ctx)
    principal = runtime.principal()
    async with runtime.pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        if principal.customer_id is not None:
            # A caller bound to one customer learns only whether this is that customer: another customer's
            # identifier answers exactly like an unknown one (and the attempt is audited).
            await cur.execute(_CUSTOMER + f" WHERE {field} = %s AND id = %s", (column_value, principal.customer_id))
            own = await cur.fetchone()
            if own is not None:
                return IdentifyResult(found=True, matched_by=field, customer=Customer(**own))
            await _audit_other_customer(conn, runtime, principal, field, value, column_value)
            return IdentifyResult(found=False, matched_by=None, customer=None)
        # Two customers may share a phone (a family): then nobody is identified by it.
        await cur.execute(_CUSTOMER + f" WHERE {field} = %s LIMIT 2", (column_value,))
        rows = await cur.fetchall()
    if len(rows) != 1:
        return IdentifyResult(found=False, matched_by=None, customer=None)
    return IdentifyResult(found=True, matched_by=field, customer=Customer(**rows[0]))


async def _audit_other_customer(conn: psycopg.AsyncConnection, runtime: Runtime, principal: Principal, field: str,
                                given: object, column_value: object) -> None:
    """Record a bound caller's lookup of an identifier that belongs to someone else (nothing when it is nobody's)."""
    cur = await conn.execute(f"SELECT id FROM customers WHERE {field} = %s ORDER BY id LIMIT 1", (column_value,))
    other = await cur.fetchone()
    if other is None:
        return
    await audit.record(conn, principal=principal, server=runtime.server, tool="identify_customer",
                       arguments={field: given}, outcome=AuditOutcome.REFUSED.value, customer_id=other[0],
                       error_code=ErrorCode.NOT_FOUND.value,
                       result={"message": "the identifier belongs to another customer than the one this caller is "
                                          "bound to; answered found=false", "field": field})


async def get_customer_profile(customer_id: CustomerId, ctx: Context) -> CustomerProfile:
    """Who the customer is: contact details, addresses, subscriptions, open damage claims and payment issues."""
    async with runtime_of(ctx).pool.connection() as conn:
        customer = await _customer(conn, customer_id)
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute("SELECT id, line1, line2, city, region, postal_code, country_code FROM addresses "
                          "WHERE customer_id = %s ORDER BY is_default DESC, id DESC", (customer_id,))
        addresses = [Address(**r) for r in await cur.fetchall()]
        await cur.execute(
            f"SELECT {subscription_columns('s')}, coalesce(array_agg(k.box_month "
            "ORDER BY k.box_month) FILTER (WHERE k.box_month >= date_trunc('month', now())), '{}') AS skipped_months "
            "FROM subscriptions s LEFT JOIN subscription_skips k ON k.subscription_id = s.id "
            "WHERE s.customer_id = %s GROUP BY s.id ORDER BY s.started_at DESC", (customer_id,))
        subscriptions = [Subscription(**r) for r in await cur.fetchall()]
        await cur.execute(
            "SELECT (SELECT count(*) FROM damage_claims WHERE customer_id = %(c)s AND status = ANY(%(open)s)) AS "
            "claims, "
            "(SELECT count(*) FROM payment_issues WHERE customer_id = %(c)s AND status = %(open_issue)s) AS payments",
            {"c": customer_id, "open": [s.value for s in OPEN_CLAIM_STATUSES],
             "open_issue": PaymentIssueStatus.OPEN.value})
        counts = await cur.fetchone()
    assert counts is not None
    return CustomerProfile(customer=customer, addresses=addresses, subscriptions=subscriptions,
                           open_damage_claims=counts["claims"], open_payment_issues=counts["payments"])


async def get_order_history(
    customer_id: CustomerId,
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=100, description="How many orders, newest first")] = 12,
) -> OrderHistory:
    """The customer's boxes, newest first: month, status, items (with SKUs for damage claims) and tracking."""
    async with runtime_of(ctx).pool.connection() as conn:
        await _customer(conn, customer_id)
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "SELECT o.id AS order_id, o.subscription_id, o.box_month, o.status, o.total_cents, o.currency, "
            "s.status AS shipment_status, s.tracking_number, "
            "coalesce((SELECT array_agg(i.sku || ': ' || p.name ORDER BY i.sku) FROM order_items i "
            "          JOIN products p USING (sku) WHERE i.order_id = o.id), '{}') AS items "
            "FROM orders o LEFT JOIN shipments s ON s.order_id = o.id WHERE o.customer_id = %s "
            "ORDER BY o.box_month DESC, o.id DESC LIMIT %s", (customer_id, limit))
        return OrderHistory(orders=[OrderSummary(**r) for r in await cur.fetchall()])


def build(settings: Settings | None = None, *, transport: Transport = "memory", clock: Clock = utc_now,
          local_principal: Principal | None = None) -> FastMCP:
    mcp = create_server("customers", INSTRUCTIONS, settings, transport=transport, clock=clock,
                        local_principal=local_principal)
    for fn in (identify_customer, get_customer_profile, get_order_history):
        mcp.tool(fn, annotations=READ_ONLY)
    return mcp
