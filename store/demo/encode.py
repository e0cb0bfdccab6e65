"""Rows to PostgreSQL's binary COPY format, in whichever process generated them.

Binary COPY spares the server parsing text (timestamps above all: half of its load time for the demo data), and
encoding where the rows are made keeps the loading process free to feed the server.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import psycopg
from psycopg import pq

# psycopg's own row formatter (C in psycopg-binary). It is internal API, used because the public per-value route
# (Transformer.dump_sequence plus framing in Python) takes three times as long; psycopg is pinned exactly in
# pyproject.toml and the seed tests load through this path.
from psycopg._copy_base import format_row_binary
from psycopg.adapt import Transformer

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
_TEXT_OID = 25
_BPCHAR_OID = 1042  # char(n): psycopg has no binary dumper for it; its binary form is the text's

# Each column's type, domains resolved to their base type (binary COPY sends the base type's form).
_COLUMN_TYPES = """
SELECT a.attname, CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
"""


async def column_types(conn: psycopg.AsyncConnection, table: str, columns: Sequence[str]) -> list[int]:
    """The type oid of each of `columns` of `table`, as binary COPY needs them."""
    types = {name: oid for name, oid in await (await conn.execute(_COLUMN_TYPES, (table,))).fetchall()}
    return [_TEXT_OID if types[c] == _BPCHAR_OID else types[c] for c in columns]


class Encoder:
    """Encodes rows of known tables; built from picklable type oids so it can live in a worker process."""

    def __init__(self, types: dict[str, list[int]]) -> None:
        self._transformers: dict[str, Transformer] = {}
        for table, oids in types.items():
            transformer = Transformer()
            transformer.set_dumper_types(oids, pq.Format.BINARY)
            self._transformers[table] = transformer

    def encode(self, table: str, rows: Sequence[Sequence]) -> bytearray:
        transformer = self._transformers[table]
        out = bytearray(HEADER)
        for row in rows:
            format_row_binary(row, transformer, out)
        out += TRAILER
        return out

