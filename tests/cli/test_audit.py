"""`goldtrace audit` against a live server on a fresh database: pass, grow, then one changed leaf."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from builders import TEST_SECRET, register_mines, run_cli
from goldtrace.config import Settings
from goldtrace.db.models import Event
from goldtrace.db.session import make_engine
from goldtrace.services import transparency
from goldtrace.services.context import Context


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``goldtrace serve`` on a free port; return the process and its base URL once it answers."""
    port = free_port()
    env = {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": url,
        "GOLDTRACE_SECRET_KEY": TEST_SECRET,
        "GOLDTRACE_LOG_ORIGIN": "goldtrace.test/log",
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
    raise AssertionError("the server did not start")


@pytest.fixture
def live(fresh_database_url: str) -> Iterator[tuple[str, str]]:
    """(database URL, base URL) of a served demo ledger."""
    url = fresh_database_url
    assert run_cli(url, "init-db").returncode == 0
    demo = run_cli(url, "demo")
    assert demo.returncode == 0, demo.stderr
    proc, base = serve(url)
    try:
        yield url, base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def grow(url: str) -> int:
    """Append events in-process and cut a checkpoint; return its size."""
    settings = Settings(
        database_url=url, secret_key=TEST_SECRET, log_origin="goldtrace.test/log", testing=True
    )
    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            ctx = Context(settings)
            register_mines(session, ctx, 3, prefix="late")
            return transparency.cut_checkpoint(session, ctx).size
    finally:
        engine.dispose()


def test_audit_passes_checks_consistency_then_finds_a_changed_leaf(
    live: tuple[str, str], tmp_path: Path
) -> None:
    url, base = live
    state = tmp_path / "audit-state.json"

    first = run_cli(url, "audit", "--url", base, "--state", str(state))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("ok: ")
    saved = json.loads(state.read_text())
    assert saved["origin"] == "goldtrace.test/log"
    assert saved["vkey"].startswith("goldtrace.test/log+")
    size = saved["size"]
    assert size > 1 and len(bytes.fromhex(saved["root"])) == 32

    new_size = grow(url)
    assert new_size > size
    second = run_cli(url, "audit", "--url", base, "--state", str(state), "--json")
    assert second.returncode == 0, second.stdout + second.stderr
    report = json.loads(second.stdout)
    assert report["ok"] and report["previous_size"] == size
    assert report["checkpoint_size"] == new_size == json.loads(state.read_text())["size"]

    engine = make_engine(url)
    with engine.begin() as conn:
        leaf = conn.execute(Event.__table__.select().where(Event.seq == 5)).one().leaf
        changed = leaf[:20] + bytes([leaf[20] ^ 0x01]) + leaf[21:]
        conn.execute(update(Event).where(Event.seq == 5).values(leaf=changed))
    engine.dispose()
    broken = run_cli(url, "audit", "--url", base, "--state", str(state))
    assert broken.returncode == 1
    assert "first bad seq 5" in broken.stderr
    assert json.loads(state.read_text())["size"] == new_size, "a failed audit keeps the old state"


def test_audit_reports_an_unreachable_server() -> None:
    result = run_cli("sqlite://", "audit", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "goldtrace: GET http://127.0.0.1:" in result.stderr
