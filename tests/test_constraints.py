"""The database itself refuses impossible states, whatever code writes to it."""

from __future__ import annotations

import re
from enum import StrEnum

import psycopg
import pytest
from psycopg import errors

from schemas.actions import AuditOutcome
from schemas.categories import Category, Urgency
from schemas.domain import (
    OPEN_CLAIM_STATUSES,
    Carrier,
    Channel,
    ClaimStatus,
    DamageType,
    Frequency,
    OrderStatus,
    PaymentIssueKind,
    Resolution,
    ShipmentStatus,
    SubscriptionPlan,
    SubscriptionStatus,
)

SETUP = """
INSERT INTO customers (id, email, first_name, last_name, country_code) OVERRIDING SYSTEM VALUE VALUES
    (1, 'ada@example.com', 'Ada', 'L', 'GB'), (2, 'bob@example.com', 'Bob', 'M', 'US');
INSERT INTO addresses (id, customer_id, line1, city, country_code, is_default) OVERRIDING SYSTEM VALUE VALUES
    (11, 1, '1 High St', 'London', 'GB', true), (12, 2, '2 Main St', 'Boston', 'US', true);
INSERT INTO products (sku, name, kind, price_cents) VALUES ('HNY-1', 'Honey', 'food', 1000);
INSERT INTO subscriptions (id, customer_id, plan, status, frequency, price_cents, currency, next_shipment_date,
    shipping_address_id) OVERRIDING SYSTEM VALUE VALUES
    (21, 1, 'classic', 'active', 'monthly', 3990, 'GBP', '2026-12-03', 11),
    (22, 2, 'classic', 'active', 'monthly', 3990, 'USD', '2026-12-03', 12);
INSERT INTO orders (id, customer_id, subscription_id, box_month, status, total_cents, currency)
    OVERRIDING SYSTEM VALUE VALUES (31, 1, 21, '2026-11-01', 'delivered', 3990, 'GBP'),
                                   (32, 2, 22, '2026-11-01', 'delivered', 3990, 'USD');
INSERT INTO action_audit (caller, scope, server, tool, outcome)
    VALUES ('test', 'staff', 'subscriptions', 'pause', 'executed');
INSERT INTO ai_answerer_instructions (category, version, instructions, is_active, created_by)
    VALUES ('skip_month', 1, 'Skip only before the cut-off on the 20th.', true, 'test');
SELECT setval(pg_get_serial_sequence(t, 'id'), 100) FROM unnest(ARRAY['customers', 'addresses', 'subscriptions',
    'orders']) AS t;
"""

# (what it tries, SQL, the error class the database must raise, text the message must contain)
IMPOSSIBLE = [
    (
        "paused without an end date",
        "UPDATE subscriptions SET status = 'paused' WHERE id = 21",
        errors.CheckViolation,
        "paused_has_until",
    ),
    (
        "paused_until on an active subscription",
        "UPDATE subscriptions SET paused_until = '2027-01-01' WHERE id = 21",
        errors.CheckViolation,
        "paused_has_until",
    ),
    (
        "cancelled without a time",
        "UPDATE subscriptions SET status = 'cancelled', next_shipment_date = NULL WHERE id = 21",
        errors.CheckViolation,
        "cancelled_has_time",
    ),
    (
        "cancelled but still shipping",
        "UPDATE subscriptions SET status = 'cancelled', cancelled_at = now() WHERE id = 21",
        errors.CheckViolation,
        "cancelled_ships_nothing",
    ),
    (
        "an unknown subscription status",
        "UPDATE subscriptions SET status = 'frozen' WHERE id = 21",
        errors.CheckViolation,
        "subscriptions_status_check",
    ),
    (
        "shipping to another customer's address",
        "UPDATE subscriptions SET shipping_address_id = 12 WHERE id = 21",
        errors.ForeignKeyViolation,
        "subscriptions_shipping_address_id_customer_id_fkey",
    ),
    (
        "a damage claim on another customer's order",
        "INSERT INTO damage_claims (customer_id, order_id, status, description) VALUES (1, 32, 'under_review', "
        "'broken')",
        errors.ForeignKeyViolation,
        "damage_claims_order_id_customer_id_fkey",
    ),
    (
        "a resolved claim without a resolution",
        "INSERT INTO damage_claims (customer_id, order_id, status, description, resolved_at) "
        "VALUES (1, 31, 'resolved', 'broken', now())",
        errors.CheckViolation,
        "resolved_has_resolution",
    ),
    (
        "two open claims for one order",
        "INSERT INTO damage_claims (customer_id, order_id, status, description) VALUES "
        "(1, 31, 'under_review', 'jar broken'), (1, 31, 'awaiting_photos', 'lid broken')",
        errors.UniqueViolation,
        "damage_claims_one_open_idx",
    ),
    (
        "a skipped month that is not a month",
        "INSERT INTO subscription_skips VALUES (21, '2026-12-15', now())",
        errors.CheckViolation,
        "subscription_skips_box_month_check",
    ),
    (
        "two boxes for the same month",
        "INSERT INTO orders (customer_id, subscription_id, box_month, status, total_cents, "
        "currency) VALUES (1, 21, '2026-11-01', 'pending', 3990, 'GBP')",
        errors.UniqueViolation,
        "orders_subscription_id_box_month_key",
    ),
    (
        "a delivered shipment without a delivery time",
        "INSERT INTO shipments (order_id, carrier, tracking_number, status, destination_country) "
        "VALUES (31, 'dhl', 'AB12345678', 'delivered', 'GB')",
        errors.CheckViolation,
        "delivered_has_time",
    ),
    (
        "a duplicate e-mail",
        "INSERT INTO customers (email, first_name, last_name, country_code) "
        "VALUES ('ada@example.com', 'Ada', 'Other', 'GB')",
        errors.UniqueViolation,
        "customers_email_key",
    ),
    (
        "an upper-case e-mail",
        "INSERT INTO customers (email, first_name, last_name, country_code) "
        "VALUES ('Eve@Example.com', 'Eve', 'X', 'GB')",
        errors.CheckViolation,
        "customers_email_check",
    ),
    (
        "a second default address",
        "INSERT INTO addresses (customer_id, line1, city, country_code, is_default) "
        "VALUES (1, '9 Low St', 'Leeds', 'GB', true)",
        errors.UniqueViolation,
        "addresses_one_default_idx",
    ),
    (
        "a lower-case country",
        "UPDATE customers SET country_code = 'gb' WHERE id = 1",
        errors.CheckViolation,
        "customers_country_code_check",
    ),
    (
        "rewriting the audit log",
        "UPDATE action_audit SET outcome = 'refused'",
        errors.InsufficientPrivilege,
        "action_audit is append-only: UPDATE",
    ),
    (
        "deleting from the audit log",
        "DELETE FROM action_audit",
        errors.InsufficientPrivilege,
        "action_audit is append-only: DELETE",
    ),
    (
        "truncating the audit log",
        "TRUNCATE action_audit",
        errors.InsufficientPrivilege,
        "action_audit is append-only: TRUNCATE",
    ),
    (
        "a refusal without an error code",
        "INSERT INTO action_audit (caller, scope, server, tool, outcome) "
        "VALUES ('t', 's', 'subscriptions', 'pause', 'refused')",
        errors.CheckViolation,
        "refused_has_code",
    ),
    (
        "an unknown category",
        "INSERT INTO support_threads_data (thread_id, customer_email, channel, category, urgency, "
        "language, subject, status, created_at) VALUES ('T1', 'a@b.co', 'email', 'refunds', 'low', 'en', 's', "
        "'new', now())",
        errors.CheckViolation,
        "support_category_check",
    ),
    (
        "secondary intent equal to the primary",
        "INSERT INTO support_threads_data (thread_id, customer_email, channel, "
        "category, secondary_category, urgency, language, subject, status, created_at) VALUES ('T2', 'a@b.co', "
        "'email', "
        "'skip_month', 'skip_month', 'low', 'en', 's', 'new', now())",
        errors.CheckViolation,
        "support_threads_data_check",
    ),
    (
        "a draft before any AI answer",
        "INSERT INTO support_threads_data (thread_id, customer_email, channel, category, "
        "urgency, language, subject, status, created_at, draft_created_at) VALUES ('T3', 'a@b.co', 'email', "
        "'other', 'low',"
        " 'en', 's', 'draft_created', now(), now())",
        errors.CheckViolation,
        "draft_needs_ai_answer",
    ),
    (
        "two active rule versions for one category",
        "INSERT INTO ai_answerer_instructions (category, version, "
        "instructions, is_active, created_by) VALUES ('skip_month', 2, 'Another active version of the rules.', "
        "true, 't')",
        errors.UniqueViolation,
        "ai_answerer_instructions_one_active_idx",
    ),
    (
        "a confirmation that expires before it is created",
        "INSERT INTO pending_confirmations (token_hash, customer_id, "
        "tool, arguments_hash, arguments, summary, caller, expires_at) VALUES (repeat('a', 64), 1, 'pause', "
        "repeat('b', 64),"
        " '{}', 's', 'c', now() - interval '1 minute')",
        errors.CheckViolation,
        "pending_confirmations_check",
    ),
    (
        "a malformed idempotency key",
        "INSERT INTO idempotency_keys (tool, key, customer_id, arguments_hash, result) "
        "VALUES ('pause', 'x y', 1, repeat('b', 64), '{}')",
        errors.CheckViolation,
        "idempotency_keys_key_check",
    ),
]


@pytest.fixture
async def domain(conn: psycopg.AsyncConnection) -> psycopg.AsyncConnection:
    await conn.execute(SETUP.encode())
    return conn


@pytest.mark.parametrize(("attempt", "statement", "error", "fragment"), IMPOSSIBLE, ids=[i[0] for i in IMPOSSIBLE])
async def test_the_database_refuses(domain: psycopg.AsyncConnection, attempt: str, statement: str,
                                    error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as caught:
        await domain.execute(statement.encode())
    assert fragment in str(caught.value) or fragment == getattr(caught.value.diag, "constraint_name", None)


async def test_a_valid_pause_is_accepted(domain: psycopg.AsyncConnection) -> None:
    await domain.execute("UPDATE subscriptions SET status = 'paused', paused_until = '2027-02-01' WHERE id = 21")
    row = await (await domain.execute("SELECT status, paused_until::text FROM subscriptions WHERE id = 21")).fetchone()
    assert row == ("paused", "2027-02-01")


# Every enum in schemas/ has the same values as the CHECK constraint that guards its column.
ENUM_COLUMNS: list[tuple[type[StrEnum], str, str]] = [
    (SubscriptionStatus, "subscriptions", "status"),
    (Frequency, "subscriptions", "frequency"),
    (SubscriptionPlan, "subscriptions", "plan"),
    (Channel, "conversations", "channel"),
    (Channel, "support_threads_data", "channel"),
    (OrderStatus, "orders", "status"),
    (ShipmentStatus, "shipments", "status"),
    (Carrier, "shipments", "carrier"),
    (ClaimStatus, "damage_claims", "status"),
    (Resolution, "damage_claims", "resolution"),
    (DamageType, "damage_claim_items", "damage_type"),
    (PaymentIssueKind, "payment_issues", "kind"),
    (Urgency, "support_threads_data", "urgency"),
    (Category, "turns", "primary_category"),
    (AuditOutcome, "action_audit", "outcome"),
]


@pytest.mark.parametrize(("enum", "table", "column"), ENUM_COLUMNS, ids=[e[0].__name__ for e in ENUM_COLUMNS])
async def test_enum_matches_the_check_constraint(conn: psycopg.AsyncConnection, enum: type[StrEnum], table: str,
                                                 column: str) -> None:
    cur = await conn.execute(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_attribute a "
        "ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
        "WHERE c.conrelid = %s::regclass AND c.contype = 'c' AND a.attname = %s AND cardinality(c.conkey) = 1",
        (table, column),
    )
    definitions = [row[0] for row in await cur.fetchall()]
    allowed = {value for d in definitions for value in re.findall(r"'([a-z_]+)'::text", d)}
    assert allowed == {member.value for member in enum}


async def test_support_category_domain_matches_the_enum(conn: psycopg.AsyncConnection) -> None:
    row = await (await conn.execute(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_type t ON t.oid = c.contypid "
        "WHERE t.typname = 'support_category'")).fetchone()
    assert row is not None
    assert set(re.findall(r"'([a-z_]+)'::text", row[0])) == {c.value for c in Category}


async def test_the_one_open_claim_index_covers_exactly_the_open_statuses(conn: psycopg.AsyncConnection) -> None:
    row = await (await conn.execute(
        "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
        "WHERE i.indexrelid = 'damage_claims_one_open_idx'::regclass")).fetchone()
    assert row is not None
    assert set(re.findall(r"'([a-z_]+)'::text", row[0])) == {s.value for s in OPEN_CLAIM_STATUSES}
