"""The four defences of analytics SQL, each tested on its own, then a hostile suite through all of them."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from psycopg_pool import AsyncConnectionPool

from servers.analytics import sql_guard
from servers.analytics.context import ALLOWED_TABLES
from servers.analytics.executor import QueryFailed, run_read_only
from servers.analytics.reader import READER_ROLE as ANALYTICS_ROLE
from store.summary import content_checksum
from tests.helpers import error_of


# 1. The database role can only SELECT the analytics tables.
@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM customers",
        "SELECT * FROM action_audit",
        "INSERT INTO support_threads_data (thread_id) VALUES ('x')",
        "UPDATE ai_agent_tasks SET status = 'failed'",
        "DELETE FROM support_dialogs",
        "CREATE TABLE evil (id int)",
        "SELECT * FROM pending_confirmations",
    ],
)
async def test_the_analytics_role_alone_refuses(db: psycopg.AsyncConnection, statement: str) -> None:
    async with db.transaction(force_rollback=True):
        await db.execute(f"SET LOCAL ROLE {ANALYTICS_ROLE}")
        with pytest.raises((errors.InsufficientPrivilege, errors.UndefinedTable, errors.NotNullViolation)) as caught:
            await db.execute(statement)
    assert isinstance(caught.value, errors.InsufficientPrivilege)


async def test_the_analytics_role_can_read_exactly_the_support_tables(db: psycopg.AsyncConnection) -> None:
    cur = await db.execute("SELECT table_name FROM information_schema.role_table_grants WHERE grantee = %s "
                           "AND privilege_type = 'SELECT'", (ANALYTICS_ROLE,))
    assert sorted(r[0] for r in await cur.fetchall()) == sorted(ALLOWED_TABLES)
    cur = await db.execute("SELECT count(*) FROM information_schema.role_table_grants WHERE grantee = %s "
                           "AND privilege_type <> 'SELECT'", (ANALYTICS_ROLE,))
    assert await cur.fetchone() == (0,)


# 2. The READ ONLY transaction and the statement timeout, with the parser and the role out of the way (the
#    platform's own login, not the reader's).
@pytest.fixture
async def pool(db_url: str):
    async with AsyncConnectionPool(db_url, min_size=1, max_size=2, open=False) as p:
        yield p


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT nextval(pg_get_serial_sequence('customers', 'id'))",
        "SELECT lo_create(0)",
        "SELECT setval(pg_get_serial_sequence('customers', 'id'), 1)",
    ],
)
async def test_the_read_only_transaction_alone_refuses_side_effects(pool, statement: str) -> None:
    with pytest.raises(QueryFailed, match="read-only transaction"):
        await run_read_only(pool, statement, None, max_rows=5)


async def test_the_statement_timeout_alone_stops_a_long_query(pool) -> None:
    with pytest.raises(QueryFailed, match=r"ran longer than 0.3 s and was stopped"):
        await run_read_only(pool, "SELECT pg_sleep(5)", None, max_rows=5, timeout_ms=300)


# 3. The parser check, without a database.
@pytest.mark.parametrize(("sql", "reason"), [
    ("DELETE FROM support_dialogs", "only reading is allowed: DELETE"),
    ("SELECT 1; SELECT 2", "exactly one query; found 2"),
    ("WITH d AS (DELETE FROM support_dialogs RETURNING *) SELECT * FROM d", "only reading is allowed"),
    ("SELECT * INTO evil FROM support_dialogs", "SELECT ... INTO creates a table"),
    ("SELECT * FROM support_dialogs FOR UPDATE", "FOR UPDATE"),
    ("SELECT * FROM pg_catalog.pg_authid", "table pg_catalog.pg_authid is not available"),
    ("SELECT pg_sleep(1)", "function pg_sleep is not allowed"),
    ("SELECT set_config('statement_timeout', '0', false)", "function set_config is not allowed"),
    ("DO $$ BEGIN DELETE FROM customers; END $$", "only reading is allowed"),
    ("SELEC 1", "not valid SQL"),
    ("   ", "the query is empty"),
])
def test_the_parser_alone_refuses(sql: str, reason: str) -> None:
    with pytest.raises(sql_guard.UnsafeQuery, match=reason.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
                       .replace("*", r"\*")):
        sql_guard.check(sql)


def test_the_parser_admits_ordinary_analytics() -> None:
    sql_guard.check("WITH w AS (SELECT date_trunc('week', created_at) AS week, count(*) AS n FROM support_threads_data "
                    "GROUP BY 1) SELECT week, n, lag(n) OVER (ORDER BY week) FROM w ORDER BY week")
    sql_guard.check("SELECT category, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at "
                    "- created_at)) FROM support_threads_data GROUP BY category")


# 4. Truncation is explicit.
async def test_large_results_are_truncated_and_marked(analytics) -> None:
    result = (await analytics.call_tool("run_sql", {"sql": "SELECT id, body FROM support_dialogs ORDER BY id",
                                                    "max_rows": 10})).structured_content
    assert result["row_count"] == 10 and result["truncated"] is True
    assert result["note"] == "showing the first 10 rows; more exist, add filters or aggregate"
    small = (await analytics.call_tool("run_sql", {"sql": "SELECT count(*) AS n FROM support_dialogs"})
             ).structured_content
    assert small["truncated"] is False and small["note"] is None


# The hostile suite: every attempt through the real tool, then proof that nothing changed.
TABLES = ["customers", "addresses", "subscriptions", "orders", "shipments", "damage_claims", "payment_issues",
          "action_audit", "idempotency_keys", "pending_confirmations", "conversations", "messages",
          "support_threads_data", "support_dialogs", "ai_human_comparison", "ai_agent_tasks",
          "ai_answerer_instructions", "analytics_learnings", "schema_migrations", "products", "order_items",
          "shipment_events", "subscription_skips", "customer_memories", "turns"]
WRITES = ["INSERT INTO {t} SELECT * FROM {t}", "UPDATE {t} SET id = id", "DELETE FROM {t}", "TRUNCATE {t}",
          "DROP TABLE {t}", "ALTER TABLE {t} ADD COLUMN evil int", "SELECT * FROM {t}; DELETE FROM {t}",
          "WITH x AS (DELETE FROM {t} RETURNING 1) SELECT count(*) FROM x"]
DDL = [
    "CREATE TABLE evil AS SELECT * FROM support_threads_data",
    "CREATE FUNCTION evil() RETURNS int AS 'select 1' LANGUAGE sql",
    "ALTER ROLE levhaolam_analytics SUPERUSER",
    "GRANT ALL ON customers TO levhaolam_analytics",
    "CREATE EXTENSION dblink",
    "ALTER SYSTEM SET statement_timeout = 0",
    "CREATE INDEX evil ON support_dialogs (body)",
    "CREATE ROLE evil LOGIN SUPERUSER",
    "DROP SCHEMA public CASCADE",
    "CREATE VIEW evil AS SELECT 1",
    "COMMENT ON TABLE customers IS 'x'",
    "REINDEX TABLE customers",
    "CLUSTER customers",
    "VACUUM FULL customers",
]
FUNCTIONS = ["pg_sleep(30)", "pg_read_file('/etc/passwd')", "pg_read_binary_file('/etc/passwd')",
             "lo_import('/etc/passwd')", "lo_export(1, '/tmp/x')", "dblink('host=localhost', 'select 1')",
             "set_config('statement_timeout', '0', false)", "current_setting('data_directory')",
             "pg_terminate_backend(1)", "pg_cancel_backend(1)", "pg_reload_conf()", "pg_ls_dir('.')",
             "pg_stat_file('postgresql.conf')", "txid_current()", "nextval('customers_id_seq')",
             "setval('customers_id_seq', 1)", "query_to_xml('select * from customers', true, true, '')",
             "pg_advisory_lock(1)", "version()", "pg_backend_pid()", "current_user", "inet_server_addr()",
             "pg_sleep_for('1 minute')", "pg_rotate_logfile()", "pg_switch_wal()",
             # Found in pg_proc: they run SQL given as text (tests/security/test_hostile_sql.py finds them again).
             "ts_stat('select to_tsvector(''simple'', email) from customers')",
             "ts_stat('select to_tsvector(''simple'', set_config(''role'', ''postgres'', true))', 'a')",
             "ts_rewrite('a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery from customers')",
             "query_to_xmlschema('select * from customers', true, true, '')",
             "query_to_xml_and_xmlschema('select * from customers', true, true, '')",
             "cursor_to_xml('c'::refcursor, 10, true, true, '')", "cursor_to_xmlschema('c'::refcursor, true, true, '')",
             "table_to_xml('customers', true, true, '')", "schema_to_xml('public', true, true, '')",
             "database_to_xml(true, true, '')", "pg_catalog.set_config('role', 'postgres', true)",
             "\"set_config\"('role', 'postgres', false)", "SET_CONFIG('session_authorization', 'postgres', true)",
             "U&\"set\\005fconfig\"('role', 'postgres', true)", "current_setting('role')"]
SNOOPING = ["pg_catalog.pg_authid", "pg_shadow", "pg_user", "pg_roles", "pg_settings", "information_schema.tables",
            "pg_stat_activity", "pg_class", "pg_proc", "pg_catalog.pg_database", "information_schema.role_table_grants",
            "pg_hba_file_rules", "pg_file_settings", "public.customers", "\"customers\"", "CUSTOMERS",
            "pg_largeobject", "pg_stat_statements"]
TRICKS = [
    "SELECT 1 -- harmless\n; DELETE FROM support_dialogs",
    "SELECT 1 /* ; */; DROP TABLE support_dialogs",
    "SELECT 1;\n\n  TRUNCATE support_dialogs",
    "EXPLAIN ANALYZE DELETE FROM support_dialogs",
    "DO $$ BEGIN DELETE FROM support_dialogs; END $$",
    "CALL evil()",
    "PREPARE p AS DELETE FROM support_dialogs",
    "EXECUTE p",
    "LISTEN evil",
    "NOTIFY evil",
    "LOCK TABLE support_dialogs",
    "SET ROLE postgres",
    "RESET ROLE",
    "SET statement_timeout = 0",
    "BEGIN; DELETE FROM support_dialogs; COMMIT",
    "COPY support_dialogs TO '/tmp/dump.csv'",
    "COPY support_dialogs TO PROGRAM 'rm -rf /'",
    "COPY (SELECT 1) TO STDOUT",
    "SELECT * INTO TEMP evil FROM support_dialogs",
    "SELECT * FROM support_dialogs FOR UPDATE",
    "SELECT * FROM support_dialogs FOR SHARE SKIP LOCKED",
    "SEL/**/ECT 1",
    "SELECT * FROM U&\"cust\\006fmers\"",
    "DISCARD ALL",
    "DEALLOCATE ALL",
    "SELECT count(*) FROM generate_series(1, 100000000000)",
    "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT count(*) FROM support_dialogs a, support_dialogs b, support_dialogs c",
    "",
    "SELECT",
    "-- only a comment",
    "SELECT * FROM support_threads_data WHERE id = 1; SELECT pg_sleep(10)",
    "VALUES (1)",
    "TABLE customers",
    "SHOW data_directory",
    "SELECT 'a' FROM support_threads_data UNION SELECT email FROM customers",
    "SELECT * FROM support_threads_data t JOIN customers c ON c.id = t.customer_id",
    "SELECT (SELECT email FROM customers LIMIT 1)",
    "WITH customers AS (SELECT * FROM customers) SELECT email FROM customers",
    "WITH c AS (SELECT * FROM customers) SELECT email FROM c",
    "WITH x AS (SELECT 1) SELECT * FROM public.x",
    "SELECT " + "(" * 600 + "1" + ")" * 600,
    "SELECT * FROM ts_stat('select to_tsvector(''simple'', email) from customers')",
    "SELECT * FROM support_dialogs, LATERAL pg_catalog.ts_stat('select to_tsvector(''simple'', body) from messages') s",
]
ATTACKS = ([w.format(t=t) for t in TABLES for w in WRITES] + DDL
           + [f"SELECT {f}" for f in FUNCTIONS] + [f"SELECT {f} FROM support_threads_data LIMIT 1" for f in FUNCTIONS]
           + [f"SELECT * FROM {t}" for t in SNOOPING] + TRICKS)


def test_the_hostile_suite_is_large() -> None:
    assert len(ATTACKS) >= 200
    assert len(set(ATTACKS)) == len(ATTACKS)


async def _fingerprint(db: psycopg.AsyncConnection) -> tuple:
    objects = await (await db.execute(
        "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace), "
        "(SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace), "
        "(SELECT count(*) FROM pg_roles), (SELECT count(*) FROM pg_largeobject_metadata), "
        "(SELECT count(*) FROM analytics_learnings), (SELECT count(*) FROM action_audit), "
        "(SELECT last_value FROM customers_id_seq)")).fetchone()
    return objects, await content_checksum(db)


async def test_hostile_sql_changes_nothing_and_each_attempt_gets_a_clear_error(analytics, db) -> None:
    before = await _fingerprint(db)
    unclear = []
    for attack in ATTACKS:
        result = await analytics.call_tool("run_sql", {"sql": attack}, raise_on_error=False)
        if not result.is_error:
            unclear.append((attack, "was not refused"))
            continue
        error = error_of(result)
        if error["code"] != "invalid_argument" or error["field"] != "sql" or len(error["message"]) < 15:
            unclear.append((attack, error))
    assert unclear == []
    assert await _fingerprint(db) == before
