"""Damage MCP server: claims for boxes that arrived damaged, photos, and the resolution the customer picks."""

from __future__ import annotations

from typing import Annotated

import psycopg
from fastmcp import Context, FastMCP
from psycopg.rows import dict_row
from pydantic import Field

from schemas.actions import ActionResponse
from schemas.damage import ClaimItemInput, PhotoUploadInstructions
from schemas.domain import (
    OPEN_CLAIM_STATUSES,
    ClaimId,
    ClaimItem,
    ClaimPhoto,
    ClaimStatus,
    CustomerId,
    DamageClaim,
    OrderId,
    Resolution,
)
from schemas.errors import ErrorCode
from schemas.inputs import NoControlCharacters
from schemas.settings import Settings
from servers.common.actions import ActionCall, ConfirmationArg, IdempotencyArg, perform
from servers.common.app import ADDITIVE_ACTION, DESTRUCTIVE_ACTION, READ_ONLY, Transport, create_server
from servers.common.errors import ToolFailure, invalid, not_found, policy
from servers.common.principal import Principal
from servers.common.runtime import Clock, runtime_of, utc_now

INSTRUCTIONS = """Damage claims for Lev Haolam boxes. Apologise once, create the claim (two-phase), send the photo
instructions, attach photos, then let the customer choose a replacement, a refund or store credit (policy). If anyone
was hurt or ate spoiled food, hand the conversation to a human instead."""

PHOTO_TYPES = ["image/jpeg", "image/png", "image/heic", "image/webp"]
UPLOAD_BASE = "https://uploads.levhaolam.example/claims"


async def _claim(conn: psycopg.AsyncConnection, customer_id: int, claim_id: int, *, lock: bool = False
                 ) -> DamageClaim:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute("SELECT id, customer_id, order_id, status, description, reported_at, resolution, "
                      "resolution_amount_cents, resolved_at FROM damage_claims WHERE id = %s AND customer_id = %s"
                      + (" FOR UPDATE" if lock else ""), (claim_id, customer_id))
    row = await cur.fetchone()
    if row is None:
        raise not_found(f"Damage claim #{claim_id}", "claim_id")
    await cur.execute("SELECT sku, quantity, damage_type FROM damage_claim_items WHERE claim_id = %s ORDER BY sku",
                      (claim_id,))
    items = [ClaimItem(**r) for r in await cur.fetchall()]
    await cur.execute("SELECT url, content_type, uploaded_at FROM damage_claim_photos WHERE claim_id = %s ORDER BY id",
                      (claim_id,))
    return DamageClaim(**row, items=items, photos=[ClaimPhoto(**r) for r in await cur.fetchall()])


async def get_claim_status(customer_id: CustomerId, claim_id: ClaimId, ctx: Context) -> DamageClaim:
    """A damage claim with its items, photos, status and resolution."""
    async with runtime_of(ctx).pool.connection() as conn:
        return await _claim(conn, customer_id, claim_id)


async def create_damage_claim(
    customer_id: CustomerId,
    order_id: OrderId,
    items: Annotated[list[ClaimItemInput], Field(min_length=1, max_length=20, description="The damaged products")],
    description: Annotated[str, Field(min_length=3, max_length=4000, description="What happened, in short"),
                           NoControlCharacters],
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[DamageClaim]:
    """Open a damage claim for items of a delivered order, within the report window (14 days after delivery).
    Photos are requested next (request_photos)."""
    runtime = runtime_of(ctx)
    now = runtime.clock()
    window = runtime.policy.damage_report_window_days
    skus = [item.sku for item in items]
    if len(set(skus)) != len(skus):
        raise invalid("items", "list each product once, with its quantity")

    async def plan(conn: psycopg.AsyncConnection) -> str:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute("SELECT o.id, s.delivered_at FROM orders o LEFT JOIN shipments s ON s.order_id = o.id "
                          "WHERE o.id = %s AND o.customer_id = %s FOR UPDATE OF o", (order_id, customer_id))
        order = await cur.fetchone()
        if order is None:
            raise not_found(f"Order #{order_id}", "order_id")
        if order["delivered_at"] is None:
            raise policy(f"order #{order_id} has not been delivered yet; damage can be reported after delivery",
                         "order_id")
        age = (now - order["delivered_at"]).days
        if age > window:
            raise policy(f"order #{order_id} was delivered {age} days ago; damage must be reported within {window} "
                         "days of delivery. A human can decide on an exception", "order_id")
        await cur.execute("SELECT oi.sku, oi.quantity, p.name FROM order_items oi JOIN products p USING (sku) "
                          "WHERE oi.order_id = %s", (order_id,))
        in_order = {r["sku"]: r for r in await cur.fetchall()}
        for index, item in enumerate(items):
            if item.sku not in in_order:
                raise invalid(f"items.{index}.sku", f"{item.sku} is not in order #{order_id}; it contains "
                                                    f"{', '.join(sorted(in_order))}")
            if item.quantity > in_order[item.sku]["quantity"]:
                raise invalid(f"items.{index}.quantity", f"order #{order_id} has only "
                                                         f"{in_order[item.sku]['quantity']} of {item.sku}")
        await cur.execute("SELECT id FROM damage_claims WHERE order_id = %s AND status = ANY(%s)",
                          (order_id, [s.value for s in OPEN_CLAIM_STATUSES]))
        existing = await cur.fetchone()
        if existing:
            raise ToolFailure(ErrorCode.CONFLICT, f"claim #{existing['id']} is already open for order #{order_id}; "
                              "add photos to it or check it with get_claim_status", "order_id")
        names = ", ".join(f"{i.quantity} x {in_order[i.sku]['name']} ({i.damage_type.value})" for i in items)
        return f"Open a damage claim for order #{order_id}: {names}"

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, DamageClaim]:
        cur = await conn.execute(
            "INSERT INTO damage_claims (customer_id, order_id, status, description, reported_at) "
            "VALUES (%s, %s, 'awaiting_photos', %s, %s) RETURNING id", (customer_id, order_id, description, now))
        row = await cur.fetchone()
        assert row is not None
        for item in items:
            await conn.execute("INSERT INTO damage_claim_items (claim_id, sku, quantity, damage_type) "
                               "VALUES (%s, %s, %s, %s)", (row[0], item.sku, item.quantity, item.damage_type.value))
        claim = await _claim(conn, customer_id, row[0])
        return f"Damage claim #{claim.id} is open; photos are needed next", claim

    call = ActionCall("create_damage_claim", customer_id,
                      {"order_id": order_id, "items": [i.model_dump(mode="json") for i in items],
                       "description": description}, DamageClaim, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


async def request_photos(customer_id: CustomerId, claim_id: ClaimId, ctx: Context) -> PhotoUploadInstructions:
    """Where and how the customer uploads photos of the damage (item and packaging). Changes nothing."""
    runtime = runtime_of(ctx)
    async with runtime.pool.connection() as conn:
        claim = await _claim(conn, customer_id, claim_id)
    needed = runtime.policy.damage_min_photos
    return PhotoUploadInstructions(
        claim_id=claim.id, upload_url=f"{UPLOAD_BASE}/{claim.id}", accepted_types=PHOTO_TYPES,
        photos_needed=max(0, needed - len(claim.photos)), photos_received=len(claim.photos),
        instructions="Take a photo of each damaged item and one of the box and packaging, in daylight, and upload "
                     "them at the link (JPEG, PNG, HEIC or WebP, up to 10 MB each). You can also send them here.")


async def attach_photo(
    customer_id: CustomerId,
    claim_id: ClaimId,
    url: Annotated[
        str, Field(pattern=r"^https://\S+$", max_length=2000, description="https URL of the uploaded photo"),
        NoControlCharacters,
    ],
    content_type: Annotated[str, Field(max_length=100, description="image/jpeg, image/png, image/heic or "
                                                                   "image/webp"), NoControlCharacters],
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[DamageClaim]:
    """Add a photo the customer sent to an open claim; with enough photos the claim goes to review."""
    if content_type not in PHOTO_TYPES:
        raise invalid("content_type", f"photos must be one of {', '.join(PHOTO_TYPES)}")
    runtime = runtime_of(ctx)

    async def plan(conn: psycopg.AsyncConnection) -> str:
        claim = await _claim(conn, customer_id, claim_id, lock=True)
        if claim.status not in OPEN_CLAIM_STATUSES:
            raise policy(f"claim #{claim.id} is {claim.status.value}; photos can only be added to an open claim",
                         "claim_id")
        if any(photo.url == url for photo in claim.photos):
            raise policy(f"this photo is already attached to claim #{claim.id}", "url")
        return f"Attach the photo to damage claim #{claim.id}"

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, DamageClaim]:
        await conn.execute("INSERT INTO damage_claim_photos (claim_id, url, content_type, uploaded_at) "
                           "VALUES (%s, %s, %s, %s)", (claim_id, url, content_type, runtime.clock()))
        await conn.execute(
            "UPDATE damage_claims SET status = 'under_review' WHERE id = %s AND status = 'awaiting_photos' AND "
            "(SELECT count(*) FROM damage_claim_photos WHERE claim_id = %s) >= %s",
            (claim_id, claim_id, runtime.policy.damage_min_photos))
        claim = await _claim(conn, customer_id, claim_id)
        return f"Photo attached to claim #{claim.id} ({len(claim.photos)} so far; {claim.status.value})", claim

    call = ActionCall("attach_photo", customer_id, {"claim_id": claim_id, "url": url, "content_type": content_type},
                      DamageClaim, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


async def _claim_value_cents(conn: psycopg.AsyncConnection, claim_id: int) -> int:
    cur = await conn.execute("SELECT coalesce(sum(p.price_cents * i.quantity), 0) FROM damage_claim_items i "
                             "JOIN products p USING (sku) WHERE i.claim_id = %s", (claim_id,))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def propose_resolution(
    customer_id: CustomerId,
    claim_id: ClaimId,
    resolution: Annotated[Resolution, Field(description="What the customer chose: replacement, refund or credit")],
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[DamageClaim]:
    """Record the resolution the customer prefers for a reviewed claim (photos received): a replacement in the next
    box, a refund of the items' value, or store credit of 120%. Large refunds go to a human (policy)."""
    runtime = runtime_of(ctx)
    p = runtime.policy

    async def amount(conn: psycopg.AsyncConnection) -> int:
        value = await _claim_value_cents(conn, claim_id)
        return {Resolution.REPLACEMENT: 0, Resolution.REFUND: value,
                Resolution.CREDIT: value * p.store_credit_percent // 100}[resolution]

    async def plan(conn: psycopg.AsyncConnection) -> str:
        claim = await _claim(conn, customer_id, claim_id, lock=True)
        if claim.status is ClaimStatus.AWAITING_PHOTOS:
            raise policy(f"claim #{claim.id} needs at least {p.damage_min_photos} photo first (request_photos)",
                         "claim_id")
        if claim.status not in (ClaimStatus.UNDER_REVIEW, ClaimStatus.RESOLUTION_PROPOSED):
            raise policy(f"claim #{claim.id} is {claim.status.value}", "claim_id")
        cents = await amount(conn)
        if resolution is Resolution.REFUND and cents > p.refund_human_approval_above_usd_cents:
            raise policy(f"a refund of {cents / 100:.2f} is above the {p.refund_human_approval_above_usd_cents // 100}"
                         " limit that needs a human's approval; offer a replacement or credit, or hand off",
                         "resolution")
        what = {Resolution.REPLACEMENT: "replace the damaged items in the next box",
                Resolution.REFUND: f"refund {cents / 100:.2f}",
                Resolution.CREDIT: f"add store credit of {cents / 100:.2f}"}[resolution]
        return f"For damage claim #{claim.id}: {what}"

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, DamageClaim]:
        await conn.execute("UPDATE damage_claims SET status = 'resolution_proposed', resolution = %s, "
                           "resolution_amount_cents = %s WHERE id = %s",
                           (resolution.value, await amount(conn), claim_id))
        claim = await _claim(conn, customer_id, claim_id)
        return f"Resolution {resolution.value} recorded for claim #{claim.id}; the customer can accept it", claim

    call = ActionCall("propose_resolution", customer_id, {"claim_id": claim_id, "resolution": resolution.value},
                      DamageClaim, confirmation_token, idempotency_key)
    return await perform(ctx, call, plan, execute)


async def accept_resolution(
    customer_id: CustomerId,
    claim_id: ClaimId,
    ctx: Context,
    confirmation_token: ConfirmationArg = None,
    idempotency_key: IdempotencyArg = None,
) -> ActionResponse[DamageClaim]:
    """The customer accepts the proposed resolution: the claim is resolved and the replacement, refund or credit
    is issued."""
    runtime = runtime_of(ctx)

    async def plan(conn: psycopg.AsyncConnection) -> str:
        claim = await _claim(conn, customer_id, claim_id, lock=True)
        if claim.status is not ClaimStatus.RESOLUTION_PROPOSED or claim.resolution is None:
            raise policy(f"claim #{claim.id} has no proposed resolution to accept ({claim.status.value}); use "
                         "propose_resolution first", "claim_id")
        return f"Resolve damage claim #{claim.id} with a {claim.resolution.value}"

    async def execute(conn: psycopg.AsyncConnection) -> tuple[str, DamageClaim]:
        await conn.execute("UPDATE damage_claims SET status = 'resolved', resolved_at = %s WHERE id = %s",
                           (runtime.clock(), claim_id))
        claim = await _claim(conn, customer_id, claim_id)
        return f"Damage claim #{claim.id} is resolved ({claim.resolution.value if claim.resolution else ''})", claim

    call = ActionCall("accept_resolution", customer_id, {"claim_id": claim_id}, DamageClaim, confirmation_token,
                      idempotency_key)
    return await perform(ctx, call, plan, execute)


def build(settings: Settings | None = None, *, transport: Transport = "memory", clock: Clock = utc_now,
          local_principal: Principal | None = None) -> FastMCP:
    mcp = create_server("damage", INSTRUCTIONS, settings, transport=transport, clock=clock,
                        local_principal=local_principal)
    for fn in (get_claim_status, request_photos):
        mcp.tool(fn, annotations=READ_ONLY)
    for fn in (create_damage_claim, attach_photo):
        mcp.tool(fn, annotations=ADDITIVE_ACTION)
    for fn in (propose_resolution, accept_resolution):
        mcp.tool(fn, annotations=DESTRUCTIVE_ACTION)
    return mcp
