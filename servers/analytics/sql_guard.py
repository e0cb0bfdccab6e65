"""The parser check: exactly one SELECT (or WITH ... SELECT) over the allowed tables, no dangerous functions.

This is one of four independent defences (see README, "Analytics"): even if it let something
through, the database login and the read-only transaction would still refuse a write or a role switch.
It fails closed: a query it cannot fully analyse (too deeply nested, unparseable, Unicode-escaped
names it would have to decode) is refused, never passed on.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from servers.analytics import sql_functions
from servers.analytics.context import ALLOWED_TABLES
from store.migrate import discover


class UnsafeQuery(ValueError):
    """The query is refused; the message says why and what is allowed."""


# Statement kinds that write, define, grant or run arbitrary commands, wherever they appear in the tree.
_FORBIDDEN_NODES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
                    exp.Copy, exp.TruncateTable, exp.Grant, exp.Set, exp.Transaction, exp.Commit, exp.Rollback,
                    exp.Use, exp.Pragma)
_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)
# U&"set\005fconfig" is set_config to PostgreSQL but an unknown name to the parser: refuse rather than decode.
_UNICODE_ESCAPES = re.compile(r"\bu&[\"']|\buescape\b", re.IGNORECASE)
_STRINGS = (exp.RawString, exp.ByteString, exp.National, exp.UnicodeString)
_CREATE_TABLE = re.compile(r"\bCREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:public\.)?\"?(\w+)",
                           re.IGNORECASE)


@lru_cache(maxsize=1)
def real_tables() -> frozenset[str]:
    """Every table the migrations create: names a WITH query may not take."""
    return frozenset(name.lower() for m in discover() for name in _CREATE_TABLE.findall(m.sql)) | set(ALLOWED_TABLES)


def check(sql: str) -> exp.Expression:
    """The parsed query, or UnsafeQuery with a reason a person (or a model) can act on."""
    if not sql or not sql.strip():
        raise UnsafeQuery("the query is empty; send one SELECT statement")
    if _UNICODE_ESCAPES.search(sql):
        raise UnsafeQuery("Unicode-escaped names and strings (U&\"...\", UESCAPE) are not allowed; write names and "
                          "text as plain characters")
    try:
        return _check(sql)
    except RecursionError:
        raise UnsafeQuery("the query is nested too deeply to check; flatten it (fewer nested parentheses or "
                          "subqueries, a WITH query per step)") from None


def _check(sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except SqlglotError as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise UnsafeQuery(f"the query is not valid SQL: {first}") from None
    if len(statements) != 1:
        raise UnsafeQuery(f"send exactly one query; found {len(statements)} statements")
    tree = statements[0]
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            kind = node.key.upper() if not isinstance(node, exp.Command) else str(node.this).upper()
            raise UnsafeQuery(f"only reading is allowed: {kind} statements are refused; write one SELECT query")
    if not isinstance(tree, _ROOTS):
        raise UnsafeQuery(f"only SELECT queries are allowed, not {tree.key.upper()}")
    for select in tree.find_all(exp.Select):
        if not select.expressions:
            raise UnsafeQuery("the query selects nothing; name the columns or aggregates to return")
        if select.args.get("into"):
            raise UnsafeQuery("SELECT ... INTO creates a table and is refused; select the rows instead")
        if select.args.get("locks"):
            raise UnsafeQuery("FOR UPDATE / FOR SHARE locks rows and is refused in analytics queries")
    _check_ctes(tree)
    _check_tables(tree)
    _check_functions(tree)
    _check_strings(tree)
    return tree


def _name(identifier: exp.Expression | None) -> str:
    """An identifier as PostgreSQL resolves it: unquoted names fold to lower case, quoted ones keep their case."""
    if not isinstance(identifier, exp.Identifier):
        return ""
    return identifier.this if identifier.quoted else identifier.this.lower()


def _check_ctes(tree: exp.Expression) -> None:
    for cte in tree.find_all(exp.CTE):
        name = _name(cte.args["alias"].this if cte.args.get("alias") else None)
        if name.lower() in real_tables():
            raise UnsafeQuery(f"the WITH query {name!r} has the name of a table, which it would hide; give it "
                              f"another name (e.g. {name.lower()}_rows)")


def _visible_ctes(table: exp.Table) -> set[str]:
    """The WITH queries a table reference can mean where it stands: those of every enclosing WITH, but inside a
    WITH query only the ones defined before it (itself too with RECURSIVE), as PostgreSQL scopes them."""
    visible: set[str] = set()
    inside: exp.Expression | None = None
    node: exp.Expression = table
    while node.parent is not None:
        parent = node.parent
        if isinstance(node, exp.CTE):
            inside = node
        clause = parent.args.get("with_")
        if isinstance(clause, exp.With):
            ctes = list(clause.expressions)
            if node is clause and inside in ctes:
                earlier = ctes if clause.args.get("recursive") else ctes[: ctes.index(inside)]
            else:
                earlier = ctes
            visible.update(_name(c.args["alias"].this) for c in earlier if c.args.get("alias"))
        node = parent
    return visible


def _check_tables(tree: exp.Expression) -> None:
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):  # a table function such as generate_series: checked below
            continue
        name, schema, catalog = _name(table.this), _name(table.args.get("db")), _name(table.args.get("catalog"))
        if not schema and not catalog and name in _visible_ctes(table):
            continue
        if catalog or schema not in ("", "public") or name not in ALLOWED_TABLES:
            shown = ".".join(part for part in (catalog, schema, name) if part)
            raise UnsafeQuery(f"table {shown} is not available to analytics; you can query: "
                              f"{', '.join(ALLOWED_TABLES)}")


def _function_names(node: exp.Func) -> list[str]:
    # The parser turns known functions into typed nodes named its own way: check every name it knows them by.
    if isinstance(node, exp.Anonymous):
        return [node.name]  # quoted or not: "TS_STAT" is not ts_stat to PostgreSQL, but refusing it costs nothing
    return [node.sql_name(), *type(node).sql_names()]


def _check_functions(tree: exp.Expression) -> None:
    for function in tree.find_all(exp.Func):
        refused = sql_functions.refusal(_function_names(function))
        if refused:
            name, why = refused
            raise UnsafeQuery(f"function {name} is not allowed in analytics queries: it {why}; use plain "
                              "SELECT expressions over the support tables")


def _check_strings(tree: exp.Expression) -> None:
    # Text is data, but some functions run it as SQL: a string calling a refused function is refused too, in case
    # a function that runs text is ever missing from the list.
    for node in tree.walk():
        if (isinstance(node, exp.Literal) and node.is_string) or isinstance(node, _STRINGS):
            called = sql_functions.call_in_text(str(node.this))
            if called:
                raise UnsafeQuery(f"a string in the query calls {called}(), which analytics does not allow; strings "
                                  "are data, not SQL")
