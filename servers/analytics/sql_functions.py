"""The functions analytics SQL may not call, and why: one list the parser check reads.

The first group was found by calling every function of pg_proc on PostgreSQL 16 with a query string as each of
its text arguments, as the analytics login in a read-only transaction: exactly these ran the string as SQL
(tests/security/test_hostile_sql.py repeats that search and fails if a new one appears). The XML mappings that
read tables by name come from the PostgreSQL documentation (section 9.15.3), because a server built without
libxml stops them before they read. Extensions that run SQL text are listed in case a database has them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Functions of PostgreSQL 16 that execute SQL passed as text (or a cursor's query).
RUNS_QUERY_TEXT = ("ts_stat", "ts_rewrite", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
                   "cursor_to_xml", "cursor_to_xmlschema")
# They read whole tables, schemas or the database by name, past the parser's table check.
READS_BY_NAME = ("table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema", "schema_to_xml",
                 "schema_to_xmlschema", "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xmlschema",
                 "database_to_xml_and_xmlschema")

# (pattern matching the whole function name, why it is refused); patterns are case-insensitive.
_RULES: tuple[tuple[str, str], ...] = (
    ("|".join(RUNS_QUERY_TEXT), "runs SQL given as text"),
    ("|".join(READS_BY_NAME), "reads tables by name, around the table check"),
    (r"dblink\w*|crosstab\d*|connectby|pgr_\w+", "runs SQL given as text (extension)"),
    (r"set_config|current_setting", "reads or changes session settings, including the role"),
    (r"pg_\w+", "reads files, settings or other sessions, sleeps, locks or signals the server"),
    (r"lo_\w+|loread|lowrite", "reads or writes large objects (server files)"),
    (r"xml\w*", "is an XML function (several run SQL or read whole tables)"),
    (r"nextval|setval|currval|lastval", "uses sequences"),
    (r"txid_\w+", "reveals transaction ids"),
    (r"current_(?!date$|time$|timestamp$)\w+|session_user|user|version|inet_\w+|has_\w+_privilege|to_reg\w+",
     "reveals the server, the session or its privileges"),
    (r"format|quote_\w+|convert_from|convert_to", "builds SQL text or converts encodings"),
    (r"copy|sleep|benchmark|load_file|sys_\w+|unnest_\w*file", "is not an analytics function"),
)
_WHOLE_NAME = [(re.compile(f"(?:{pattern})", re.IGNORECASE), why) for pattern, why in _RULES]
# The same names written as a call inside a string: 'select set_config(...)' handed to a function we missed.
_CALL_IN_TEXT = re.compile(r"\b(" + "|".join(f"(?:{p})" for p, _ in _RULES) + r")\s*\(", re.IGNORECASE)


def refusal(names: Iterable[str]) -> tuple[str, str] | None:
    """(name, why) for the first refused name among a function's names, or None."""
    for name in names:
        for pattern, why in _WHOLE_NAME:
            if pattern.fullmatch(name):
                return name, why
    return None


def call_in_text(text: str) -> str | None:
    """The refused function a string calls, if it reads like SQL calling one."""
    match = _CALL_IN_TEXT.search(text)
    return match.group(1) if match else None
