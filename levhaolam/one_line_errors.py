"""Running an async command so that every failure a person can cause or fix ends as one line on stderr and exit
code 1, never a traceback. Shared by `levhaolam` and its sub-command groups (e.g. `levhaolam eval`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import psycopg
import typer
from rich.console import Console

from levhaolam import event_loop
from schemas.categories import UnknownCategoryError
from store.errors import StoreError, first_line

T = TypeVar("T")
err = Console(stderr=True)


def one_line_errors(*user_errors: type[Exception]) -> Callable[[Callable[..., Coroutine[Any, Any, T]]],
                                                                Callable[..., T]]:
    """A decorator for async commands: `user_errors` (and store, category and database errors) become one line."""
    expected = (*user_errors, StoreError, UnknownCategoryError)

    def command(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            try:
                return event_loop.run(fn(*args, **kwargs))
            except expected as exc:
                err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None
            except psycopg.Error as exc:
                err.print(f"[bold red]error:[/] database: {first_line(exc)}", highlight=False, soft_wrap=True)
                raise typer.Exit(1) from None

        return wrapper

    return command
