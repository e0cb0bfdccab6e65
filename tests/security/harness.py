"""What the adversarial suites share: two customers (the attacker's and the victim's), hostile arguments for every
tool, servers over real HTTP with bearer tokens, and the three checks made after every attack: the database is
unchanged, the answer is the documented typed error, the refusal is in the audit log."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from fastmcp import Client, FastMCP
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from schemas.errors import ErrorCode
from servers.common.principal import Principal
from servers.knowledge.ingest import import_examples, ingest_path
from servers.knowledge.stores import PgVectorStore
from servers.registry import SERVERS, builder
from servers.subscriptions import cancel_links
from tests.helpers import AS_OF, CANCEL_KEY, HELP_CENTER, bearer, fixed_clock, http_client, http_server, settings_for

ATTACKER_SUBJECT = "tests/attacker"
ERROR_CODES = {code.value for code in ErrorCode}
STAFF = Principal(subject="staff/security-tests", scope="staff", tools=("*",))


@dataclass
class Person:
    """A customer and every way of naming them or their records."""

    id: int
    email: str
    phone: str
    chatwoot_contact_id: int
    full_name: str
    subscription_id: int
    order_id: int  # delivered, with a shipment
    sku: str
    tracking_number: str
    claim_id: int | None
    address_line: str
    cancel_link: str = ""
    pii: list[str] = field(default_factory=list)


_PERSON = """
SELECT c.id, c.email, c.phone, c.chatwoot_contact_id, c.first_name || ' ' || c.last_name AS full_name,
       (SELECT s.id FROM subscriptions s WHERE s.customer_id = c.id AND s.status = 'active' ORDER BY s.id LIMIT 1)
           AS subscription_id,
       o.id AS order_id, sh.tracking_number,
       (SELECT i.sku FROM order_items i WHERE i.order_id = o.id ORDER BY i.sku LIMIT 1) AS sku,
       (SELECT d.id FROM damage_claims d WHERE d.customer_id = c.id ORDER BY d.id LIMIT 1) AS claim_id,
       (SELECT a.line1 FROM addresses a WHERE a.customer_id = c.id ORDER BY a.id LIMIT 1) AS address_line
FROM customers c
JOIN orders o ON o.customer_id = c.id
JOIN shipments sh ON sh.order_id = o.id AND sh.delivered_at IS NOT NULL
WHERE c.phone IS NOT NULL AND c.chatwoot_contact_id IS NOT NULL
  AND (SELECT count(*) FROM customers same WHERE same.phone = c.phone) = 1
  AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.customer_id = c.id AND s.status = 'active')
  AND (%(claim)s = EXISTS (SELECT 1 FROM damage_claims d WHERE d.customer_id = c.id))
  AND c.id <> ALL(%(not)s)
ORDER BY c.id, o.id DESC
LIMIT 1
"""


async def person(db: psycopg.AsyncConnection, *, with_claim: bool, other_than: tuple[int, ...] = ()) -> Person:
    cur = db.cursor(row_factory=dict_row)
    await cur.execute(_PERSON, {"claim": with_claim, "not": list(other_than)})
    row = await cur.fetchone()
    assert row is not None, "the demo data has no such customer"
    found = Person(**row)
    found.cancel_link = cancel_links.seal(cancel_links.load_key(CANCEL_KEY), customer_id=found.id,
                                          subscription_id=found.subscription_id, expires_at=AS_OF + timedelta(days=1))
    return found


async def victim_and_attacker(db: psycopg.AsyncConnection) -> tuple[Person, Person]:
    """The victim has every kind of record (a damage claim too); the attacker is someone else."""
    victim = await person(db, with_claim=True)
    attacker = await person(db, with_claim=False, other_than=(victim.id,))
    return victim, attacker


async def personal_data_except(db: psycopg.AsyncConnection, customer_id: int) -> list[str]:
    """What would identify any customer but `customer_id`: e-mails, phones, full names, tracking numbers."""
    rows = await (await db.execute(
        "SELECT email FROM customers WHERE id <> %(c)s "
        "UNION SELECT phone FROM customers WHERE id <> %(c)s AND phone IS NOT NULL "
        "UNION SELECT first_name || ' ' || last_name FROM customers WHERE id <> %(c)s "
        "UNION SELECT s.tracking_number FROM shipments s JOIN orders o ON o.id = s.order_id "
        "      WHERE o.customer_id <> %(c)s "
        "UNION SELECT line1 FROM addresses WHERE customer_id <> %(c)s",
        {"c": customer_id})).fetchall()
    return sorted({r[0].lower() for r in rows if r[0] and len(r[0]) >= 6})


def leaked(answer: Any, personal_data: list[str], sent: Any = None) -> list[str]:
    """The personal data in an answer, except what the caller sent itself (an error may quote the input)."""
    text = json.dumps(answer, default=str).lower()
    echoed = json.dumps(sent, default=str).lower()
    return [item for item in personal_data if item in text and item not in echoed]


# ------------------------------------------------------------------ arguments
def arguments_for(tool: str, schema: dict[str, Any], who: Person, *, customer_id: int | None = None
                  ) -> list[dict[str, Any]]:
    """Valid-looking arguments for `tool` naming `who`'s records (and `customer_id`, default `who`), one dict per
    way of naming them. A required argument nobody knows fails the test: a new tool must join the walk."""
    values: dict[str, Any] = {
        "customer_id": who.id if customer_id is None else customer_id,
        "subscription_id": who.subscription_id, "order_id": who.order_id, "claim_id": who.claim_id or 1,
        "tracking_number": who.tracking_number, "months": 2, "frequency": "bimonthly", "box_month": "2027-01-01",
        "address": {"line1": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115", "country_code": "DE"},
        "reason": "too many boxes", "details": "it never came", "description": "The jar of honey arrived broken",
        "items": [{"sku": who.sku, "quantity": 1, "damage_type": "broken"}],
        "url": "https://uploads.levhaolam.example/claims/photo-1.jpg", "content_type": "image/jpeg",
        "resolution": "credit", "link": who.cancel_link, "country_code": "DE", "shipped_on": "2026-11-02",
        "limit": 5, "k": 5, "namespace": "faq", "category": "shipping_inquiry",
        "query": f"{who.email} {who.full_name} order {who.order_id} tracking {who.tracking_number}",
        "question": f"What did {who.email} ({who.full_name}) write to support about order {who.order_id}?",
        "sql": f"SELECT customer_email, subject, ai_answer FROM support_threads_data "
               f"WHERE customer_email = '{who.email}' OR customer_id = {who.id}",
        "name": "support_threads_data", "params": {}, "max_rows": 20,
        "mistake": f"looked up {who.email}", "fix": f"customer {who.id} is {who.full_name}", "tags": ["security"],
        "kind": "bar", "x": "label", "y": "value", "data": [{"label": "a", "value": 1}], "title": "t",
    }
    if tool == "run_saved_query":
        values["name"] = "ticket_count"
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    unknown = sorted(required - set(values))
    assert not unknown, f"{tool}: no hostile value for required argument(s) {unknown}; extend tests/security/harness.py"
    # One call per way of naming a customer or a record that the tool accepts on its own.
    alternatives = [name for name in ("email", "phone", "chatwoot_contact_id") if name in properties]
    if tool == "track_shipment":
        alternatives = ["order_id", "tracking_number"]
    base = {name: values[name] for name in properties
            if name in values and (name in required or name not in ("confirmation_token", "idempotency_key"))
            and name not in alternatives}
    if not alternatives:
        return [base]
    identifiers = {"email": who.email, "phone": who.phone, "chatwoot_contact_id": who.chatwoot_contact_id,
                   "order_id": who.order_id, "tracking_number": who.tracking_number}
    return [base | {name: identifiers[name]} for name in alternatives]


def names_records(schema: dict[str, Any]) -> bool:
    """Whether a tool takes a record's own number besides the customer (so 'own customer, other's record' applies)."""
    return "customer_id" in schema.get("properties", {}) and bool(
        {"subscription_id", "order_id", "claim_id", "tracking_number"} & set(schema["properties"]))


# ------------------------------------------------------------------ servers
class FakeEmbedder:
    """Deterministic word-hash vectors: retrieval works (full text does the ranking) without loading a model."""

    name = "security-tests-hash"

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            vector = [0.0] * 384
            for word in re.findall(r"\w+", text.lower()):
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 384] += 1.0
            norm = sum(v * v for v in vector) ** 0.5 or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


async def fill_knowledge(db_url: str) -> None:
    """The FAQ and the few-shot examples taken from support history: where other customers' words could surface."""
    async with AsyncConnectionPool(db_url, min_size=1, max_size=2, open=False) as pool:
        await ingest_path(pool, PgVectorStore(), FakeEmbedder(), HELP_CENTER)
        await import_examples(pool, PgVectorStore(), FakeEmbedder())


def build(name: str, db_url: str, *, transport: str = "http", principal: Principal | None = None,
          clock: Callable[[], datetime] = fixed_clock, **settings: Any) -> FastMCP:
    extra: dict[str, Any] = {"embedder": FakeEmbedder(), "store": PgVectorStore()} if name == "knowledge" else {}
    return builder(name)(settings_for(db_url, **settings), transport=transport, clock=clock,
                         local_principal=principal, **extra)


@contextlib.asynccontextmanager
async def over_http(name: str, db_url: str) -> AsyncIterator[str]:
    async with http_server(build(name, db_url)) as url:
        yield url


@contextlib.asynccontextmanager
async def as_caller(url: str, *, tools: list[str] | None = None, customer_id: int | None = None,
                    scope: str = "security") -> AsyncIterator[Client]:
    token = bearer(tools or ["*"], scope=scope, subject=ATTACKER_SUBJECT, customer_id=customer_id)
    async with http_client(url, token) as client:
        yield client


async def tool_schemas(name: str, db_url: str) -> dict[str, dict[str, Any]]:
    """Every tool of a server as staff sees it (a customer-bound caller may be shown fewer: it can still call)."""
    return {tool: schema for tool, (schema, _) in (await catalogue(name, db_url)).items()}


async def catalogue(name: str, db_url: str) -> dict[str, tuple[dict[str, Any], bool]]:
    """Every tool of a server: its input schema and whether it is read-only."""
    async with Client(build(name, db_url, transport="memory", principal=STAFF)) as staff:
        return {tool.name: (tool.input_schema, bool(tool.annotations and tool.annotations.read_only_hint))
                for tool in await staff.list_tools()}


def leaves(schema: dict[str, Any], kind: str, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of every `kind` ("string" or "integer") an input schema accepts, into objects and lists (index 0);
    a free-form object (parameters, chart rows) gets a made-up key, since any key is allowed there."""
    found: list[tuple[str, ...]] = []
    for alternative in schema.get("anyOf", []):
        if alternative.get("type") != "null":
            found += leaves(alternative, kind, path)
    kind_of = schema.get("type")
    if kind_of == kind:
        found.append(path)
    elif kind_of == "object":
        for name, child in schema.get("properties", {}).items():
            found += leaves(child, kind, (*path, name))
        if schema.get("additionalProperties") is True and not schema.get("properties") and kind == "string":
            found.append((*path, "note"))
    elif kind_of == "array":
        found += leaves(schema.get("items", {}), kind, (*path, "0"))
    return found


def with_value(arguments: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `arguments` with `value` at `path` (creating what is missing on the way)."""
    copied: Any = json.loads(json.dumps(arguments))
    node = copied
    for step, following in zip(path, [*path[1:], None], strict=True):
        last = following is None
        if isinstance(node, list):
            index = int(step)
            while len(node) <= index:
                node.append({})
            if last:
                node[index] = value
            else:
                if not isinstance(node[index], dict | list):
                    node[index] = [] if following.isdigit() else {}
                node = node[index]
        else:
            if last:
                node[step] = value
            else:
                if not isinstance(node.get(step), dict | list):
                    node[step] = [] if following.isdigit() else {}
                node = node[step]
    return dict(copied)


ALL_SERVERS = SERVERS
CUSTOMER_SERVERS = ("customers", "subscriptions", "shipping", "damage")


# ------------------------------------------------------------------ checks
async def fingerprint(db: psycopg.AsyncConnection) -> dict[str, str]:
    """A digest of every table but the audit log (which must grow): equal fingerprints, nothing changed."""
    tables = [r[0] for r in await (await db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
        "AND table_name NOT IN ('action_audit', 'schema_migrations') ORDER BY 1")).fetchall()]
    digests = {}
    for table in tables:
        row = await (await db.execute(
            f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t")).fetchone()
        assert row is not None
        digests[table] = row[0]
    return digests


async def refusals(db: psycopg.AsyncConnection, *, caller: str = ATTACKER_SUBJECT) -> list[dict[str, Any]]:
    cur = db.cursor(row_factory=dict_row)
    await cur.execute("SELECT * FROM action_audit WHERE caller = %s AND outcome = 'refused' ORDER BY id", (caller,))
    return await cur.fetchall()


def typed_error(result: Any) -> dict[str, Any]:
    """The documented error object, exactly: {"code", "field"?, "message"} with a known code."""
    assert result.is_error, f"expected a refusal, got {result.structured_content}"
    error = json.loads(result.content[0].text)
    assert set(error) <= {"code", "field", "message"} and {"code", "message"} <= set(error), error
    assert error["code"] in ERROR_CODES and error["message"], error
    return dict(error)


def answer_of(result: Any) -> Any:
    return json.loads(result.content[0].text) if result.is_error else result.structured_content
