"""A seed worker process: `python -m store.demo.worker`, driven by the loader over its stdin and stdout.

A separate interpreter started by module name rather than multiprocessing's spawn, which re-runs the parent's
main script: a script without an `if __name__ == "__main__"` guard would seed itself recursively.
"""

from __future__ import annotations

import os
import sys
import traceback
from multiprocessing.connection import Connection

from store.demo.maker import ShardMaker


def serve(inbox: Connection, outbox: Connection) -> None:
    """Answer (method, args) calls on a ShardMaker, built from the first message, until told to stop (None)."""
    config, types = inbox.recv()
    maker = ShardMaker(config, types)
    while (message := inbox.recv()) is not None:
        method, args = message
        try:
            outbox.send(("ok", getattr(maker, method)(*args)))
        except Exception:  # the loader re-raises it, with this traceback, in its own process
            outbox.send(("error", traceback.format_exc()))


def main() -> None:
    # The protocol owns the original stdout; anything else printed goes to stderr.
    protocol_out = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(Connection(os.dup(sys.stdin.fileno()), writable=False), Connection(protocol_out, readable=False))


if __name__ == "__main__":
    main()


