"""Throwaway PostgreSQL databases for tests: one server per session, one database per need."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg

from store.database import throwaway_embedded


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@contextlib.contextmanager
def test_server() -> Iterator[str]:
    """TEST_DATABASE_URL if set (its role must be allowed to create databases), else an embedded server."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with throwaway_embedded(prefix="levhaolam-test-pg-") as url:
        yield url


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str, template: str | None = None) -> AsyncIterator[str]:
    """A new database, dropped afterwards; a copy of `template` (a database name) if given."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
        await conn.execute(f'CREATE DATABASE "{name}"{clause}')
    try:
        yield with_database(admin_url, name)
    finally:
        async with await psycopg.AsyncConnection.connect(admin_url, autocommit=True) as conn:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
