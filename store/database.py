"""Where the database is and how to reach it: the configured URL, or an embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import platformdirs
import psycopg
from psycopg_pool import AsyncConnectionPool

from schemas.settings import Settings
from store.errors import DatabaseUnavailable, DataDirError, first_line

if TYPE_CHECKING:
    from pgserver import PostgresServer

log = logging.getLogger(__name__)


def redact_url(url: str) -> str:
    """host:port/dbname of a URL, never its password."""
    parts = urlsplit(url)
    host = parts.hostname or "(local socket)"
    port = parts.netloc.rpartition(":")[2] if ":" in parts.netloc.rpartition("@")[2] else ""
    return f"{host}{':' + port if port else ''}{parts.path or ''}"


def pg_data_dir(settings: Settings) -> Path:
    """Where the embedded PostgreSQL keeps its files: LEVHAOLAM_DATA_DIR/pgdata, or the user data folder's."""
    data_dir = settings.data_dir or Path(platformdirs.user_data_dir("levhaolam", appauthor=False))
    return data_dir / "pgdata"


def _embedded_server(pg_data_dir: Path) -> PostgresServer:
    """Start (or join) the embedded PostgreSQL 16 + pgvector in `pg_data_dir`.

    pgserver reference-counts the server across processes: it stops when the last user exits.
    """
    try:
        pg_data_dir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(
            f"cannot create the data directory {pg_data_dir.parent} ({exc.strerror}); "
            "set LEVHAOLAM_DATA_DIR to a writable folder or set DATABASE_URL"
        ) from None
    import pgserver  # imported late: it is only needed when no DATABASE_URL is set

    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its /tmp fallback is fine.
            warnings.simplefilter("ignore")
            server = pgserver.get_server(pg_data_dir, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises plain exceptions with initdb/pg_ctl output
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataDirError(
            f"cannot start the embedded PostgreSQL in {pg_data_dir}: {first_line}; "
            "check the folder's permissions or set DATABASE_URL"
        ) from None
    return server


def start_embedded(pg_data_dir: Path) -> str:
    """The URL of the embedded PostgreSQL in `pg_data_dir`, started if it is not running."""
    return _embedded_server(pg_data_dir).get_uri()


@contextlib.contextmanager
def throwaway_embedded(prefix: str = "levhaolam-") -> Iterator[str]:
    """An embedded PostgreSQL in a new temporary folder, for tests and benchmarks; stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as parent:
        server = _embedded_server(Path(parent) / "pgdata")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def database_url(settings: Settings) -> str:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return start_embedded(pg_data_dir(settings))


async def check_reachable(url: str, timeout_s: int = 5) -> str:
    """Connect once and return the server version, or raise DatabaseUnavailable saying why."""
    try:
        conn = await asyncio.wait_for(
            psycopg.AsyncConnection.connect(url, connect_timeout=timeout_s, autocommit=True), timeout_s + 1
        )
    except (TimeoutError, psycopg.Error, OSError) as exc:
        reason = first_line(exc).removeprefix("connection failed: ")
        raise DatabaseUnavailable(
            f"cannot reach the database at {redact_url(url)}: {reason}; check DATABASE_URL and that the server is up"
        ) from None
    async with conn:
        row = await (await conn.execute("show server_version")).fetchone()
    return str(row[0]) if row else "unknown"


@contextlib.asynccontextmanager
async def open_pool(url: str, *, max_size: int = 10, timeout_s: int = 5, autocommit: bool = False
                    ) -> AsyncIterator[AsyncConnectionPool]:
    """An open async pool; fails fast, with a clear reason, if the database cannot be reached. With `autocommit`
    each statement outside an explicit `conn.transaction()` commits on its own."""
    await check_reachable(url, timeout_s)
    pool = AsyncConnectionPool(url, min_size=1, max_size=max_size, open=False, timeout=timeout_s,
                               kwargs={"connect_timeout": timeout_s, "autocommit": autocommit})
    await pool.open(wait=True, timeout=timeout_s)
    try:
        yield pool
    finally:
        await pool.close()
