"""``goldtrace audit`` of a live server: a verifiable ledger served by gunicorn, mirrored and checked.

The ledger is ``ledgers.ValidLedger`` (organization registrations and key rotations through
``append_many``, every event signed and verifiable) with a checkpoint at its full size. It is served by
``gunicorn`` (one worker, as ``docs/operations.md`` runs it, on 127.0.0.1) in a subprocess, and
``goldtrace.audit.audit`` reads it through the public endpoints only, with a state file from an earlier
audit at half the size so that the consistency proof is part of the run. The figure is events per
second beside the raw Ed25519 verify rate times the cores, measured just before and after; a
diagnostic gives the rate of only downloading the pages the audit reads, another the rate of fetching
events one request each, as the audit did before ``/events?start=&end=``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import baselines as base
from appends import BENCH_SECRET
from eventrows import BENCH_ORIGIN
from goldtrace import audit
from ledgers import ValidLedger
from report import Baseline, Figure
from scratch import Database, Scratch
from sizes import Sizes

CHUNK = 10_000
SINGLE_REQUESTS = 1000


def start_server(db: Database) -> tuple[subprocess.Popen[bytes], str]:
    """Serve ``db`` with gunicorn on a free port; return the process and its base URL once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": db.url,
        "GOLDTRACE_SECRET_KEY": BENCH_SECRET,
        "GOLDTRACE_LOG_ORIGIN": BENCH_ORIGIN,
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*command, "goldtrace.webapp:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/v1/log/checkpoint", timeout=5):  # noqa: S310
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    proc.wait(timeout=10)
    raise RuntimeError("gunicorn did not start")


def _grow(ledger: ValidLedger, size: int, kind: str, say: Callable[[str], None]) -> None:
    current = ledger.size()
    while current < size:
        n = min(CHUNK, size - current)
        say(f"audit: {kind}, building the ledger, {current + n:,}/{size:,} events")
        ledger.extend(n)
        current += n
    ledger.checkpoint()


def _download_only(url: str) -> int:
    """Read every page the audit reads, checking nothing; return the number of events."""
    return sum(len(page.leaves) for page in audit.pages(url))


def _one_by_one(url: str, count: int) -> float:
    """Seconds per event of ``GET /events/<seq>``, one request each (the audit's former way)."""
    start = time.perf_counter()
    for seq in range(count):
        audit.fetch(url, f"/api/v1/events/{seq}")
    return (time.perf_counter() - start) / count


def section(
    scratch: Scratch, kind: str, sizes: Sizes, cores: int, say: Callable[[str], None]
) -> tuple[list[Baseline], list[Figure]]:
    """Build, serve and audit an ``sizes.audit_events`` ledger on ``kind``; return the rows."""
    events = sizes.audit_events
    db = scratch.new(kind, "audit")
    ledger = ValidLedger(db, orgs=sizes.orgs, batch=sizes.batch)
    with tempfile.TemporaryDirectory(prefix="goldtrace-audit-") as tmp:
        state = Path(tmp) / "audit-state.json"
        try:
            _grow(ledger, events // 2, kind, say)
            proc, url = start_server(db)
            try:
                first = audit.audit(url, state, workers=cores)
                if not first.ok:
                    raise RuntimeError(f"the half-size audit failed: {first.as_json()}")
                _grow(ledger, events, kind, say)
                say(f"audit: {kind}, auditing {events:,} events with {cores} workers")
                before = base.ed25519_verify_rate(sizes.crypto_seconds)
                start = time.perf_counter()
                report = audit.audit(url, state, workers=cores)
                elapsed = time.perf_counter() - start
                after = base.ed25519_verify_rate(sizes.crypto_seconds)
                start = time.perf_counter()
                downloaded = _download_only(url)
                download_seconds = time.perf_counter() - start
                single = _one_by_one(url, SINGLE_REQUESTS)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
        finally:
            ledger.close()
    scratch.drop(db)
    if not report.ok or report.log_size != events or report.previous_size != events // 2:
        raise RuntimeError(f"the benchmark audit failed: {report.as_json()}")
    capacity = (before + after) / 2 * cores
    key = f"audit-verify-x{cores}-{kind[:2]}"
    baseline = Baseline(
        key,
        f"Ed25519 verify x {cores} cores",
        kind,
        capacity,
        "sig/s",
        "1-core rate measured just before and after the audit",
    )
    value = events / elapsed
    figures = [
        Figure(
            name=f"goldtrace audit of a live server, {events:,} events",
            db=kind,
            value=value,
            unit="ev/s",
            baseline=key,
            ratio=value / capacity,
            target="",
            met=None,
            note=f"{elapsed:.1f} s, {report.signatures:,} signatures, consistent with "
            f"{report.previous_size:,}; gunicorn, 1 worker, on this machine",
        ),
        Figure(
            name=f"download only: /log/entries + /events pages, {downloaded:,} events",
            db=kind,
            value=downloaded / download_seconds,
            unit="ev/s",
            baseline=key,
            ratio=downloaded / download_seconds / capacity,
            target="",
            met=None,
            note=f"diagnostic: {download_seconds:.1f} s, 1000 events a request, checks nothing",
        ),
        Figure(
            name=f"download one by one: GET /events/<seq>, first {SINGLE_REQUESTS:,} events",
            db=kind,
            value=1 / single,
            unit="ev/s",
            baseline=key,
            ratio=1 / single / capacity,
            target="",
            met=None,
            note=f"diagnostic: {single * 1000:.2f} ms a request, {single * events:.0f} s for "
            f"{events:,} events (the audit before the batch endpoint)",
        ),
    ]
    return [baseline], figures
