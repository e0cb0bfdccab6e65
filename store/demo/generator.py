"""Generates the demo data as shards of rows, deterministically from a seed and an as-of time.

Customers and tickets come in shards (SeedConfig.customer_shard, .ticket_shard); each shard draws from its own
random streams, named after its area and number, so shards can be generated in any process and in any order and
the same seed and scale still give the same rows (store/demo/shards.py puts their ids in place). The first shard
of each area uses the stream names of the original single-pass generator, so data that fits in one shard (tests,
`levhaolam demo`) is the same as it always was.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from faker import Faker

from schemas.categories import Category
from schemas.policy import Policy, month_add
from store.demo import catalog
from store.demo.category_rules import category_rules
from store.demo.rows import (
    AddressRow,
    AgentTaskRow,
    ComparisonRow,
    CustomerRow,
    DamageClaimItemRow,
    DamageClaimPhotoRow,
    DamageClaimRow,
    DialogRow,
    InstructionRow,
    OrderItemRow,
    OrderRow,
    PaymentIssueRow,
    ProductRow,
    ShipmentEventRow,
    ShipmentRow,
    SkipRow,
    SubscriptionRow,
    TicketRow,
)
from store.demo.shards import PHOTO_URL, Batch, CustomerFacts, Shard, add_counts, globalize, tracking_number

TICKET_DAYS = 90
PLATFORM_ROLLOUT_DAYS = 30  # the new platform took over gradually over the last 30 days
COUNTRY_NAMES = {
    "US": "the United States", "CA": "Canada", "GB": "the UK", "DE": "Germany", "FR": "France",
    "NL": "the Netherlands", "AU": "Australia", "NZ": "New Zealand", "IL": "Israel", "IT": "Italy",
    "ES": "Spain", "SE": "Sweden", "PL": "Poland", "CH": "Switzerland", "ZA": "South Africa",
    "BR": "Brazil", "MX": "Mexico", "IE": "Ireland",
}
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "hotmail.com", "web.de")
CATEGORY_MODEL = {
    Category.CANCEL_SUBSCRIPTION: "claude-sonnet-4.5",
    Category.OTHER: "gpt-5.2",
}
LEGACY_MODEL = "gpt-4o"  # the single model of the old n8n pipeline


@dataclass(frozen=True)
class SeedConfig:
    customers: int = 200
    tickets: int = 2_000
    seed: int = 42
    as_of: datetime = field(default_factory=lambda: datetime.now().astimezone().replace(microsecond=0))
    # Part of what the data is: another shard size gives other rows beyond the first shard (see the module doc).
    customer_shard: int = 5_000
    ticket_shard: int = 20_000

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if self.tickets < 0:
            raise ValueError("tickets must be 0 or more")
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must carry a time zone")
        if self.customer_shard < 1 or self.ticket_shard < 1:
            raise ValueError("shard sizes must be at least 1")


class Weighted:
    """A weighted choice whose cumulative weights are summed once: the same draw as random.choices(...)[0]."""

    __slots__ = ("_cum", "_hi", "_items", "_total")

    def __init__(self, weights: dict) -> None:
        self._items = tuple(weights)
        self._cum = list(accumulate(weights.values()))
        self._total = self._cum[-1] + 0.0
        self._hi = len(self._items) - 1

    def pick(self, rng: random.Random) -> Any:
        return self._items[bisect(self._cum, rng.random() * self._total, 0, self._hi)]


class _FakerRandom(random.Random):
    """Faker's random stream, drawing exactly as random.Random does, with the cumulative weights of each weighted
    list summed once: Faker passes the same cached tuple of names every call and would otherwise sum thousands of
    weights for each first_name() (most of the customers' generation time)."""

    def __init__(self, seed: str) -> None:
        super().__init__(seed)
        self._cumulative: dict[int, tuple[Sequence, list[float]]] = {}

    def choices(self, population: Sequence, weights: Sequence[float] | None = None, *,  # type: ignore[override]
                cum_weights: Sequence[float] | None = None, k: int = 1) -> list:
        if weights is not None and cum_weights is None:
            cached = self._cumulative.get(id(population))
            if cached is None or cached[0] is not population or len(cached[1]) != len(weights):
                cached = self._cumulative[id(population)] = (population, list(accumulate(weights)))
            return super().choices(population, cum_weights=cached[1], k=k)
        return super().choices(population, weights, cum_weights=cum_weights, k=k)


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


class _ValuesOnce(OrderedDict):
    """A weighted list of Faker's whose values() is built once: Faker turns values() into a tuple (thousands of
    weights for a name list) on every draw, and a tuple of a tuple is free. Draws are unchanged."""

    def __init__(self, weights: OrderedDict) -> None:
        super().__init__(weights)
        self._values = tuple(super().values())

    def values(self) -> tuple:  # type: ignore[override]
        return self._values


_FAKERS: dict[str, Faker] = {}


def _seeded_faker(locale: str, stream: str) -> Faker:
    """The process's Faker for a locale (building one takes ~0.1 s), on a fresh random stream."""
    fake = _FAKERS.get(locale)
    if fake is None:
        fake = _FAKERS[locale] = Faker(locale)
        # Some locales (it_IT) build their city list from a set, whose order changes with PYTHONHASHSEED;
        # sorting it keeps the same seed giving the same data in every process.
        for provider in fake.providers:
            cities = getattr(provider, "cities", None)
            if isinstance(cities, list):
                provider.cities = sorted(cities)
            for klass in type(provider).__mro__:
                for name, value in vars(klass).items():
                    if isinstance(value, OrderedDict) and name not in vars(provider):
                        setattr(provider, name, _ValuesOnce(value))
    fake.random = _FakerRandom(stream)  # what seed_instance(stream) does, with the faster weighted choice
    return fake


def _at(day: date, hour: int, tz) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


PLANS = Weighted({"classic": 55, "premium": 35, "family": 10})
FREQUENCIES = Weighted({"monthly": 70, "bimonthly": 20, "quarterly": 10})
SUBSCRIPTION_STATUSES = Weighted({"active": 70, "paused": 10, "past_due": 5, "cancelled": 15})
FATES = Weighted({"normal": 970, "lost": 15, "exception": 10, "returned": 5})
NORTH_AMERICAN_CARRIERS = Weighted({"ups": 40, "fedex": 30, "israel_post": 30})
CARRIERS = Weighted({"dhl": 50, "israel_post": 50})
RESOLUTIONS = Weighted({"replacement": 45, "refund": 30, "credit": 25})
COUNTRIES = Weighted({c: c.weight for c in catalog.COUNTRIES})
CATEGORIES = Weighted(catalog.CATEGORY_WEIGHTS)
CHANNELS = Weighted(catalog.CHANNEL_WEIGHTS)
URGENCIES = {category: Weighted(weights) for category, weights in {
    "damaged_item": {"low": 10, "medium": 50, "high": 35, "critical": 5},
    "payment_issue": {"low": 10, "medium": 50, "high": 35, "critical": 5},
    "cancel_subscription": {"low": 20, "medium": 50, "high": 30, "critical": 0}}.items()}
USUAL_URGENCY = Weighted({"low": 45, "medium": 45, "high": 9, "critical": 1})
ANSWER_STYLES = Weighted({"ai": 25, "ai_edited": 60, "human": 15})
TASK_STATUSES = Weighted({"succeeded": 92, "failed": 5, "cancelled": 3})
ESCALATION = {"damaged_item": 0.12, "payment_issue": 0.2, "other": 0.3, "cancel_subscription": 0.1}
SECONDARY_CATEGORIES = {category: [c for c in Category if c not in (category, Category.OTHER)] for category in Category}


@dataclass(frozen=True)
class TicketTimes:
    """Every ticket's creation time, in order, and the tickets stream as it is after drawing them (shard 0 goes
    on drawing from it, as the single-pass generator did)."""

    times: list[datetime]
    stream_state: tuple


class DemoGenerator:
    def __init__(self, config: SeedConfig, policy: Policy) -> None:
        self.config = config
        self.policy = policy
        self.as_of = config.as_of
        self.tz = config.as_of.tzinfo
        self.current_month = date(self.as_of.year, self.as_of.month, 1)
        self.next_month_name = month_add(self.current_month, 1).strftime("%B")
        self._customers: list[CustomerFacts] = []
        # customer id -> (latest order id, tracking number), for messages that mention them
        self._latest_order: dict[int, tuple[int, str]] = {}
        # the same, local to the customer shard being generated: (order id, shipment id, carrier)
        self._latest_shipped: dict[int, tuple[int, int, str]] = {}
        self._ids: dict[str, int] = {}

    def _next_id(self, table: str) -> int:
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

    def _rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.config.seed}:{stream}")

    @staticmethod
    def _stream(area: str, shard: int) -> str:
        return area if shard == 0 else f"{area}:{shard}"

    @property
    def customer_shards(self) -> int:
        return -(-self.config.customers // self.config.customer_shard)

    @property
    def ticket_shards(self) -> int:
        return -(-self.config.tickets // self.config.ticket_shard)

    # ---------------------------------------------------------------- batches
    def batches(self) -> Iterator[Batch]:
        """Every row in one process, shard after shard, with its final ids (the loader spreads the shards over
        processes instead: store/demo/parallel.py)."""
        yield self.reference()
        offsets: dict[str, int] = {}
        customers: list[CustomerFacts] = []
        latest: dict[int, tuple[int, str]] = {}
        for number in range(self.customer_shards):
            shard = self.customer_shard(number)
            globalize(shard, offsets)
            offsets = add_counts(offsets, shard.counts)
            customers += shard.customers
            latest |= shard.latest_orders
            yield shard
        self.use_customers(customers, latest)
        times = self.ticket_times()
        for number in range(self.ticket_shards):
            shard = self.ticket_shard(*self.ticket_task(times, number))
            globalize(shard, offsets)
            offsets = add_counts(offsets, shard.counts)
            yield shard

    def reference(self) -> Batch:
        reference = Batch("reference data", 0)
        for p in catalog.PRODUCTS:
            reference.add(ProductRow(p.sku, p.name, p.kind, p.price_cents, p.fragile))
        self._ids = {}
        for row in self._instructions():
            reference.add(row)
        return reference

    def _instructions(self) -> Iterator[InstructionRow]:
        created = self.as_of - timedelta(days=120)
        for category, (v1, v2) in category_rules(self.policy).items():
            yield InstructionRow(self._next_id("instructions"), category.value, 1, v1, False, "support-lead", created)
            yield InstructionRow(self._next_id("instructions"), category.value, 2, v2, True, "support-lead",
                                 created + timedelta(days=60))

    # -------------------------------------------------------------- customers
    def customer_shard(self, number: int) -> Shard:
        """Customers number x customer_shard + 1 onwards with their addresses, subscriptions and orders."""
        first, size = number * self.config.customer_shard, self.config.customer_shard
        shard = Shard("customers, subscriptions, orders", min(size, self.config.customers - first))
        self._ids = {"customers": first}
        self._customers, self._latest_shipped = shard.customers, shard.latest_shipped
        rng = self._rng(self._stream("customers", number))
        fakers: dict[str, Faker] = {}
        for _ in range(shard.units):
            country = COUNTRIES.pick(rng)
            fake = fakers.get(country.faker_locale)
            if fake is None:
                locale_stream = f"{self.config.seed}:{country.faker_locale}"
                fake = fakers[country.faker_locale] = _seeded_faker(
                    country.faker_locale, locale_stream if number == 0 else f"{locale_stream}:{number}")
            self._customer(shard, rng, fake, country)
        shard.counts = {name: count for name, count in self._ids.items() if name != "customers"}
        return shard

    def _customer(self, batch: Batch, rng: random.Random, fake: Faker, country: catalog.Country) -> None:
        cid = self._next_id("customers")
        first, last = fake.first_name(), fake.last_name()
        slug = ".".join(part for part in (_ascii_slug(first), _ascii_slug(last)) if part) or "member"
        email = f"{slug}{cid}@{rng.choice(EMAIL_DOMAINS)}"
        phone = f"+{country.calling_code}{rng.randrange(10**8, 10**9)}" if rng.random() < 0.85 else None
        language = country.language if rng.random() < 0.85 else "en"
        created = self.as_of - timedelta(days=rng.uniform(45, 1500))
        chatwoot_id = 500_000 + cid if rng.random() < 0.6 else None
        batch.add(CustomerRow(cid, email, phone, first[:100], last[:100], country.code, language, chatwoot_id, created))

        region = None
        if country.code in ("US", "AU"):
            region = fake.state_abbr()
        elif country.code == "CA":
            region = fake.province_abbr()
        address_id = self._next_id("addresses")
        if rng.random() < 0.1:  # an old address from before a move
            batch.add(AddressRow(address_id, cid, fake.street_address()[:200], None, fake.city()[:100], region,
                                 fake.postcode()[:20], country.code, False, created))
            address_id = self._next_id("addresses")
        line2 = f"Apt {rng.randint(1, 120)}" if rng.random() < 0.3 else None
        batch.add(AddressRow(address_id, cid, fake.street_address()[:200], line2, fake.city()[:100], region,
                             fake.postcode()[:20], country.code, True, created))

        subscription_ids = [self._subscription(batch, rng, cid, address_id, country, created)]
        if rng.random() < 0.08:  # a second subscription, usually a gift
            subscription_ids.append(self._subscription(batch, rng, cid, address_id, country, created))
        self._customers.append(CustomerFacts(cid, email, first, country.code, language))
        if rng.random() < 0.03:
            self._payment_issue(batch, rng, cid, subscription_ids[0], country.currency, None)

    def _subscription(self, batch: Batch, rng: random.Random, cid: int, address_id: int,
                      country: catalog.Country, customer_created: datetime) -> int:
        sid = self._next_id("subscriptions")
        plan = PLANS.pick(rng)
        frequency = FREQUENCIES.pick(rng)
        status = SUBSCRIPTION_STATUSES.pick(rng)
        price = round(catalog.PLAN_PRICE_USD_CENTS[plan] * catalog.CURRENCY_RATE[country.currency] / 10) * 10 - 10
        started = customer_created + timedelta(days=rng.uniform(0, 30))
        step = {"monthly": 1, "bimonthly": 2, "quarterly": 3}[frequency]
        next_box = month_add(self.current_month, 1 + rng.randrange(step))
        paused_until = cancelled_at = cancel_reason = None
        next_ship: date | None = self.policy.ship_date(next_box)
        if status == "paused":
            paused_until = month_add(self.current_month, rng.choice(self.policy.pause_months_allowed))
            next_ship = self.policy.ship_date(paused_until)
        elif status == "cancelled":
            cancelled_at = started + (self.as_of - started) * rng.uniform(0.3, 0.99)
            cancel_reason = rng.choice(("too expensive", "moving", "not enjoying the products", "gift ended",
                                        "too many boxes", None))
            next_ship = None
        elif status == "active" and rng.random() < 0.12:
            batch.add(SkipRow(sid, next_box, self.as_of - timedelta(days=rng.uniform(1, 20))))
            next_ship = self.policy.ship_date(month_add(next_box, step))
        batch.add(SubscriptionRow(sid, cid, plan, status, frequency, price, country.currency, next_ship, paused_until,
                                  address_id, started, cancelled_at, cancel_reason, started))
        if status == "past_due":
            self._payment_issue(batch, rng, cid, sid, country.currency, "card_declined")
        self._orders(batch, rng, cid, sid, step, price, country, started, cancelled_at)
        return sid

    def _payment_issue(self, batch: Batch, rng: random.Random, cid: int, sid: int, currency: str,
                       kind: str | None) -> None:
        kind = kind or rng.choice(("card_expired", "double_charge", "refund_request", "wrong_amount"))
        created = self.as_of - timedelta(days=rng.uniform(0.5, 60))
        resolved = kind != "card_declined" and rng.random() < 0.7
        resolved_at = min(created + timedelta(days=rng.uniform(0.2, 6)), self.as_of) if resolved else None
        amount = rng.randrange(2000, 9000) if kind in ("double_charge", "refund_request", "wrong_amount") else None
        batch.add(PaymentIssueRow(self._next_id("payment_issues"), cid, sid, kind, "resolved" if resolved else "open",
                                  amount, currency if amount is not None else None, created, resolved_at))

    # ----------------------------------------------------------------- orders
    def _orders(self, batch: Batch, rng: random.Random, cid: int, sid: int, step: int, price: int,
                country: catalog.Country, started: datetime, cancelled_at: datetime | None) -> None:
        box = self.current_month
        months: list[date] = []
        end = cancelled_at or self.as_of
        while len(months) < 3:
            charged = _at(self.policy.cutoff_for(box), 3, self.tz)
            if charged < started:
                break
            if charged <= end:
                months.append(box)
            box = month_add(box, -step)
        for box_month in reversed(months):
            self._order(batch, rng, cid, sid, box_month, price, country)

    def _order(self, batch: Batch, rng: random.Random, cid: int, sid: int, box_month: date, price: int,
               country: catalog.Country) -> None:
        oid = self._next_id("orders")
        created = _at(self.policy.cutoff_for(box_month), 3, self.tz)
        products = rng.sample(catalog.PRODUCTS, rng.randint(4, 6))
        shipped = _at(box_month, 10, self.tz) + timedelta(days=rng.randint(0, 5))
        if shipped > self.as_of:
            batch.add(OrderRow(oid, cid, sid, box_month, "packed", price, country.currency, created))
            for p in products:
                batch.add(OrderItemRow(oid, p.sku, 1))
            return

        low, high = self.policy.delivery_window(country.code)
        transit = timedelta(days=rng.uniform(low, high + (12 if rng.random() < 0.08 else 0)))
        fate = FATES.pick(rng)
        arrives = shipped + transit
        delivered_at = arrives if fate == "normal" and arrives <= self.as_of else None
        if fate in ("lost", "exception", "returned"):
            ship_status = fate
        elif delivered_at:
            ship_status = "delivered"
        elif country.code != "IL" and self.as_of - shipped > transit * 0.4:
            ship_status = "customs" if self.as_of - shipped < transit * 0.7 else "out_for_delivery"
        else:
            ship_status = "in_transit"
        order_status = {"delivered": "delivered", "returned": "returned"}.get(ship_status, "shipped")
        batch.add(OrderRow(oid, cid, sid, box_month, order_status, price, country.currency, created))
        for p in products:
            batch.add(OrderItemRow(oid, p.sku, 1))

        shipment_id = self._next_id("shipments")
        carrier = self._carrier(rng, country.code)
        tracking = tracking_number(carrier, shipment_id)
        expected = (shipped + timedelta(days=high)).date()
        batch.add(ShipmentRow(shipment_id, oid, carrier, tracking, ship_status, shipped, expected, delivered_at,
                              country.code))
        self._latest_shipped[cid] = (oid, shipment_id, carrier)
        events = [(shipped - timedelta(hours=20), "label_created", "Jerusalem, IL", "Shipping label created"),
                  (shipped, "in_transit", "Ben Gurion Airport, IL", "Departed Israel")]
        if country.code != "IL":
            events.append((shipped + transit * 0.4, "customs", country.city_hint, "Arrived at customs"))
        if fate == "normal":
            events.append((arrives - timedelta(hours=8), "out_for_delivery", country.city_hint, "Out for delivery"))
            events.append((arrives, "delivered", COUNTRY_NAMES.get(country.code, country.code), "Delivered"))
        elif fate == "exception":
            events.append(
                (shipped + transit * 0.6, "exception", country.city_hint, "Address incomplete, held at depot")
            )
        elif fate == "returned":
            events.append((shipped + transit, "returned", "Jerusalem, IL", "Returned to sender: refused"))
        for occurred, status, location, description in events:
            if occurred <= self.as_of:
                batch.add(ShipmentEventRow(self._next_id("shipment_events"), shipment_id, occurred, status, location,
                                           description))
        if delivered_at and rng.random() < 0.03:
            self._damage_claim(batch, rng, cid, oid, delivered_at, products)

    @staticmethod
    def _carrier(rng: random.Random, country: str) -> str:
        if country == "IL":
            return "israel_post"
        return NORTH_AMERICAN_CARRIERS.pick(rng) if country in ("US", "CA") else CARRIERS.pick(rng)

    def _damage_claim(self, batch: Batch, rng: random.Random, cid: int, oid: int, delivered_at: datetime,
                      products: list[catalog.Product]) -> None:
        reported = delivered_at + timedelta(days=rng.uniform(0.1, 18))
        if reported > self.as_of:
            return
        claim_id = self._next_id("damage_claims")
        window = timedelta(days=self.policy.damage_report_window_days)
        age = self.as_of - reported
        fragile = [p for p in products if p.fragile] or products
        damaged = rng.sample(fragile, min(len(fragile), rng.choice((1, 1, 2))))
        value = sum(p.price_cents for p in damaged)
        resolution = amount = resolved_at = None
        if reported - delivered_at > window:
            status = "rejected"
        elif age < timedelta(days=2):
            status = rng.choice(("awaiting_photos", "under_review"))
        elif age < timedelta(days=5):
            status = "resolution_proposed"
        else:
            status = "resolved"
        if status in ("resolution_proposed", "resolved"):
            resolution = RESOLUTIONS.pick(rng)
            amount = {"replacement": 0, "refund": value,
                      "credit": value * self.policy.store_credit_percent // 100}[resolution]
            if status == "resolved":
                resolved_at = reported + timedelta(days=rng.uniform(2, 5))
        product_names = " and ".join(p.name.lower() for p in damaged)
        description = f"Customer reports the {product_names} arrived {rng.choice(('broken', 'leaking', 'crushed'))}."
        batch.add(DamageClaimRow(claim_id, cid, oid, status, description, reported, resolution, amount, resolved_at))
        for p in damaged:
            damage_type = "leaked" if p.kind == "food" and rng.random() < 0.5 else "broken"
            batch.add(DamageClaimItemRow(claim_id, p.sku, 1, damage_type))
        if status != "awaiting_photos":
            for n in range(rng.randint(1, 3)):
                batch.add(DamageClaimPhotoRow(self._next_id("damage_claim_photos"), claim_id,
                                              PHOTO_URL.format(claim=claim_id, n=n + 1),
                                              "image/jpeg", reported + timedelta(minutes=10 * (n + 1))))

    # ---------------------------------------------------------------- tickets
    def ticket_times(self) -> TicketTimes:
        rng = self._rng("tickets")
        # Tickets arrive in time order, as in production: ids grow with created_at and the table's physical
        # order follows time, which is what makes a 7-day window cheap to read.
        return TicketTimes(sorted(self._ticket_time(rng) for _ in range(self.config.tickets)), rng.getstate())

    def ticket_task(self, times: TicketTimes, number: int) -> tuple[int, list[datetime], tuple | None]:
        """What generating ticket shard `number` needs: its creation times, and the stream state for shard 0."""
        first, size = number * self.config.ticket_shard, self.config.ticket_shard
        return number, times.times[first:first + size], times.stream_state if number == 0 else None

    def use_customers(self, customers: list[CustomerFacts], latest_orders: dict[int, tuple[int, str]]) -> None:
        """The customers that tickets are written by (all shards', with their final ids)."""
        self._customers, self._latest_order = customers, latest_orders

    def ticket_shard(self, number: int, created: Sequence[datetime], stream_state: tuple | None = None) -> Shard:
        """Tickets number x ticket_shard + 1 onwards, created at `created`, with their messages and tasks."""
        shard = Shard("support tickets", len(created))
        self._ids = {"tickets": number * self.config.ticket_shard}
        if stream_state is not None:
            rng = random.Random()
            rng.setstate(stream_state)
        else:
            rng = self._rng(self._stream("tickets", number))
        en_us = f"{self.config.seed}:en_US"
        fake = _seeded_faker("en_US", en_us if number == 0 else f"{en_us}:tickets:{number}")
        for when in created:
            self._ticket(shard, rng, fake, when)
        shard.counts = {name: count for name, count in self._ids.items() if name != "tickets"}
        return shard

    def _ticket_time(self, rng: random.Random) -> datetime:
        # Weekdays are busier than weekends, and volume grows a little over the 90 days.
        while True:
            days_ago = rng.uniform(0, TICKET_DAYS)
            when = self.as_of - timedelta(days=days_ago)
            weight = (0.55 if when.weekday() >= 5 else 1.0) * (1.15 - 0.3 * days_ago / TICKET_DAYS)
            if rng.random() < weight / 1.15:
                return when.replace(microsecond=0)

    def _ticket(self, batch: Batch, rng: random.Random, fake: Faker, created: datetime) -> None:
        tid = self._next_id("tickets")
        category: Category = CATEGORIES.pick(rng)
        secondary = None
        if rng.random() < 0.15:
            secondary = rng.choice(SECONDARY_CATEGORIES[category]).value
        customer = rng.choice(self._customers) if rng.random() < 0.82 else None
        order_id, tracking = self._latest_order.get(customer.id, (0, "")) if customer else (0, "")
        slots = {
            "first": customer.first_name if customer else fake.first_name(),
            "order": order_id or rng.randrange(10_000, 99_999),
            "tracking": tracking or f"RR{rng.randrange(10**8, 10**9)}IL",
            "month": self.next_month_name,
            "product": rng.choice(catalog.PRODUCTS).name.lower(),
            "country": COUNTRY_NAMES.get(customer.country if customer else "US", "your country"),
        }
        message = rng.choice(catalog.CUSTOMER_MESSAGES[category]).format(**slots)
        urgency = URGENCIES.get(category.value, USUAL_URGENCY).pick(rng)
        age = self.as_of - created
        platform_share = 0.1 + 0.75 * max(0.0, 1 - age.days / PLATFORM_ROLLOUT_DAYS)
        escalate_p = ESCALATION.get(category.value, 0.05)
        ai_answer = human_answer = handled_by = model = cost = None
        ai_at = draft_at = response_at = resolved_at = None
        human_approved = False
        on_platform = rng.random() < platform_share

        if age < timedelta(minutes=30) and rng.random() < 0.5:
            status = "new"
        elif rng.random() < escalate_p:
            if rng.random() < 0.5:
                ai_at = created + timedelta(seconds=rng.uniform(3, 120))
                ai_answer = rng.choice(catalog.AI_ANSWERS[category]).format(**slots)
            human_answer = rng.choice(catalog.HUMAN_OWN_ANSWERS).format(**slots)
            handled_by, human_approved = "human", True
            response_at = created + timedelta(minutes=rng.uniform(20, 300))
            status = "escalated" if age < timedelta(days=2) else "closed"
        elif on_platform:
            ai_at = response_at = created + timedelta(seconds=rng.uniform(2.5, 14))
            ai_answer = rng.choice(catalog.AI_ANSWERS[category]).format(**slots)
            handled_by = "ai"
            status = "sent" if age < timedelta(days=2) else "closed"
        else:
            ai_at = created + timedelta(seconds=rng.uniform(30, 180))
            ai_answer = rng.choice(catalog.AI_ANSWERS[category]).format(**slots)
            if rng.random() < 0.93:
                draft_at = ai_at + timedelta(seconds=rng.uniform(2, 10))
            review = created + timedelta(minutes=rng.uniform(15, 60) * (3 if created.hour >= 18 else 1))
            if review > self.as_of:
                status = "draft_created" if draft_at else "ai_answered"
            else:
                response_at = review
                style = ANSWER_STYLES.pick(rng)
                handled_by, human_approved = style, True
                human_answer = {
                    "ai": ai_answer,
                    "ai_edited": ai_answer + rng.choice(catalog.HUMAN_EDIT_SUFFIXES),
                    "human": rng.choice(catalog.HUMAN_OWN_ANSWERS).format(**slots),
                }[style]
                status = "sent" if age < timedelta(days=2) else "closed"
        if ai_at is not None:
            model = CATEGORY_MODEL.get(category, "gpt-5.1") if on_platform else LEGACY_MODEL
            cost_range = (0.008, 0.03) if model.startswith("claude") else (0.006, 0.015) if model == LEGACY_MODEL \
                else (0.001, 0.006)
            cost = Decimal(f"{rng.uniform(*cost_range):.6f}")
        if status == "closed" and response_at is not None:
            resolved_at = min(response_at + timedelta(hours=rng.uniform(0.5, 30)), self.as_of)
        rating = None
        if response_at is not None and rng.random() < 0.35:
            good = {"ai": 0.8, "ai_edited": 0.85, "human": 0.7}[handled_by]
            rating = rng.choice((4, 5, 5)) if rng.random() < good else rng.choice((1, 2, 3))

        email = customer.email if customer else fake.free_email()
        country = customer.country if customer else None
        language = customer.language if customer else "en"
        channel = CHANNELS.pick(rng)
        subject = message if len(message) <= 80 else message[:77].rstrip() + "..."
        batch.add(TicketRow(tid, f"TKT-{tid:08d}", customer.id if customer else None, email, channel, category.value,
                            secondary, urgency, language, country, subject, status, handled_by, model, cost, ai_answer,
                            human_answer, human_approved, rating, created, ai_at, draft_at, response_at, resolved_at))
        self._dialog(batch, rng, tid, created, message, handled_by, ai_answer, human_answer, response_at)
        if ai_answer is not None and human_answer is not None:
            similarity = {"ai": 1.0, "ai_edited": rng.uniform(0.75, 0.97), "human": rng.uniform(0.05, 0.5)}[handled_by]
            verdict = "equivalent" if similarity > 0.85 else rng.choice(("human_better", "human_better", "ai_better"))
            batch.add(ComparisonRow(self._next_id("comparisons"), tid, category.value, ai_answer, human_answer,
                                    round(similarity, 3), verdict, (response_at or created) + timedelta(hours=1)))
        if ai_at is not None:
            self._agent_tasks(batch, rng, tid, category, created, ai_at)

    def _dialog(self, batch: Batch, rng: random.Random, tid: int, created: datetime, message: str,
                handled_by: str | None, ai_answer: str | None, human_answer: str | None,
                response_at: datetime | None) -> None:
        batch.add(DialogRow(self._next_id("dialogs"), tid, 1, "customer", message, created))
        if response_at is None:
            return
        role, answer = ("ai", ai_answer) if handled_by == "ai" else ("human", human_answer)
        batch.add(DialogRow(self._next_id("dialogs"), tid, 2, role, answer, response_at))
        follow_up_at = response_at + timedelta(minutes=rng.uniform(5, 240))
        if rng.random() < 0.25 and follow_up_at < self.as_of:
            batch.add(DialogRow(self._next_id("dialogs"), tid, 3, "customer", rng.choice(catalog.FOLLOW_UPS),
                                follow_up_at))

    def _agent_tasks(self, batch: Batch, rng: random.Random, tid: int, category: Category, created: datetime,
                     ai_at: datetime) -> None:
        for task_type in catalog.TASK_TYPES[category]:
            if task_type != "identify_customer" and rng.random() < 0.4:
                continue
            status = TASK_STATUSES.pick(rng)
            duration = rng.randint(40, 2500)
            started = created + (ai_at - created) * rng.uniform(0.1, 0.6)
            finished = started + timedelta(milliseconds=duration)
            error = rng.choice(catalog.TASK_ERRORS) if status == "failed" else None
            batch.add(AgentTaskRow(self._next_id("agent_tasks"), tid, category.value, task_type, status, started,
                                   finished, duration, error))
