"""goldtrace benchmarks: ``make bench`` (full, 7-8 minutes on 2 cores) or ``bench/run.py --quick`` (~1.5 min).

Every figure is printed beside a physical baseline measured in the same run (raw DB-API inserts of rows
of the same size, Ed25519 and SHA-256 on one core, a raw primary-key lookup, the bare ledger append) and
as a ratio to it, so that figures from a shared, noisy machine can still be compared across runs and
machines.

Sections (``--only``): single (one event per transaction, 1 and N writers), batch (append_many), verify
(full verification of the batch ledger), proofs (inclusion and consistency at 1M entries), api (a
seven-request register..manufacture cycle through the WSGI app in-process, beside append_many of one
event per transaction), provenance (``provenance()`` of two pieces with 100 ancestor lots each in a
100,000-event ledger), bundle (offline verification of a certificate bundle of a piece with 50
ancestor events, no database), page (``/v/<id>`` served by gunicorn under loopback load, beside a static
file), exports (one organization's 100,000-event report as CSV and EPCIS, beside a raw read of the
rows), audit (``goldtrace audit`` of a 100,000-event ledger served by gunicorn, beside Ed25519 verify x
cores). The Ed25519 and SHA-256 baselines always run. Databases (``--db``): a temporary
SQLite file, and a scratch PostgreSQL database (``--pg-url`` names the admin database; skipped with a
note if unreachable).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cryptography
import sqlalchemy

from report import render, to_json
from scratch import DEFAULT_PG_ADMIN_URL, POSTGRES, SQLITE, Scratch
from sizes import FULL, QUICK
from suite import Suite

SECTIONS = (
    "single",
    "batch",
    "verify",
    "proofs",
    "api",
    "provenance",
    "bundle",
    "page",
    "exports",
    "audit",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one round (< 2 minutes)")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run: {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--db", choices=("sqlite", "postgresql", "both"), default="both", help="databases to use"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply the ledger and log sizes (default 1: 50,000 events, 1,000,000 entries and the "
        "100,000-event provenance ledger)",
    )
    parser.add_argument("--writers", type=int, help="concurrent writer processes (default 8)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("GOLDTRACE_BENCH_PG_URL", DEFAULT_PG_ADMIN_URL),
        help="PostgreSQL admin database to create scratch databases from "
        "(default $GOLDTRACE_BENCH_PG_URL or %(default)s)",
    )
    parser.add_argument("--json", type=Path, help="also write every measurement to this JSON file")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {SECTIONS}")
    args.sections = only
    return args


def cpu_model() -> str:
    """Return the processor's model name (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_pressure() -> str:
    """Return the share of the last minute some task waited for a CPU (Linux PSI), or "" if unknown."""
    try:
        line = Path("/proc/pressure/cpu").read_text(encoding="ascii").splitlines()[0]
    except (OSError, IndexError):
        return ""
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return f"{fields.get('avg60', '?')}%"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = (QUICK if args.quick else FULL).scaled(args.scale)
    if args.writers:
        sizes = dataclasses.replace(sizes, writers=args.writers)
    kinds = [SQLITE, POSTGRES] if args.db == "both" else [args.db]
    scratch = Scratch(args.pg_url if POSTGRES in kinds else None)
    notes: list[str] = []
    if POSTGRES in kinds and not scratch.has_postgres:
        notes.append(f"PostgreSQL skipped: {args.pg_url} unreachable ({scratch.pg_problem})")
        kinds.remove(POSTGRES)
        say(notes[-1])
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "cores": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "cryptography": cryptography.__version__,
    }
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    pressure_before = cpu_pressure()
    suite = Suite(sizes, scratch, say)
    try:
        if POSTGRES in kinds:
            meta["postgresql"] = scratch.server_version(POSTGRES)
        suite.crypto()
        suite.step_costs()
        if "bundle" in args.sections:
            suite.bundle()
        for kind in kinds:
            if "single" in args.sections:
                suite.single(kind)
            if args.sections & {"batch", "verify"}:
                suite.batch_and_verify(kind, verify="verify" in args.sections)
            if "proofs" in args.sections:
                suite.proofs(kind)
            if "api" in args.sections:
                suite.api_cycle(kind)
            if "provenance" in args.sections:
                suite.provenance(kind)
            if "page" in args.sections:
                suite.page(kind)
            if "exports" in args.sections:
                suite.exports(kind)
            if "audit" in args.sections:
                suite.audit(kind)
    finally:
        scratch.close()
    meta["duration"] = f"{time.perf_counter() - started:.0f} s"
    # Other tenants' load shows up here: figures from a run at load >> cores are pessimistic.
    meta["load"] = f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end (1-min average)"
    if pressure_before:
        meta["load"] += f"; CPU pressure {pressure_before} at start, {cpu_pressure()} at end"
    print(
        f"goldtrace benchmarks, {meta['date']}: {meta['cores']} x {meta['cpu']}, Python {meta['python']}, "
        f"SQLite {meta['sqlite']}, PostgreSQL {meta.get('postgresql', 'not used')}"
    )
    print(f"command: {meta['command']} ({meta['duration']}); machine load {meta['load']}")
    print()
    print(render(suite.baselines, suite.figures, suite.costs))
    for note in notes:
        print(f"note: {note}")
    if args.json:
        args.json.write_text(
            to_json(suite.baselines, suite.figures, suite.costs, meta) + "\n", encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
