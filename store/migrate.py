"""Plain SQL migrations, applied in order, each in its own transaction, recorded in schema_migrations."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from store.errors import MigrationError, first_line

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any constant works; it only has to be the same for every process that migrates this database.
_ADVISORY_LOCK_ID = 7_314_159_265


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class MigrationState:
    migration: Migration
    applied_at: datetime | None


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} must be named NNNN_lower_snake_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations share version {version:04d}: {found[version].label} and {path.stem}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


async def _applied(conn: psycopg.AsyncConnection) -> dict[int, tuple[str, str, datetime]]:
    cur = await conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations")
    return {row[0]: (row[1], row[2], row[3]) for row in await cur.fetchall()}


def _check_unchanged(migrations: list[Migration], applied: dict[int, tuple[str, str, datetime]]) -> None:
    for migration in migrations:
        if migration.version in applied and applied[migration.version][1] != migration.checksum:
            raise MigrationError(
                f"migration {migration.label} was edited after it was applied to this database; "
                "add a new migration instead of changing an applied one"
            )


async def migrate(conn: psycopg.AsyncConnection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply the migrations not yet applied; return them. Safe to run concurrently and repeatedly.

    `conn` must be in autocommit mode: each migration gets its own transaction, so a failure
    rolls back that migration whole and leaves the earlier ones applied.
    """
    migrations = discover() if migrations is None else migrations
    # Lock before anything else: even CREATE TABLE IF NOT EXISTS races between two migrators.
    await conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_ID,))
    try:
        await conn.execute(_CREATE_TABLE)
        applied = await _applied(conn)
        _check_unchanged(migrations, applied)
        done: list[Migration] = []
        for migration in migrations:
            if migration.version in applied:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())  # bytes: run as a script, no placeholders
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
            except psycopg.Error as exc:
                raise MigrationError(
                    f"migration {migration.label} failed and was rolled back whole: {first_line(exc)}"
                ) from None
            done.append(migration)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_ID,))


async def status(conn: psycopg.AsyncConnection, migrations: list[Migration] | None = None) -> list[MigrationState]:
    migrations = discover() if migrations is None else migrations
    exists = await (await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")).fetchone()
    applied = await _applied(conn) if exists and exists[0] else {}
    _check_unchanged(migrations, applied)
    return [MigrationState(m, applied[m.version][2] if m.version in applied else None) for m in migrations]
