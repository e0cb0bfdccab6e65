"""Demo data: deterministic for a seed, realistic, complete, and never written over existing data."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import psycopg
import pytest
from psycopg import errors

from schemas.categories import Category
from schemas.domain import SubscriptionStatus
from store.demo.loader import seed
from store.errors import SeedRefused
from store.summary import content_checksum, table_counts
from tests.helpers import AS_OF, SMALL
from tests.pg import scratch_database

TINY = replace(SMALL, customers=60, tickets=300)
# Several shards of each kind, so ids are shifted into place and worker processes take part.
SHARDED = replace(SMALL, customers=130, tickets=700, customer_shard=40, ticket_shard=150)


async def _seed_fresh(admin_url: str, template: str, config) -> str:
    async with scratch_database(admin_url, template=template) as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await seed(conn, config)
            return await content_checksum(conn)


async def test_same_seed_gives_the_same_content_and_another_seed_does_not(admin_url: str,
                                                                          migrated_template: str) -> None:
    first = await _seed_fresh(admin_url, migrated_template, TINY)
    second = await _seed_fresh(admin_url, migrated_template, TINY)
    other = await _seed_fresh(admin_url, migrated_template, replace(TINY, seed=TINY.seed + 1))
    assert first == second
    assert first != other


async def test_worker_processes_generate_the_same_data_as_one_process_with_dense_ids(
        admin_url: str, migrated_template: str) -> None:
    async with scratch_database(admin_url, template=migrated_template) as url:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await seed(conn, SHARDED, workers=0)
            alone = await content_checksum(conn)
            await seed(conn, SHARDED, workers=2, force=True)
            assert await content_checksum(conn) == alone
            counts = await table_counts(conn)
            assert counts["customers"] == 130 and counts["support_threads_data"] == 700
            for table in ("addresses", "orders", "shipments", "shipment_events", "support_dialogs", "ai_agent_tasks"):
                row = await (await conn.execute(f"SELECT min(id), max(id) FROM {table}")).fetchone()
                assert row == (1, counts[table]), table
            # Values made of ids follow them: a tracking number names its shipment, a photo its claim.
            mismatched = await (await conn.execute(
                "SELECT count(*) FROM shipments WHERE tracking_number NOT LIKE '%%' || id || '%%'")).fetchone()
            assert mismatched == (0,)
            mismatched = await (await conn.execute(
                "SELECT count(*) FROM damage_claim_photos WHERE url NOT LIKE '%%/claims/' || claim_id || '/%%'")
            ).fetchone()
            assert mismatched == (0,)


async def test_the_load_puts_back_every_foreign_key_and_index(conn: psycopg.AsyncConnection) -> None:
    schema = ("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
              "UNION ALL SELECT tablename, indexname, indexdef, true FROM pg_indexes WHERE schemaname = 'public' "
              "ORDER BY 1, 2, 3")
    before = await (await conn.execute(schema)).fetchall()
    await seed(conn, TINY)
    assert await (await conn.execute(schema)).fetchall() == before


async def test_the_scale_asked_for_is_the_scale_seeded(seeded: psycopg.AsyncConnection) -> None:
    counts = await table_counts(seeded)
    assert counts["customers"] == SMALL.customers
    assert counts["support_threads_data"] == SMALL.tickets
    assert counts["products"] > 10
    assert counts["ai_answerer_instructions"] == 2 * len(Category)
    for table, count in counts.items():
        assert count > 0, f"{table} is empty"


async def test_refuses_a_non_empty_database_and_force_reseeds(conn: psycopg.AsyncConnection) -> None:
    await seed(conn, TINY)
    await conn.execute("INSERT INTO action_audit (caller, scope, server, tool, outcome) "
                       "VALUES ('t', 'staff', 'subscriptions', 'pause_subscription', 'executed')")
    with pytest.raises(SeedRefused, match=r"already holds data \(60 rows in customers.*levhaolam seed --force"):
        await seed(conn, TINY)
    before = await content_checksum(conn)
    await seed(conn, TINY, force=True)
    assert await content_checksum(conn) == before
    audit = await (await conn.execute("SELECT count(*) FROM action_audit")).fetchone()
    assert audit == (0,)
    # The wipe lifted the audit log's guard only inside its own transaction.
    with pytest.raises(errors.InsufficientPrivilege):
        await conn.execute("TRUNCATE action_audit")


async def test_identity_sequences_continue_after_the_seeded_ids(seeded: psycopg.AsyncConnection) -> None:
    async with seeded.transaction(force_rollback=True):
        row = await (await seeded.execute(
            "INSERT INTO customers (email, first_name, last_name, country_code) "
            "VALUES ('new.customer@example.com', 'New', 'Customer', 'DE') RETURNING id")).fetchone()
        assert row is not None and row[0] > SMALL.customers


async def test_every_category_status_and_many_countries_appear(seeded: psycopg.AsyncConnection) -> None:
    async def values(query: str) -> set:
        return {row[0] for row in await (await seeded.execute(query)).fetchall()}

    assert await values("SELECT DISTINCT category FROM support_threads_data") == {c.value for c in Category}
    assert await values("SELECT DISTINCT status FROM subscriptions") == {s.value for s in SubscriptionStatus}
    assert len(await values("SELECT DISTINCT country_code FROM customers")) >= 10
    assert await values("SELECT DISTINCT handled_by FROM support_threads_data WHERE handled_by IS NOT NULL") == {
        "ai", "ai_edited", "human"}
    assert len(await values("SELECT DISTINCT channel FROM support_threads_data")) >= 5


async def test_tickets_cover_90_days_before_as_of_and_none_after(seeded: psycopg.AsyncConnection) -> None:
    row = await (await seeded.execute("SELECT min(created_at), max(created_at) FROM support_threads_data")).fetchone()
    assert row is not None
    oldest, newest = row
    assert newest <= AS_OF and AS_OF - newest < timedelta(days=1)
    assert timedelta(days=85) < AS_OF - oldest <= timedelta(days=90)
    future = await (await seeded.execute(
        "SELECT count(*) FROM support_threads_data WHERE greatest(ai_answered_at, first_response_at, resolved_at) > %s",
        (AS_OF,))).fetchone()
    assert future == (0,)


async def test_the_ai_share_grows_after_the_platform_rollout(seeded: psycopg.AsyncConnection) -> None:
    row = await (await seeded.execute(
        "SELECT (avg((handled_by = 'ai')::int) FILTER (WHERE created_at > %(as_of)s - interval '7 days'))::float, "
        "(avg((handled_by = 'ai')::int) FILTER (WHERE created_at < %(as_of)s - interval '45 days'))::float "
        "FROM support_threads_data WHERE handled_by IS NOT NULL", {"as_of": AS_OF})).fetchone()
    assert row is not None
    recent, old = row
    assert recent > old + 0.3


async def test_every_shipment_has_tracking_events_in_order(seeded: psycopg.AsyncConnection) -> None:
    missing = await (await seeded.execute(
        "SELECT count(*) FROM shipments s WHERE NOT EXISTS (SELECT 1 FROM shipment_events e WHERE e.shipment_id = s.id)"
    )).fetchone()
    assert missing == (0,)
    delivered_last = await (await seeded.execute(
        "SELECT count(*) FROM shipments s WHERE s.status = 'delivered' AND (SELECT e.status FROM shipment_events e "
        "WHERE e.shipment_id = s.id ORDER BY e.occurred_at DESC LIMIT 1) <> 'delivered'")).fetchone()
    assert delivered_last == (0,)


async def test_customer_messages_read_like_customers_wrote_them(seeded: psycopg.AsyncConnection) -> None:
    rows = await (await seeded.execute(
        "SELECT d.body FROM support_dialogs d WHERE d.seq = 1 ORDER BY d.id LIMIT 200")).fetchall()
    bodies = [r[0] for r in rows]
    assert all("{" not in body and "}" not in body for body in bodies), "unfilled template slot"
    assert len(set(bodies)) > 50


GENERATE = """
import hashlib
from datetime import datetime, timezone
from schemas.policy import load_policy
from store.demo.generator import DemoGenerator, SeedConfig
config = SeedConfig(customers=400, tickets=200, seed=5, as_of=datetime(2026, 11, 28, 12, tzinfo=timezone.utc))
digest = hashlib.sha256()
for batch in DemoGenerator(config, load_policy()).batches():
    for rows in batch.rows.values():
        for row in rows:
            digest.update(repr(row).encode())
print(digest.hexdigest())
"""


def test_generation_does_not_depend_on_the_process_hash_seed() -> None:
    import os
    import subprocess
    import sys

    digests = {
        subprocess.run([sys.executable, "-c", GENERATE], env=os.environ | {"PYTHONHASHSEED": str(hash_seed)},
                       capture_output=True, text=True, check=True).stdout
        for hash_seed in (1, 2, 3)
    }
    assert len(digests) == 1
