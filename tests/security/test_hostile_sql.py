"""Hostile SQL against run_sql, by attack class. Each defence is attacked alone with the whole class, then all of
them together through the tool; after every attack the database is unchanged and the answer is the typed error.

Classes: role escape (set_config / SET ROLE, directly or inside functions that run SQL text), functions that run
query text (found in pg_proc, not listed by hand), spellings of refused functions, WITH queries standing in for
tables, nesting too deep to parse, and hostile SQL through the tool.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import psycopg
import pytest
from fastmcp import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool
from sqlglot import exp

from servers.analytics import sql_functions, sql_guard
from servers.analytics.context import ALLOWED_TABLES
from servers.analytics.executor import QueryFailed, run_read_only
from servers.analytics.reader import READER_ROLE, ReaderRefused, open_reader_pool, privilege_problems, reader_url
from servers.registry import builder
from store.summary import content_checksum
from tests.conftest import ServerFactory
from tests.helpers import error_of, memory_client, settings_for

PRIVILEGED_ROLES = ["postgres", "pg_read_server_files", "pg_read_all_data", "pg_write_all_data",
                    "pg_write_server_files", "pg_execute_server_program", "pg_monitor", "pg_signal_backend",
                    "pg_read_all_settings", "pg_database_owner"]
THE_ISSUE = ("SELECT (SELECT count(*) FROM ts_stat('select to_tsvector(''simple'', set_config(''role'', ''postgres'', "
             "true))')) AS a, (SELECT string_agg(word, ' ') FROM ts_stat('select to_tsvector(''simple'', email) from "
             "customers')) AS b")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def switches() -> list[str]:
    """Every way found to ask for another role or session user, as an SQL expression or statement."""
    found = [f"set_config('role', '{role}', {local})" for role in PRIVILEGED_ROLES for local in ("true", "false")]
    found += [f"set_config('session_authorization', '{role}', {local})" for role in ("postgres", "pg_monitor")
              for local in ("true", "false")]
    found += ["set_config('ROLE', 'postgres', true)", "pg_catalog.set_config('role', 'postgres', true)",
              "\"set_config\"('role', 'postgres', true)"]
    return found


def escapes() -> list[str]:
    """A role switch followed by a read of a table the role may not see, run directly and inside every function
    that runs SQL text."""
    attacks = []
    for switch in switches():
        payload = f"select to_tsvector('simple', {switch})"
        attacks += [
            f"SELECT {switch}, (SELECT count(*) FROM customers)",
            f"SELECT (SELECT count(*) FROM ts_stat({_quote(payload)})) AS a, (SELECT string_agg(word, ' ') FROM "
            "ts_stat('select to_tsvector(''simple'', email) from customers')) AS b",
            f"SELECT (SELECT count(*) FROM ts_stat({_quote(payload)}, 'a')), "
            "(SELECT count(*) FROM ts_stat('select to_tsvector(''simple'', pg_read_file(''/etc/passwd''))'))",
            f"SELECT ts_rewrite('a'::tsquery, {_quote(f'select {switch}::tsquery, ' + chr(39) + 'b' + chr(39))})",
            f"SELECT query_to_xml({_quote(f'select {switch}')}, true, true, '')",
        ]
    for statement in ("SET ROLE postgres", "SET SESSION AUTHORIZATION postgres", "SET LOCAL ROLE pg_read_all_data"):
        attacks += [f"SELECT query_to_xml({_quote(statement)}, true, true, '')",
                    f"SELECT count(*) FROM ts_stat({_quote(statement)})"]
    return attacks


async def _fingerprint(db: psycopg.AsyncConnection) -> tuple:
    objects = await (await db.execute(
        "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace), "
        "(SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace), "
        "(SELECT count(*) FROM pg_roles), (SELECT count(*) FROM pg_largeobject_metadata), "
        "(SELECT count(*) FROM analytics_learnings), (SELECT count(*) FROM action_audit), "
        "(SELECT last_value FROM customers_id_seq), "
        "(SELECT row(rolsuper, rolinherit, rolcanlogin) FROM pg_roles WHERE rolname = 'levhaolam_analytics')::text, "
        "(SELECT count(*) FROM pg_auth_members WHERE member = 'levhaolam_analytics'::regrole)")).fetchone()
    return objects, await content_checksum(db)


@pytest.fixture
async def analytics(make_server: ServerFactory) -> AsyncIterator[Client]:
    async with memory_client(make_server("analytics", LEVHAOLAM_ANALYTICS_TIMEOUT_MS=700)) as client:
        yield client


@pytest.fixture
async def reader(db_url: str) -> AsyncIterator[AsyncConnectionPool]:
    """The analytics login's pool on the test's database, exactly as the server opens it."""
    settings = settings_for(db_url)
    async with open_reader_pool(reader_url(db_url, settings), settings) as pool:
        yield pool


# 1. The login alone (the parser out of the way): no SQL can make it anyone else.
async def test_the_analytics_login_is_a_noinherit_role_with_nothing_to_become(db, reader) -> None:
    row = await (await db.execute(
        "SELECT rolcanlogin, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, "
        "(SELECT count(*) FROM pg_auth_members WHERE member = r.oid) FROM pg_roles r WHERE rolname = %s",
        (READER_ROLE,))).fetchone()
    assert row == (True, False, False, False, False, False, False, 0)
    async with reader.connection() as conn:
        assert await (await conn.execute("SELECT session_user, current_user")).fetchone() == (READER_ROLE, READER_ROLE)
        assert await privilege_problems(conn) == []


async def test_the_login_alone_refuses_every_role_escape(db, reader) -> None:
    attacks = escapes()
    assert len(attacks) >= 120
    before = await _fingerprint(db)
    answered, denied = [], 0
    for attack in attacks:
        try:
            result = await run_read_only(reader, attack, None, max_rows=5, timeout_ms=2000)
        except QueryFailed as failure:
            denied += "permission denied" in str(failure)
            continue
        answered.append((attack, result.rows))
    assert answered == []
    assert denied >= len(switches()) * 4  # refused for the role switch or the read, not for some other reason
    async with reader.connection() as conn:  # nothing stuck to the pooled sessions either
        assert await (await conn.execute("SELECT session_user, current_user")).fetchone() == (READER_ROLE, READER_ROLE)
    assert await _fingerprint(db) == before


async def test_the_issue_attack_worked_only_because_a_superuser_session_was_underneath(db) -> None:
    # The old design for contrast: SET LOCAL ROLE under the migrating superuser is undone by set_config.
    async with db.transaction(force_rollback=True):
        await db.execute(f"SET LOCAL ROLE {READER_ROLE}")
        row = await (await db.execute(THE_ISSUE)).fetchone()
    assert row is not None and "@" in row[1]


async def test_a_privileged_login_is_refused_before_any_query(db_url: str) -> None:
    settings = settings_for(db_url, LEVHAOLAM_ANALYTICS_DATABASE_URL=db_url)  # the superuser of the test server
    with pytest.raises(ReaderRefused, match="is a superuser"):
        async with open_reader_pool(reader_url(db_url, settings), settings):
            pass


async def test_a_server_whose_login_cannot_connect_does_not_start_and_says_what_to_do(db_url: str) -> None:
    host = conninfo_to_dict(db_url)["host"]
    server = builder("analytics")(settings_for(db_url, LEVHAOLAM_ANALYTICS_DATABASE_URL=(
        f"postgresql://nobody_at_all@/{conninfo_to_dict(db_url)['dbname']}?host={host}")), transport="memory")
    with pytest.raises(Exception, match="its own login role .*LEVHAOLAM_ANALYTICS_DATABASE_URL"):
        async with memory_client(server):
            pass


async def test_a_login_granted_a_privileged_role_is_refused(db_url: str, db) -> None:
    await db.execute(f"GRANT pg_read_all_data TO {READER_ROLE}")
    try:
        settings = settings_for(db_url)
        with pytest.raises(ReaderRefused, match="member of pg_read_all_data"):
            async with open_reader_pool(reader_url(db_url, settings), settings):
                pass
    finally:
        await db.execute(f"REVOKE pg_read_all_data FROM {READER_ROLE}")  # roles are shared by the test server


# 2. Functions that run query text: found by calling every function of pg_proc, not listed by hand.
MARKER = "zz_probe_marker_table"
_PROBE_VALUES = {
    "text": f"'SELECT 1 FROM {MARKER}'::text", "varchar": f"'SELECT 1 FROM {MARKER}'::varchar",
    "name": f"'SELECT 1 FROM {MARKER}'::name", "bpchar": f"'SELECT 1 FROM {MARKER}'::bpchar",
    "any": f"'SELECT 1 FROM {MARKER}'::text", "anyelement": f"'SELECT 1 FROM {MARKER}'::text",
    "anynonarray": f"'SELECT 1 FROM {MARKER}'::text", "anycompatible": f"'SELECT 1 FROM {MARKER}'::text",
    "refcursor": f"'{MARKER}'::refcursor", "_text": f"ARRAY['SELECT 1 FROM {MARKER}']",
    "bool": "false", "int2": "0::int2", "int4": "0", "int8": "0::int8", "float4": "0::float4", "float8": "0::float8",
    "numeric": "0::numeric", "oid": "0::oid", "tsquery": "'a'::tsquery", "tsvector": "'a'::tsvector",
    "regconfig": "'simple'::regconfig", "jsonb": "'{}'::jsonb", "json": "'{}'::json", "bytea": "''::bytea",
    "regclass": "'support_dialogs'::regclass", "date": "current_date", "timestamptz": "now()",
    "timestamp": "now()::timestamp", "interval": "'0'::interval", "jsonpath": "'$'::jsonpath",
}
_NOT_CALLED = {"pg_sleep", "pg_sleep_for", "pg_sleep_until", "pg_terminate_backend", "pg_cancel_backend"}
_FUNCTIONS = """
SELECT n.nspname, p.proname, p.oid::regprocedure::text,
       ARRAY(SELECT y.typname FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i)
             JOIN pg_type y ON y.oid = a.t ORDER BY a.i)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind = 'f' ORDER BY 2, 3
"""


async def functions_that_run_query_text(conn: psycopg.AsyncConnection) -> dict[str, str]:
    """{signature: name} of every function that executed a query string given as an argument (the query names a
    table that does not exist, so running it is the only way to fail with that table's name)."""
    found: dict[str, str] = {}
    for schema, name, signature, types in await (await conn.execute(_FUNCTIONS)).fetchall():
        takes_text = any(t in ("text", "varchar", "name", "bpchar", "any", "refcursor", "_text") or t.startswith(
            "any") for t in types)
        if name in _NOT_CALLED or not takes_text or not all(t in _PROBE_VALUES for t in types):
            continue
        call = sql.SQL("SELECT {}.{}({})").format(sql.Identifier(schema), sql.Identifier(name),
                                                  sql.SQL(", ").join(sql.SQL(_PROBE_VALUES[t]) for t in types))
        try:
            async with conn.transaction(force_rollback=True):
                await conn.execute("SET LOCAL statement_timeout = 2000")
                await conn.execute(call)
        except psycopg.Error as exc:
            if MARKER in str(exc) and (isinstance(exc, errors.UndefinedTable) or "cursor" in str(exc)):
                found[signature] = name
    return found


async def test_every_function_that_runs_query_text_is_refused_by_the_parser(reader) -> None:
    async with reader.connection() as conn:
        found = await functions_that_run_query_text(conn)
    # The search works: the functions of the issue are among what it finds.
    assert {"ts_stat(text)", "ts_stat(text,text)", "ts_rewrite(tsquery,text)",
            "query_to_xml(text,boolean,boolean,text)"} <= set(found)
    assert set(found.values()) <= set(sql_functions.RUNS_QUERY_TEXT)
    for name in {*found.values(), *sql_functions.READS_BY_NAME}:
        with pytest.raises(sql_guard.UnsafeQuery, match=f"function {name} is not allowed"):
            sql_guard.check(f"SELECT {name}('SELECT 1')")


async def test_every_refused_name_in_pg_proc_is_refused_as_the_parser_reads_it(db) -> None:
    # The parser turns some names into typed functions named its own way; none may slip through that way.
    rows = await (await db.execute("SELECT DISTINCT proname, pronargs FROM pg_proc WHERE prokind IN ('f', 'a', 'w') "
                                   "ORDER BY 1")).fetchall()
    refused = [(name, nargs) for name, nargs in rows if sql_functions.refusal([name])]
    assert len(refused) > 300
    slipped = []
    for name, nargs in refused:
        query = f"SELECT {name}({', '.join(['NULL'] * nargs)}) FROM support_dialogs"
        try:
            sql_guard.check(query)
        except sql_guard.UnsafeQuery:
            continue
        slipped.append(query)
    assert slipped == []


# 3. The parser alone, without a database: every refused function in every spelling and position.
SPELLINGS = [
    "SELECT {f}({a})", "SELECT \"{f}\"({a})", "SELECT pg_catalog.{f}({a})", "SELECT \"pg_catalog\".\"{f}\"({a})",
    "SELECT {F}({a})", "SELECT pg_catalog . {f} ({a})", "SELECT {f} /* c */ ({a})", "SELECT * FROM {f}({a})",
    "SELECT * FROM pg_catalog.{f}({a}) AS x", "SELECT * FROM support_dialogs d, LATERAL {f}({a}) AS x",
    "SELECT * FROM ROWS FROM ({f}({a}))", "SELECT (SELECT count(*) FROM {f}({a}))",
    "WITH x AS (SELECT {f}({a})) SELECT * FROM x", "SELECT 1 FROM support_dialogs WHERE {f}({a}) IS NOT NULL",
    "SELECT 1 FROM support_dialogs ORDER BY {f}({a})", "SELECT count(*) FILTER (WHERE {f}({a}) IS NULL) "
    "FROM support_dialogs", "SELECT 1 UNION SELECT {f}({a})", "SELECT CASE WHEN true THEN {f}({a}) END",
    "SELECT role FROM support_dialogs GROUP BY role HAVING count({f}({a})) > 0",
    "SELECT ({f}({a})).x", "SELECT coalesce(NULL, {f}({a}))", "SELECT ARRAY[{f}({a})]",
    "SELECT 1 FROM support_dialogs d JOIN support_threads_data t ON t.id = d.ticket_id AND {f}({a}) IS NULL",
]
REFUSED_CALLS = {
    **{name: "'select to_tsvector(''simple'', email) from customers'" for name in sql_functions.RUNS_QUERY_TEXT},
    **{name: "'customers', true, true, ''" for name in sql_functions.READS_BY_NAME},
    "set_config": "'role', 'postgres', true", "current_setting": "'data_directory'",
    "pg_read_file": "'/etc/passwd'", "pg_ls_dir": "'.'", "lo_import": "'/etc/passwd'", "dblink": "'', 'select 1'",
    "dblink_exec": "'', 'drop table x'", "crosstab": "'select 1'", "connectby": "'customers', 'id', 'id', '1', 0",
    "pg_sleep": "10", "xmlelement": "name x", "nextval": "'customers_id_seq'", "txid_current": "",
}


def spelled(name: str, arguments: str) -> list[str]:
    return [s.format(f=name, F=name.upper(), a=arguments) for s in SPELLINGS]


def test_the_parser_alone_refuses_every_refused_function_in_every_spelling() -> None:
    passed = []
    attacks = [q for name, arguments in REFUSED_CALLS.items() for q in spelled(name, arguments)]
    assert len(attacks) >= 650
    for attack in attacks:
        try:
            sql_guard.check(attack)
        except sql_guard.UnsafeQuery:
            continue
        passed.append(attack)
    assert passed == []


@pytest.mark.parametrize("attack", [
    THE_ISSUE,
    "SELECT U&\"set\\005fconfig\"('role', 'postgres', true)",
    "SELECT u&\"ts\\005fstat\"('select 1')",
    "SELECT * FROM U&\"cust\\006fmers\"",
    "SELECT U&'\\0073et_config' AS x",
    "SELECT U&\"x!0041\" UESCAPE '!' FROM support_dialogs",
    "SELECT 'select set_config(''role'', ''postgres'', true)' AS a",
    "SELECT $$select pg_read_file('/etc/passwd')$$ AS a",
    "SELECT $q$select ts_stat('x')$q$ AS a",
    "SELECT E'select set_config(\\'role\\', \\'postgres\\', true)' AS a",
    "SELECT E'\\x73et_config(1)' AS a",
    "SELECT 'SELECT PG_READ_FILE (''/etc/passwd'')' AS a",
])
def test_the_parser_alone_refuses_escapes_hidden_in_names_and_strings(attack: str) -> None:
    with pytest.raises(sql_guard.UnsafeQuery):
        sql_guard.check(attack)


# 4. WITH queries standing in for tables: by name, and by scope.
def test_a_with_query_may_not_take_a_table_name() -> None:
    tables = sorted(sql_guard.real_tables())
    assert {"customers", "action_audit", "support_threads_data"} <= set(tables)
    for table in tables:
        for spelling in (table, table.upper(), f'"{table}"'):
            with pytest.raises(sql_guard.UnsafeQuery, match="has the name of a table"):
                sql_guard.check(f"WITH {spelling} AS (SELECT * FROM {table}) SELECT * FROM {spelling}")


@pytest.mark.parametrize("attack", [
    "WITH c AS (SELECT * FROM customers) SELECT email FROM c",
    "WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS n) SELECT * FROM a",  # b is not yet defined inside a
    "WITH x AS (SELECT 1 AS n) SELECT * FROM public.x",  # qualified: always the table
    "WITH \"X\" AS (SELECT 1 AS n) SELECT * FROM x",  # "X" is not x
    "WITH pg_roles_ AS (SELECT 1) SELECT * FROM pg_roles",
    "SELECT * FROM (WITH x AS (SELECT 1 AS n) SELECT * FROM x) s, x",  # x is out of scope here
    "WITH x AS (SELECT 1 AS n) SELECT * FROM other_db.public.x",
    "WITH x AS (WITH y AS (SELECT 1) SELECT * FROM y) SELECT * FROM y",
])
def test_a_table_reference_means_a_with_query_only_where_that_query_is_in_scope(attack: str) -> None:
    with pytest.raises(sql_guard.UnsafeQuery, match="is not available to analytics"):
        sql_guard.check(attack)


@pytest.mark.parametrize("query", [
    "WITH a AS (SELECT 1 AS n), b AS (SELECT * FROM a) SELECT * FROM b",
    "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
    "WITH x AS (SELECT 1 AS n) SELECT * FROM (SELECT * FROM x) s",
    "WITH t AS (SELECT category, count(*) AS n FROM support_threads_data GROUP BY 1) SELECT * FROM t ORDER BY n",
    "WITH \"Weekly\" AS (SELECT 1 AS n) SELECT * FROM \"Weekly\"",
])
def test_with_queries_in_scope_are_still_admitted(query: str) -> None:
    sql_guard.check(query)


# 5. Nesting too deep for the parser: refused, typed, and the process is fine.
DEEP = [
    "SELECT " + "(" * 600 + "1" + ")" * 600,
    "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    "SELECT " + "coalesce(" * 1500 + "1" + ")" * 1500,
    "SELECT " + "ARRAY[" * 1500 + "1" + "]" * 1500,
    "SELECT 1 FROM support_dialogs WHERE " + "NOT " * 3000 + "true",
    "SELECT * FROM " + "(SELECT * FROM " * 700 + "support_dialogs" + ") s" * 700,
    "SELECT " + "(SELECT " * 900 + "1" + ")" * 900,
]


@pytest.mark.parametrize("attack", DEEP, ids=lambda q: f"{len(q)}-chars")
def test_the_parser_alone_refuses_nesting_it_cannot_follow(attack: str) -> None:
    with pytest.raises(sql_guard.UnsafeQuery, match="nested too deeply|not valid SQL"):
        sql_guard.check(attack)


_SQLISH = st.lists(st.sampled_from(list("()[]'\"$;,.*:+-/<>=!&|%#@\\ \n") + [
    "SELECT ", "FROM ", "WITH ", "AS ", "WHERE ", "UNION ", "ts_stat", "set_config", "customers", "support_dialogs",
    "U&", "E'", "$$", "/*", "*/", "--", "1", "x", "LATERAL ", "ROWS FROM ", "pg_catalog.", "NOT ", "ARRAY"]),
    max_size=60).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_SQLISH)
def test_the_parser_only_ever_admits_or_refuses(text: str) -> None:
    try:
        tree = sql_guard.check(text)
    except sql_guard.UnsafeQuery as refusal:
        assert str(refusal)
        return
    names = {f.name.lower() for f in tree.find_all(exp.Anonymous)}
    assert not names & {"ts_stat", "set_config"}


# 6. All layers together, through the tool: the issue's class, the pg_proc findings, CTEs and nesting.
def through_the_tool() -> list[str]:
    attacks = escapes()
    attacks += [q for name, arguments in REFUSED_CALLS.items() for q in spelled(name, arguments)[:8]]
    attacks += [f"WITH {t} AS (SELECT * FROM {t}) SELECT * FROM {t}" for t in sorted(sql_guard.real_tables())]
    attacks += ["WITH c AS (SELECT * FROM customers) SELECT email FROM c", THE_ISSUE, *DEEP]
    return list(dict.fromkeys(attacks))


async def test_hostile_sql_through_the_tool_changes_nothing_and_is_refused_typed(analytics, db) -> None:
    attacks = through_the_tool()
    assert len(attacks) >= 300
    before = await _fingerprint(db)
    unclear = []
    for attack in attacks:
        result = await analytics.call_tool("run_sql", {"sql": attack}, raise_on_error=False)
        if not result.is_error:
            unclear.append((attack[:120], "was not refused"))
            continue
        error = error_of(result)
        if error["code"] != "invalid_argument" or error["field"] != "sql" or len(error["message"]) < 15:
            unclear.append((attack[:120], error))
    assert unclear == []
    assert await _fingerprint(db) == before
    # The server still answers ordinary questions afterwards.
    ok = await analytics.call_tool("run_sql", {"sql": "SELECT count(*) AS n FROM support_threads_data"})
    assert ok.structured_content["rows"][0][0] > 0


async def test_a_sample_of_the_class_passes_the_parser_only_to_meet_the_login(reader) -> None:
    # Attacks written to pass the parser (no refused function, allowed tables only) still reach nothing: the
    # login is the last word on what can be read.
    rng = random.Random(10)
    readable = []
    for table in rng.sample(sorted(sql_guard.real_tables() - set(ALLOWED_TABLES)), 8):
        query = f"SELECT count(*) FROM {table}"
        try:
            await run_read_only(reader, query, None, max_rows=1)
        except QueryFailed as failure:
            assert "permission denied" in str(failure)
            continue
        readable.append(table)
    assert readable == []
