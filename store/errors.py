"""Errors the store raises for people: each message is one actionable line."""


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
