"""Errors the store raises for people: each message is one actionable line."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (libpq adds hints and context below it), or its type."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class StoreError(Exception):
    """Base for failures the CLI reports as one line, without a traceback."""


class DatabaseUnavailable(StoreError):
    pass


class DataDirError(StoreError):
    pass


class MigrationError(StoreError):
    pass


class SeedRefused(StoreError):
    pass
