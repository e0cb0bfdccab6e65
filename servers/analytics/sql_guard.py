"""The parser check: exactly one SELECT (or WITH ... SELECT) over the allowed tables, no dangerous functions.

This is one of four independent defences (see README, "Analytics"): even if it let something
through, the database role and the read-only transaction would still refuse a write.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from servers.analytics.context import ALLOWED_TABLES


class UnsafeQuery(ValueError):
    """The query is refused; the message says why and what is allowed."""


# Statement kinds that write, define, grant or run arbitrary commands, wherever they appear in the tree.
_FORBIDDEN_NODES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
                    exp.Copy, exp.TruncateTable, exp.Grant, exp.Set, exp.Transaction, exp.Commit, exp.Rollback,
                    exp.Use, exp.Pragma)
_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except)
# Functions that sleep, read or write files, change settings, lock, reach other servers, or reveal the server.
_DANGEROUS = re.compile(
    r"^(pg_|lo_|dblink|set_config|current_(?!date$|time$|timestamp$)|txid_|query_to_xml|table_to_xml|cursor_to_xml|"
    r"database_to_xml|schema_to_xml|xml|nextval|setval|currval|lastval|inet_|version$|session_user$|user$|"
    r"has_.*_privilege$|to_regclass|to_regproc|format$|quote_|convert_from|convert_to|unnest_.*file|copy|"
    r"sleep|benchmark|load_file|sys_)", re.IGNORECASE)


def _function_name(node: exp.Func) -> str:
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name()


def check(sql: str) -> exp.Expression:
    """The parsed query, or UnsafeQuery with a reason a person (or a model) can act on."""
    if not sql or not sql.strip():
        raise UnsafeQuery("the query is empty; send one SELECT statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read="postgres") if s is not None]
    except ParseError as exc:
        first = str(exc).splitlines()[0]
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
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        schema = (table.db or "").lower()
        if not name:  # a table function such as generate_series: checked as a function below
            continue
        if schema not in ("", "public") or (name not in ALLOWED_TABLES and name not in cte_names):
            shown = f"{schema}.{name}" if schema else name
            raise UnsafeQuery(f"table {shown} is not available to analytics; you can query: "
                              f"{', '.join(ALLOWED_TABLES)}")
    for function in tree.find_all(exp.Func):
        name = _function_name(function)
        if _DANGEROUS.match(name):
            raise UnsafeQuery(f"function {name} is not allowed in analytics queries")
    return tree
