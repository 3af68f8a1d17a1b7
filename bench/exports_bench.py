"""One organization's chain-of-custody report over a large ledger, as CSV and as EPCIS 2.0.

The ledger: the benchmark chain (``chains.build_chain``: a certified mine, an authorized refiner and
jeweler), a few hundred lots registered and sold by the mine through the services (registration,
first sale with prices and premium, receipt), then the mine's further production appended as
``lot.register`` events through ``append_many``, 1000 a transaction: exactly the bodies
``services.lots.register_lot`` writes, signed by the mine's key and accepted by ``goldtrace verify``
(the lot table is not filled for them; the exports read only the events). So the mine's report, scope
``org:bench-mine``, covers every lot event of the ledger.

Each export runs ``services.exports.export`` to a temporary file in a fresh process, which reports the
seconds and its peak resident memory over what it held before (``VmHWM``); a second, untimed run
under ``tracemalloc`` gives the peak of Python allocations. The baseline is the raw read of the same
rows: a plain DB-API ``SELECT seq, body FROM event`` with ``json.loads`` of every body.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

import chains
from appends import bench_context, prepare_ledger
from goldtrace.db.session import make_engine
from goldtrace.services.exports import export
from goldtrace.services.log import Draft, append_many
from goldtrace.services.lots import new_lot_id
from goldtrace.services.reports import ReportScope
from goldtrace.services.transparency import head
from report import Baseline, Figure
from scratch import Database, Scratch
from sizes import Sizes

SERVICE_LOTS = 200  # registered and sold through the services: 3 events each
TARGET_SECONDS = 10.0
FORMATS = ("csv", "epcis")
BASE_URL = "https://goldtrace.example"


@dataclass(frozen=True)
class Run:
    """One export in a fresh process: events covered, seconds, and memory in bytes."""

    events: int
    seconds: float
    rss_growth: int  # peak resident set size minus the resident size just before the export
    traced_peak: int  # tracemalloc peak of the second run (0 when not traced)
    file_bytes: int


def build(db: Database, events: int, batch: int, say: Callable[[str], None]) -> tuple[str, int]:
    """Fill ``db`` (empty, migrated) to ``events`` events; return the mine's id and the build seconds."""
    start = time.perf_counter()
    prepare_ledger(db, 0)
    engine = make_engine(db.url)
    ctx = bench_context(db)
    try:
        with Session(engine) as s, s.begin():
            chain = chains.build_chain(s, ctx)
        for index in range(SERVICE_LOTS):
            with Session(engine) as s, s.begin():
                chains.sell(s, ctx, chain, chains.register(s, ctx, chain, index))
        with Session(engine) as s:
            size = head(s).size
        index = SERVICE_LOTS
        while size < events:
            n = min(batch, events - size)
            drafts = []
            for _ in range(n):
                lot = {
                    "id": new_lot_id(),
                    "form": "dore",
                    "mass_mg": chains.LOT_MASS_MG,
                    "fineness": chains.LOT_FINENESS,
                    "category": "fairmined",
                    "produced_on": chains.production_day(index).isoformat(),
                }
                drafts.append(Draft(type="lot.register", actor=chain.mine, fields={"lot": lot}))
                index += 1
            with Session(engine) as s, s.begin():
                append_many(s, ctx, drafts)
            size += n
            if size % 20_000 < batch:
                say(f"exports: building the ledger, {size:,}/{events:,} events")
    finally:
        engine.dispose()
    return chain.mine, int(time.perf_counter() - start)


def raw_read_rate(db: Database) -> tuple[float, int]:
    """Rows per second of a plain SELECT of every event body with json.loads; and the row count."""
    conn = db.raw_connect()
    try:
        start = time.perf_counter()
        cursor = conn.cursor()
        cursor.execute("SELECT seq, body FROM event ORDER BY seq")
        count = 0
        while rows := cursor.fetchmany(5000):
            for _seq, body in rows:
                json.loads(body)
            count += len(rows)
        return count / (time.perf_counter() - start), count
    finally:
        conn.close()


def _resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_resident_bytes() -> int:
    """This process's own peak resident size (VmHWM). Not ``ru_maxrss``: Linux carries that across
    the fork and exec that start a spawned child, so it reports the parent's size when larger."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


def export_once(url: str, org: str, fmt: str, out: str, trace: bool) -> Run:
    """Child process: export the organization's report; measure time and memory."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            s.connection()  # connect before measuring: the pool is not the export's memory
            before = _resident_bytes()
            if trace:
                tracemalloc.start()
            start = time.perf_counter()
            events = export(
                s,
                scope=ReportScope(kind="org", key=org),
                fmt=fmt,
                out=Path(out),
                base_url=BASE_URL,
            )
            seconds = time.perf_counter() - start
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            tracemalloc.stop()
    finally:
        engine.dispose()
    return Run(
        events, seconds, max(0, _peak_resident_bytes() - before), peak, Path(out).stat().st_size
    )


def _in_child(url: str, org: str, fmt: str, out: str, trace: bool) -> Run:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(export_once, url, org, fmt, out, trace).result()


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} kB"


def section(
    scratch: Scratch, kind: str, sizes: Sizes, say: Callable[[str], None]
) -> tuple[list[Baseline], list[Figure]]:
    """Build an ``sizes.export_events`` ledger on ``kind``, export the mine's report; return the rows."""
    db = scratch.new(kind, "exports")
    say(f"exports: {kind}, building a {sizes.export_events:,}-event ledger")
    org, build_seconds = build(db, sizes.export_events, sizes.batch, say)
    rates: list[float] = []
    runs: dict[str, tuple[Run, Run]] = {}
    with tempfile.TemporaryDirectory(prefix="goldtrace-exports-") as tmp:
        for fmt in FORMATS:
            out = str(Path(tmp) / f"report.{fmt}")
            rate, rows = raw_read_rate(db)
            rates.append(rate)
            say(f"exports: {kind}, org:{org} as {fmt}")
            timed = _in_child(db.url, org, fmt, out, trace=False)
            traced = _in_child(db.url, org, fmt, out, trace=True)
            runs[fmt] = (timed, traced)
        rate, rows = raw_read_rate(db)
        rates.append(rate)
    scratch.drop(db)
    raw = sorted(rates)[len(rates) // 2]
    key = f"raw-read-{kind[:2]}"
    baseline = Baseline(
        key,
        "SELECT seq, body FROM event + json.loads, plain DB-API",
        kind,
        raw,
        "rows/s",
        f"median of {len(rates)} reads of {rows:,} rows, before and after each export; "
        f"ledger built in {build_seconds} s",
    )
    figures = []
    for fmt, (timed, traced) in runs.items():
        value = timed.events / timed.seconds
        figures.append(
            Figure(
                name=f"export org report as {fmt}, {timed.events:,} events",
                db=kind,
                value=value,
                unit="ev/s",
                baseline=key,
                ratio=value / raw,
                target=f"< {TARGET_SECONDS:g} s",
                met=timed.seconds < TARGET_SECONDS,
                note=f"{timed.seconds:.1f} s; peak RSS +{_mb(timed.rss_growth)}, tracemalloc "
                f"peak {_mb(traced.traced_peak)}; file {_mb(timed.file_bytes)}; "
                f"{rows:,}-event ledger",
            )
        )
    return [baseline], figures
