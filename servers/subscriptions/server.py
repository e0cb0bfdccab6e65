"""Subscriptions MCP server: read a subscription and change it (pause, resume, skip, frequency,
address, cancel) through the two-phase confirmation protocol; retention offers and cancel links."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated

import psycopg
from fastmcp import Context, FastMCP
from mcp_types import ToolAnnotations
from psycopg.rows import dict_row
from pydantic import Field

from schemas.actions import ActionResponse
from schemas.domain import (
    Address,
    CustomerId,
    Frequency,
    Subscription,
    SubscriptionId,
    SubscriptionPlan,
    SubscriptionStatus,
)
from schemas.errors import ErrorCode
from schemas.inputs import NoControlCharacters, PlausibleDate
from schemas.policy import Policy, month_add
from schemas.settings import Settings
from schemas.subscriptions import (
    AddressChange,
    AddressInput,
    CancelLink,
    CancelLinkInfo,
    RetentionOffer,
    RetentionOffers,
    SubscriptionList,
)
from servers.common import audit
from servers.common.actions import ActionCall, ConfirmationArg, IdempotencyArg, perform
from servers.common.app import ADDITIVE_ACTION, DESTRUCTIVE_ACTION, READ_ONLY, Transport, create_server
from servers.common.columns import subscription_columns
from servers.common.errors import ToolFailure, invalid, not_found, policy
from servers.common.principal import Principal
from servers.common.runtime import Clock, Runtime, runtime_of, utc_now
from servers.subscriptions import cancel_links

INSTRUCTIONS = """Subscriptions of Lev Haolam customers (monthly boxes from Israel).
Always pass the verified customer_id. Every change is two-phase: call once without confirmation_token,
show the customer the returned summary word for word, and only after they clearly say yes call again with
the same arguments and the confirmation_token. Never invent a token."""

STEP_MONTHS = {Frequency.MONTHLY: 1, Frequency.BIMONTHLY: 2, Frequency.QUARTERLY: 3}
# Postal code formats of the countries where a wrong code most often returns a box.
POSTAL_CODE = {
    "US": r"\d{5}(-\d{4})?", "DE": r"\d{5}", "FR": r"\d{5}", "IT": r"\d{5}", "ES": r"\d{5}", "IL": r"\d{7}",
    "NL": r"\d{4} ?[A-Z]{2}", "AU": r"\d{4}", "NZ": r"\d{4}", "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", "CH": r"\d{4}", "AT": r"\d{4}", "BE": r"\d{4}", "SE": r"\d{3} ?\d{2}",
}
NO_POSTAL_CODE_REQUIRED = {"IE"}



# ------------------------------------------------------------------ reading
# A subscription with its skipped months from the first of `%(from)s`'s month on, in one round trip.
_SELECT = (f"SELECT {subscription_columns('s')}, ARRAY(SELECT k.box_month FROM subscription_skips k "
           "WHERE k.subscription_id = s.id AND k.box_month >= %(from)s ORDER BY k.box_month) AS skipped_months "
           "FROM subscriptions s WHERE s.customer_id = %(customer)s")


def _skips_from(today: date | None) -> date:
    return (today or date.min).replace(day=1)


async def _load(conn: psycopg.AsyncConnection, customer_id: int, subscription_id: int, *, lock: bool = False,
                today: date | None = None) -> Subscription:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(_SELECT + " AND s.id = %(id)s" + (" FOR UPDATE OF s" if lock else ""),
                      {"from": _skips_from(today), "customer": customer_id, "id": subscription_id})
    row = await cur.fetchone()
    if row is None:
        raise not_found(f"Subscription #{subscription_id}", "subscription_id")
    return Subscription(**row)


def _today(ctx: Context) -> date:
    return runtime_of(ctx).clock().date()


async def get_subscription(customer_id: CustomerId, subscription_id: SubscriptionId, ctx: Context) -> Subscription:
    """Status, plan, frequency, price, next shipment date, pause end and skipped months of one subscription.

    Use it before any change, to tell the customer where they stand."""
    async with runtime_of(ctx).pool.connection() as conn:
        return await _load(conn, customer_id, subscription_id, today=_today(ctx))


async def list_subscriptions(customer_id: CustomerId, ctx: Context) -> SubscriptionList:
    """All subscriptions of the customer, newest first. Use it when the customer did not give a number."""
    async with runtime_of(ctx).pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(_SELECT + " ORDER BY s.started_at DESC", {"from": _skips_from(_today(ctx)),
                                                                   "customer": customer_id})
        return SubscriptionList(subscriptions=[Subscription(**row) for row in await cur.fetchall()])


# ------------------------------------------------------------------ actions
def _require_live(sub: Subscription, doing: str) -> None:
    if sub.status is SubscriptionStatus.CANCELLED:
        raise policy(f"subscription #{sub.id} is cancelled, so it cannot be {doing}; a new subscription can be "
                     "started on the website", "subscription_id")


async def pause_subscription(
    customer_id: CustomerId,
    subscription_id: SubscriptionId,
    months: Annotated[int, Field(description="How many months to pause: 1, 2 or 3 (policy)")],
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[Subscription]:
    """Pause an active subscription for 1-3 months; it restarts by itself afterwards.

    Changes: status becomes paused; boxes not yet charged are not sent until the pause ends.
    Refused for cancelled or past-due subscriptions, or one already paused."""
    runtime = runtime_of(ctx)
    allowed = runtime.policy.pause_months_allowed
    if months not in allowed:
        raise invalid("months", f"a pause can be {', '.join(map(str, allowed))} months; longer breaks are a "
                                "cancellation or a decision for a human")
    today = runtime.clock().date()
    resume = month_add(runtime.policy.next_open_box(today), months)
    next_box = runtime.policy.ship_date(resume)

    async def plan(conn: psycopg.AsyncConnection) -> str:
        sub = await _load(conn, customer_id, subscription_id, lock=True)
        _require_live(sub, "paused")
        if sub.status is SubscriptionStatus.PAUSED:
            raise policy(f"subscription #{sub.id} is already paused until {sub.paused_until}; use "
                         "resume_subscription to restart it earlier", "subscription_id")
        if sub.status is SubscriptionStatus.PAST_DUE:
            raise policy(f"subscription #{sub.id} has an unpaid charge; the payment must be settled before a "
                         "pause (payment_issue)", "subscription_id")
        return (f"Pause subscription #{sub.id} for {months} month{'s' if months > 1 else ''}; "
                f"next box ships {next_box.isoformat()}")

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, Subscription]:
        await conn.execute("UPDATE subscriptions SET status = 'paused', paused_until = %s, next_shipment_date = %s, "
                           "updated_at = now() WHERE id = %s", (resume, next_box, subscription_id))
        sub = await _load(conn, customer_id, subscription_id, today=today)
        return f"Subscription #{sub.id} is paused; the next box ships {next_box.isoformat()}", sub

    call = ActionCall("pause_subscription", customer_id, {"subscription_id": subscription_id, "months": months},
                      Subscription, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


async def resume_subscription(
    customer_id: CustomerId,
    subscription_id: SubscriptionId,
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[Subscription]:
    """End a pause early: the subscription becomes active and ships from the next box not yet charged."""
    runtime = runtime_of(ctx)
    today = runtime.clock().date()
    next_box = runtime.policy.ship_date(runtime.policy.next_open_box(today))

    async def plan(conn: psycopg.AsyncConnection) -> str:
        sub = await _load(conn, customer_id, subscription_id, lock=True)
        if sub.status is not SubscriptionStatus.PAUSED:
            raise policy(f"subscription #{sub.id} is {sub.status.value}, not paused, so there is nothing to resume",
                         "subscription_id")
        return f"Resume subscription #{sub.id} now; next box ships {next_box.isoformat()}"

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, Subscription]:
        await conn.execute("UPDATE subscriptions SET status = 'active', paused_until = NULL, next_shipment_date = %s, "
                           "updated_at = now() WHERE id = %s", (next_box, subscription_id))
        sub = await _load(conn, customer_id, subscription_id, today=today)
        return f"Subscription #{sub.id} is active again; the next box ships {next_box.isoformat()}", sub

    call = ActionCall("resume_subscription", customer_id, {"subscription_id": subscription_id}, Subscription,
                      confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


def _skips_allowed(policy_: Policy, existing: list[date], box_month: date) -> bool:
    """At most `max_skips_per_12_months` in any 12-month window that contains the new skip."""
    months = [*existing, box_month]
    for start_offset in range(-11, 1):
        start = month_add(box_month, start_offset)
        end = month_add(start, 11)
        if sum(start <= m <= end for m in months) > policy_.max_skips_per_12_months:
            return False
    return True


async def skip_month(
    customer_id: CustomerId,
    subscription_id: SubscriptionId,
    box_month: Annotated[PlausibleDate, Field(description="The box to skip, as the first day of its month, e.g. "
                                                          "2027-01-01 (between 2000 and 2100)")],
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[Subscription]:
    """Skip one box month without pausing. Allowed only before that box's cut-off (the 20th of the month
    before) and at most twice in 12 months. The subscription stays active."""
    runtime = runtime_of(ctx)
    p = runtime.policy
    if box_month.day != 1:
        raise invalid("box_month", f"give the first day of the month, e.g. {box_month.replace(day=1).isoformat()}")
    today = runtime.clock().date()

    async def plan(conn: psycopg.AsyncConnection) -> str:
        sub = await _load(conn, customer_id, subscription_id, lock=True)
        _require_live(sub, "changed")
        if sub.status is not SubscriptionStatus.ACTIVE:
            raise policy(f"subscription #{sub.id} is {sub.status.value}; only an active subscription can skip a box",
                         "subscription_id")
        cutoff = p.cutoff_for(box_month)
        if today > cutoff:
            raise policy(f"the cut-off for the {box_month:%B %Y} box was {cutoff.isoformat()}; it is already charged "
                         "and packed, so it can no longer be skipped", "box_month")
        if box_month in sub.skipped_months:
            raise policy(f"the {box_month:%B %Y} box of subscription #{sub.id} is already skipped", "box_month")
        assert sub.next_shipment_date is not None
        first = sub.next_shipment_date.replace(day=1)
        step = STEP_MONTHS[sub.frequency]
        months_ahead = (box_month.year - first.year) * 12 + box_month.month - first.month
        if months_ahead < 0 or months_ahead % step:
            raise policy(f"subscription #{sub.id} has no box in {box_month:%B %Y}; its next box ships "
                         f"{sub.next_shipment_date.isoformat()} ({sub.frequency.value})", "box_month")
        cur = await conn.execute("SELECT box_month FROM subscription_skips WHERE subscription_id = %s", (sub.id,))
        if not _skips_allowed(p, [r[0] for r in await cur.fetchall()], box_month):
            raise policy(f"at most {p.max_skips_per_12_months} boxes can be skipped in 12 months; offer a pause "
                         "instead", "box_month")
        next_box = _next_box_skipping(sub, box_month)
        return f"Skip the {box_month:%B %Y} box of subscription #{sub.id}; next box ships {next_box.isoformat()}"

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, Subscription]:
        sub = await _load(conn, customer_id, subscription_id)
        await conn.execute("INSERT INTO subscription_skips (subscription_id, box_month) VALUES (%s, %s)",
                           (subscription_id, box_month))
        await conn.execute("UPDATE subscriptions SET next_shipment_date = %s, updated_at = now() WHERE id = %s",
                           (_next_box_skipping(sub, box_month), subscription_id))
        sub = await _load(conn, customer_id, subscription_id, today=today)
        return f"The {box_month:%B %Y} box is skipped; the next box ships {sub.next_shipment_date}", sub

    def _next_box_skipping(sub: Subscription, skipped: date) -> date:
        """The ship date of the first box that is neither already skipped nor `skipped`."""
        assert sub.next_shipment_date is not None
        ship = sub.next_shipment_date.replace(day=1)
        while ship in {*sub.skipped_months, skipped}:
            ship = month_add(ship, STEP_MONTHS[sub.frequency])
        return p.ship_date(ship)

    call = ActionCall("skip_month", customer_id, {"subscription_id": subscription_id,
                                                  "box_month": box_month.isoformat()},
                      Subscription, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


async def change_frequency(
    customer_id: CustomerId,
    subscription_id: SubscriptionId,
    frequency: Annotated[Frequency, Field(description="monthly, bimonthly (every 2 months) or quarterly")],
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[Subscription]:
    """Change how often boxes come. Applies from the next box not yet charged."""

    async def plan(conn: psycopg.AsyncConnection) -> str:
        sub = await _load(conn, customer_id, subscription_id, lock=True)
        _require_live(sub, "changed")
        if sub.frequency is frequency:
            raise invalid("frequency", f"subscription #{sub.id} is already {frequency.value}")
        return (f"Change subscription #{sub.id} from {sub.frequency.value} to {frequency.value} boxes, "
                f"from the box shipping {sub.next_shipment_date}")

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, Subscription]:
        await conn.execute("UPDATE subscriptions SET frequency = %s, updated_at = now() WHERE id = %s",
                           (frequency.value, subscription_id))
        sub = await _load(conn, customer_id, subscription_id, today=_today(ctx))
        return f"Subscription #{sub.id} now ships {frequency.value}", sub

    call = ActionCall("change_frequency", customer_id, {"subscription_id": subscription_id,
                                                        "frequency": frequency.value},
                      Subscription, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


def _validated(address: AddressInput, policy_: Policy) -> AddressInput:
    country = address.country_code.upper()
    if country not in policy_.supported_countries:
        raise policy(f"we do not ship to {country}; we ship to {', '.join(policy_.supported_countries)}",
                     "address.country_code")
    postal = (address.postal_code or "").strip().upper() or None
    if postal is None and country not in NO_POSTAL_CODE_REQUIRED:
        raise invalid("address.postal_code", f"a postal code is needed for an address in {country}")
    if postal and country in POSTAL_CODE and not re.fullmatch(POSTAL_CODE[country], postal):
        raise invalid("address.postal_code", f"{postal!r} is not a valid postal code for {country}")
    return address.model_copy(update={"country_code": country, "postal_code": postal})


def _one_line(address: AddressInput | Address) -> str:
    parts = [address.line1, address.line2, f"{address.postal_code or ''} {address.city}".strip(), address.region,
             address.country_code]
    return ", ".join(p for p in parts if p)


async def change_address(
    customer_id: CustomerId,
    subscription_id: SubscriptionId,
    address: AddressInput,
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[AddressChange]:
    """Send future boxes of a subscription to a new address (validated: supported country, postal code).
    Boxes already shipped still go to the old address. Repeat the address to the customer before confirming."""
    runtime = runtime_of(ctx)
    clean = _validated(address, runtime.policy)

    async def plan(conn: psycopg.AsyncConnection) -> str:
        sub = await _load(conn, customer_id, subscription_id, lock=True)
        _require_live(sub, "changed")
        return (f"Ship subscription #{sub.id} to {_one_line(clean)} from the box shipping "
                f"{sub.next_shipment_date}; boxes already shipped keep the old address")

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, AddressChange]:
        await conn.execute("UPDATE addresses SET is_default = false WHERE customer_id = %s AND is_default",
                           (customer_id,))
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "INSERT INTO addresses (customer_id, line1, line2, city, region, postal_code, country_code, is_default) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, true) "
            "RETURNING id, line1, line2, city, region, postal_code, country_code",
            (customer_id, clean.line1, clean.line2, clean.city, clean.region, clean.postal_code, clean.country_code))
        row = await cur.fetchone()
        assert row is not None
        await conn.execute("UPDATE subscriptions SET shipping_address_id = %s, updated_at = now() WHERE id = %s",
                           (row["id"], subscription_id))
        sub = await _load(conn, customer_id, subscription_id)
        change = AddressChange(subscription_id=sub.id, address=Address(**row),
                               applies_from=f"the box shipping {sub.next_shipment_date}")
        return f"Subscription #{sub.id} now ships to {_one_line(change.address)}", change

    call = ActionCall("change_address", customer_id, {"subscription_id": subscription_id,
                                                      "address": clean.model_dump()},
                      AddressChange, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


async def cancel_subscription(
    customer_id: CustomerId,
    subscription_id: SubscriptionId,
    ctx: Context,
    reason: Annotated[str | None, Field(max_length=500, description="The customer's reason, in their words"),
                      NoControlCharacters] = None,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[Subscription]:
    """Cancel a subscription. Offer get_retention_offers once first. Boxes already charged are still delivered;
    nothing is charged afterwards."""
    runtime = runtime_of(ctx)

    async def plan(conn: psycopg.AsyncConnection) -> str:
        sub = await _load(conn, customer_id, subscription_id, lock=True)
        if sub.status is SubscriptionStatus.CANCELLED:
            raise policy(f"subscription #{sub.id} is already cancelled", "subscription_id")
        return (f"Cancel subscription #{sub.id} ({sub.plan.value}, {sub.frequency.value}); nothing more will be "
                "charged, and boxes already charged are still delivered")

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, Subscription]:
        await conn.execute(
            "UPDATE subscriptions SET status = 'cancelled', cancelled_at = %s, next_shipment_date = NULL, "
            "paused_until = NULL, cancel_reason = %s, updated_at = now() WHERE id = %s",
            (runtime.clock(), reason, subscription_id))
        sub = await _load(conn, customer_id, subscription_id)
        return f"Subscription #{sub.id} is cancelled", sub

    call = ActionCall("cancel_subscription", customer_id, {"subscription_id": subscription_id, "reason": reason},
                      Subscription, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


# ---------------------------------------------------------------- retention
async def get_retention_offers(customer_id: CustomerId, subscription_id: SubscriptionId, ctx: Context
                               ) -> RetentionOffers:
    """What to offer, once and without pressure, to a customer who wants to cancel: only offers this
    subscription can actually take (policy)."""
    runtime = runtime_of(ctx)
    p = runtime.policy
    today = runtime.clock().date()
    async with runtime.pool.connection() as conn:
        sub = await _load(conn, customer_id, subscription_id, today=today)
    _require_live(sub, "offered anything")
    offers: list[RetentionOffer] = []
    if sub.status is SubscriptionStatus.ACTIVE:
        offers.append(
            RetentionOffer(
                kind="pause",
                description=f"Pause for {', '.join(map(str, p.pause_months_allowed))}"
                " months instead of cancelling; it restarts by itself",
                tool="pause_subscription",
                suggested_arguments={"subscription_id": sub.id, "months": 2},
            )
        )
        open_box = p.next_open_box(today)
        if sub.next_shipment_date and sub.next_shipment_date.replace(day=1) == open_box:
            offers.append(RetentionOffer(kind="skip_next_box", description=f"Skip the {open_box:%B} box only",
                                         tool="skip_month", suggested_arguments={"subscription_id": sub.id,
                                                                                 "box_month": open_box.isoformat()}))
    if sub.plan is not SubscriptionPlan.CLASSIC:
        offers.append(RetentionOffer(kind="cheaper_plan", description="Switch to the Classic box, our lowest price",
                                     tool=None))
    if sub.frequency is Frequency.MONTHLY:
        offers.append(RetentionOffer(kind="lower_frequency", description="Receive a box every two months instead",
                                     tool="change_frequency", suggested_arguments={"subscription_id": sub.id,
                                                                                   "frequency": "bimonthly"}))
    offers.append(RetentionOffer(kind="discount", description=f"{p.retention_discount_percent}% off the next box, "
                                 "once", tool=None))
    return RetentionOffers(subscription_id=sub.id, offers=offers)


def _link_key(runtime: Runtime) -> bytes:
    if runtime.settings.cancel_link_key is None:
        raise ToolFailure(ErrorCode.UNAVAILABLE, "cancel links are not configured on this server "
                          "(LEVHAOLAM_CANCEL_LINK_KEY); use cancel_subscription with the customer's confirmation")
    try:
        return cancel_links.load_key(runtime.settings.cancel_link_key.get_secret_value())
    except cancel_links.CancelLinkError as exc:
        raise ToolFailure(ErrorCode.UNAVAILABLE, str(exc)) from None


async def create_cancel_link(customer_id: CustomerId, subscription_id: SubscriptionId, ctx: Context) -> CancelLink:
    """A personal, encrypted link where the customer can cancel by themselves (valid 48 hours).
    Changes nothing by itself; recorded in the audit log."""
    runtime = runtime_of(ctx)
    key = _link_key(runtime)
    expires_at = runtime.clock().replace(microsecond=0) + timedelta(hours=runtime.policy.cancel_link_valid_hours)
    async with runtime.pool.connection() as conn:
        sub = await _load(conn, customer_id, subscription_id)
        if sub.status is SubscriptionStatus.CANCELLED:
            raise policy(f"subscription #{sub.id} is already cancelled", "subscription_id")
        token = cancel_links.seal(key, customer_id=customer_id, subscription_id=sub.id, expires_at=expires_at)
        link = CancelLink(url=f"{runtime.settings.cancel_link_base_url}?t={token}", expires_at=expires_at)
        await audit.record(conn, principal=runtime.principal(), server=runtime.server, tool="create_cancel_link",
                           arguments={"customer_id": customer_id, "subscription_id": subscription_id},
                           outcome="executed", customer_id=customer_id, result={"expires_at": expires_at.isoformat()})
    return link


async def verify_cancel_link(
    link: Annotated[str, Field(min_length=10, max_length=2000, description="The cancel link, or its t= token"),
                    NoControlCharacters],
    ctx: Context,
) -> CancelLinkInfo:
    """Open a cancel link: whose it is, which subscription, until when. Refuses an altered or expired link."""
    runtime = runtime_of(ctx)
    try:
        # A caller bound to one customer gets "not valid" for another customer's link, expired or not.
        customer_id, subscription_id, expires_at = cancel_links.open_link(
            _link_key(runtime), link, runtime.clock(), for_customer=runtime.principal().customer_id)
    except cancel_links.CancelLinkError as exc:
        raise invalid("link", str(exc)) from None
    return CancelLinkInfo(customer_id=customer_id, subscription_id=subscription_id, expires_at=expires_at)


READ_TOOLS = (get_subscription, list_subscriptions, get_retention_offers, verify_cancel_link)
ACTION_TOOLS = {pause_subscription: DESTRUCTIVE_ACTION, resume_subscription: ADDITIVE_ACTION,
                skip_month: DESTRUCTIVE_ACTION, change_frequency: DESTRUCTIVE_ACTION,
                change_address: DESTRUCTIVE_ACTION, cancel_subscription: DESTRUCTIVE_ACTION}


def build(settings: Settings | None = None, *, transport: Transport = "memory", clock: Clock = utc_now,
          local_principal: Principal | None = None) -> FastMCP:
    mcp = create_server("subscriptions", INSTRUCTIONS, settings, transport=transport, clock=clock,
                        local_principal=local_principal)
    for fn in READ_TOOLS:
        mcp.tool(fn, annotations=READ_ONLY)
    for fn, hints in ACTION_TOOLS.items():
        mcp.tool(fn, annotations=hints)
    # Issues a credential but changes no record: not read-only, not destructive, not idempotent.
    mcp.tool(create_cancel_link, annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False,
                                                             idempotentHint=False, openWorldHint=False))
    return mcp
