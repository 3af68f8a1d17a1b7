"""Real goldtrace servers over real databases, for the audit and witness tests.

``serve`` runs ``goldtrace serve`` in a subprocess; ``grow`` appends events and cuts a checkpoint in
process; ``clone_database`` copies a database as it stands, so two servers can share a history up to a
point (same log key, same events) and then diverge.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from builders import TEST_SECRET, register_mines
from goldtrace.config import Settings, sqlite_url
from goldtrace.db.session import make_engine
from goldtrace.services import transparency
from goldtrace.services.context import Context

ORIGIN = "goldtrace.test/log"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``goldtrace serve`` on a free port; return the process and its base URL once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": url,
        "GOLDTRACE_SECRET_KEY": TEST_SECRET,
        "GOLDTRACE_LOG_ORIGIN": ORIGIN,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "goldtrace", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/api/v1/log/key", timeout=2):  # noqa: S310
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    proc.wait(timeout=10)
    raise AssertionError("the server did not start")


@contextmanager
def serving(url: str) -> Iterator[str]:
    """A server over ``url`` for the duration of the block; yields its base URL."""
    proc, base = start_server(url)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def grow(url: str, count: int = 3, prefix: str = "late") -> int:
    """Register ``count`` mines in-process (one event each) and cut a checkpoint; return its size."""
    settings = Settings(database_url=url, secret_key=TEST_SECRET, log_origin=ORIGIN, testing=True)
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            ctx = Context(settings)
            register_mines(session, ctx, count, prefix=prefix)
            return transparency.cut_checkpoint(session, ctx).size
    finally:
        engine.dispose()


@contextmanager
def clone_database(url: str, tmp_path: Path, name: str) -> Iterator[str]:
    """A copy of the database at ``url`` as it stands (nobody may be connected to a PostgreSQL one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None
        target = tmp_path / f"{name}.db"
        with (
            closing(sqlite3.connect(parsed.database)) as source,
            closing(sqlite3.connect(target)) as copy,
        ):
            source.backup(copy)
        yield sqlite_url(target)
        return
    assert parsed.database is not None
    clone = f"{parsed.database}_{name}"[:63]
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(False), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{clone}" TEMPLATE "{parsed.database}"'))
        yield parsed.set(database=clone).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)'))
        admin.dispose()
