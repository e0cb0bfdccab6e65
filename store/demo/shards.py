"""Shards: the demo data is generated in independent pieces, numbered locally, then shifted into place.

A shard numbers the rows it creates from 1 for every table whose count it cannot know in advance (a customer has
one or two addresses, a ticket one to three messages). Once the shards before it are counted, adding their counts
to its ids gives the same dense ids a single sequential pass would, so the data does not depend on how many
processes generated it. Customer and ticket ids are known up front (shard number x shard size) and never shift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from store.demo.rows import (
    AddressRow,
    AgentTaskRow,
    ComparisonRow,
    DamageClaimItemRow,
    DamageClaimPhotoRow,
    DamageClaimRow,
    DialogRow,
    OrderItemRow,
    OrderRow,
    PaymentIssueRow,
    ShipmentEventRow,
    ShipmentRow,
    SkipRow,
    SubscriptionRow,
)

PHOTO_URL = "https://uploads.levhaolam.example/claims/{claim}/{n}.jpg"

# For each row type, its fields holding a locally numbered id and the counter that numbers them.
_LOCAL_IDS: dict[type, tuple[tuple[str, str], ...]] = {
    AddressRow: (("id", "addresses"),),
    SubscriptionRow: (("id", "subscriptions"), ("shipping_address_id", "addresses")),
    SkipRow: (("subscription_id", "subscriptions"),),
    OrderRow: (("id", "orders"), ("subscription_id", "subscriptions")),
    OrderItemRow: (("order_id", "orders"),),
    ShipmentRow: (("id", "shipments"), ("order_id", "orders")),
    ShipmentEventRow: (("id", "shipment_events"), ("shipment_id", "shipments")),
    DamageClaimRow: (("id", "damage_claims"), ("order_id", "orders")),
    DamageClaimItemRow: (("claim_id", "damage_claims"),),
    DamageClaimPhotoRow: (("id", "damage_claim_photos"), ("claim_id", "damage_claims")),
    PaymentIssueRow: (("id", "payment_issues"), ("subscription_id", "subscriptions")),
    DialogRow: (("id", "dialogs"),),
    ComparisonRow: (("id", "comparisons"),),
    AgentTaskRow: (("id", "agent_tasks"),),
}
_SHIFTS: dict[type, tuple[tuple[int, str], ...]] = {
    row_type: tuple((row_type._fields.index(name), counter) for name, counter in fields)  # type: ignore[attr-defined]
    for row_type, fields in _LOCAL_IDS.items()
}


def tracking_number(carrier: str, shipment_id: int) -> str:
    return {
        "israel_post": f"RR{shipment_id:09d}IL",
        "dhl": f"{3_000_000_000 + shipment_id:010d}",
        "ups": f"1Z8V{shipment_id:012d}",
        "fedex": f"{700_000_000_000 + shipment_id:012d}",
    }[carrier]


@dataclass(frozen=True)
class CustomerFacts:
    """What the tickets need to know about a customer, kept small for 100k customers."""

    id: int
    email: str
    first_name: str
    country: str
    language: str


@dataclass
class Batch:
    """Rows of several tables produced together; `units` advances the progress bar."""

    phase: str
    units: int
    rows: dict[type, list[tuple]] = field(default_factory=dict)

    def add(self, row: tuple) -> None:
        self.rows.setdefault(type(row), []).append(row)


@dataclass
class Shard(Batch):
    """A batch whose non-customer, non-ticket ids are local until `globalize` shifts them."""

    counts: dict[str, int] = field(default_factory=dict)
    customers: list[CustomerFacts] = field(default_factory=list)
    # customer id -> (order id, shipment id, carrier) of the latest shipped order, local ids until globalized
    latest_shipped: dict[int, tuple[int, int, str]] = field(default_factory=dict)
    # customer id -> (order id, tracking number), filled by globalize
    latest_orders: dict[int, tuple[int, str]] = field(default_factory=dict)


def add_counts(offsets: dict[str, int], counts: dict[str, int]) -> dict[str, int]:
    return {name: offsets.get(name, 0) + counts.get(name, 0) for name in offsets.keys() | counts.keys()}


def _shifted(rows: Iterable[tuple], shifts: tuple[tuple[int, int], ...]) -> list[tuple]:
    out = []
    for row in rows:
        values = list(row)
        for index, offset in shifts:
            values[index] += offset
        out.append(tuple(values))
    return out


def globalize(shard: Shard, offsets: dict[str, int]) -> None:
    """Shift the shard's local ids by the counts of the shards before it (in place), and the values made of them."""
    for row_type, rows in shard.rows.items():
        shifts = tuple((index, offsets.get(counter, 0)) for index, counter in _SHIFTS.get(row_type, ()))
        shifts = tuple(s for s in shifts if s[1])
        if shifts:
            rows = shard.rows[row_type] = _shifted(rows, shifts)
        if row_type is ShipmentRow and offsets.get("shipments"):
            # The tracking number is made of the shipment id.
            shard.rows[row_type] = [row[:3] + (tracking_number(row[2], row[0]),) + row[4:] for row in rows]
        elif row_type is DamageClaimPhotoRow and offsets.get("damage_claims"):
            # The photo's address names its claim.
            shard.rows[row_type] = [row[:2] + (PHOTO_URL.format(claim=row[1], n=row[2].rsplit("/", 1)[1][:-4]),)
                                    + row[3:] for row in rows]
    orders, shipments = offsets.get("orders", 0), offsets.get("shipments", 0)
    shard.latest_orders = {cid: (order_id + orders, tracking_number(carrier, shipment_id + shipments))
                           for cid, (order_id, shipment_id, carrier) in shard.latest_shipped.items()}
