"""The append-only action audit log: every executed action and every refused attempt.

The log refuses DELETE, so whatever a caller sends stays forever: a refused call must not be able to grow it by
what it sends. Each argument is stored as it came only while it is small and storable; otherwise as a prefix, its
length and its sha256, which still prove what was sent without keeping it. The same holds for argument names and
for how many arguments there are.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NotRequired, TypedDict, Unpack

import psycopg
from psycopg.types.json import Jsonb

from servers.common.principal import Principal

# Per argument, as compact JSON: the valid arguments of the action tools fit (20 claim items, an address); the
# longest free texts (a 4000-character description) are kept whole in the action's own tables instead.
MAX_ARGUMENT_CHARS = 2000
MAX_RESULT_STRING_CHARS = 4096  # per string of a result: the longest valid text argument (a description) fits
PREFIX_CHARS = 200
MAX_ARGUMENTS = 16  # no tool has more than 8
MAX_TOOL_NAME_CHARS = 200  # the name of a refused call is the caller's too: it may be made up
OTHER_ARGUMENTS = "(other arguments)"  # not a valid argument name, so it cannot collide with one
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# PostgreSQL's jsonb refuses \u0000 and unpaired surrogates: whatever else a prefix holds can be stored.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
# The same in compact JSON, where a NUL is written as the escape \u0000 (a false alarm on a literal backslash
# followed by "u0000" only costs a digest).
_UNSTORABLE_JSON = re.compile(r"[\x00\ud800-\udfff]|\\u0000")

_INSERT = """
INSERT INTO action_audit (caller, scope, server, tool, customer_id, conversation_id, arguments, outcome,
                          error_code, result)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
RETURNING id
"""


def _compact(value: Any) -> str | None:
    """Compact JSON, or None for what JSON (and so jsonb) cannot hold: NaN, a cycle, absurd nesting."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=str)
    except (ValueError, TypeError, RecursionError):
        return None


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except (ValueError, RecursionError):  # an integer too long to print, nesting too deep to walk
        return f"<{type(value).__name__} that cannot be written out>"


def digest(value: Any) -> dict[str, Any]:
    """What stands in for a value too large or not storable: a prefix, the original length and a hash.

    For text the length, prefix and hash are of the text itself; for anything else, of its compact JSON."""
    text = value if isinstance(value, str) else (_compact(value) or _repr(value))
    raw = text.encode("utf-8", "surrogatepass")
    return {"truncated": True, "length": len(text), "sha256": hashlib.sha256(raw).hexdigest(),
            "prefix": _UNSTORABLE.sub("\ufffd", text[:PREFIX_CHARS])}


def bounded(value: Any) -> Any:
    """`value` as plain JSON when it is small and storable, else its digest."""
    text = _compact(value)
    if text is not None and len(text) <= MAX_ARGUMENT_CHARS and _UNSTORABLE_JSON.search(text) is None:
        return json.loads(text)
    return digest(value)


def bounded_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """At most MAX_ARGUMENTS arguments with plain names, each verbatim when small, else its digest; everything
    else together as one digest."""
    kept: dict[str, Any] = {}
    others: dict[str, Any] = {}
    for name, value in arguments.items():
        if len(kept) < MAX_ARGUMENTS and isinstance(name, str) and _PLAIN_NAME.match(name):
            kept[name] = bounded(value)
        else:
            others[str(name)] = value
    if others:
        kept[OTHER_ARGUMENTS] = {"count": len(others), **digest(others)}
    return kept


def bounded_result(value: Any) -> Any:
    """A result with every overlong or unstorable string replaced by its digest (an error message can quote the
    input). Results are built by the server, so their shape is trusted; only their strings are not."""
    if isinstance(value, str):
        return value if len(value) <= MAX_RESULT_STRING_CHARS and not _UNSTORABLE.search(value) else digest(value)
    if isinstance(value, dict):
        return {str(k): bounded_result(v) for k, v in value.items()}
    if isinstance(value, list):
        return [bounded_result(v) for v in value]
    return value


def _tool_name(name: str) -> str:
    return _UNSTORABLE.sub("\ufffd", name[:MAX_TOOL_NAME_CHARS])


def _bigint(value: int | None) -> int | None:
    # An id a caller made up can be any size; the column is bigint, and the id stays in the arguments anyway.
    return value if value is not None and -(2**63) <= value < 2**63 else None


class AuditFields(TypedDict):
    principal: Principal
    server: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    customer_id: NotRequired[int | None]
    error_code: NotRequired[str | None]
    result: NotRequired[dict[str, Any] | None]


async def record(conn: psycopg.AsyncConnection, **fields: Unpack[AuditFields]) -> int:
    """Insert one audit row on `conn` (inside the caller's transaction when there is one); returns its id."""
    cur = await conn.execute(_INSERT, _values(fields))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def append(conn: psycopg.AsyncConnection, **fields: Unpack[AuditFields]) -> None:
    """`record` without reading the id back: in the caller's pipeline the row travels with what follows (its COMMIT),
    not in a round trip of its own."""
    await conn.execute(_INSERT, _values(fields))


def _values(fields: AuditFields) -> tuple[Any, ...]:
    principal, result = fields["principal"], fields.get("result")
    return (principal.subject, principal.scope, fields["server"], _tool_name(fields["tool"]),
            _bigint(fields.get("customer_id")), principal.conversation_id,
            Jsonb(bounded_arguments(fields["arguments"])), fields["outcome"], fields.get("error_code"),
            Jsonb(bounded_result(result)) if result is not None else None)
