"""The public verification page ``/v/<id>`` under load: gunicorn on loopback, a closed-loop load
generator, and a static file served by the same server and loaded the same way as the baseline.

gunicorn runs the real application factory (``goldtrace.webapp:create_app()``) configured from
``GOLDTRACE_*`` variables exactly as in production, with ``WORKERS`` processes of ``THREADS`` threads
(gthread). The load generator is ``CONNECTIONS`` Python threads in this process, each with one
keep-alive ``http.client`` connection, sending the next request as soon as the answer is read; every
latency is measured from sending the request to reading the whole answer. The generator shares the
machine's cores with the server, so both figures pay for it alike; the static file (Flask's static
route, through the same workers) shows what the server and the generator reach when the page costs
nothing.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

import bundle_bench
import timing
from appends import BENCH_SECRET, bench_context
from eventrows import BENCH_ORIGIN
from goldtrace.db.session import make_engine
from goldtrace.services import certificates
from report import Baseline, Figure
from scratch import Database, Scratch
from sizes import Sizes

WORKERS = 2
THREADS = 2
CONNECTIONS = 4
STATIC_PATH = "/static/goldtrace.css"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """gunicorn serving the application on ``db``, on a free loopback port, until ``close``."""

    def __init__(self, db: Database) -> None:
        self.port = _free_port()
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "goldtrace.webapp:create_app()",
        ]
        env = {
            **os.environ,
            "GOLDTRACE_DATABASE_URL": db.url,
            "GOLDTRACE_SECRET_KEY": BENCH_SECRET,
            "GOLDTRACE_LOG_ORIGIN": BENCH_ORIGIN,
            "GOLDTRACE_BASE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.process = subprocess.Popen(self.command, cwd=PROJECT_ROOT, env=env)
        self._wait_ready()

    def _wait_ready(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", STATIC_PATH)
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.close()
        raise RuntimeError("gunicorn did not answer within 30 s")

    def close(self) -> None:
        """Stop gunicorn (its arbiter stops the workers) and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class Load:
    """One window of load on one path: requests per second and each request's seconds."""

    rate: float
    latencies: list[float]


def load(port: int, path: str, seconds: float, *, connections: int = CONNECTIONS) -> Load:
    """Keep ``connections`` keep-alive connections busy with ``GET path`` for ``seconds``.

    RuntimeError if any answer is not 200 (a figure of error pages would be meaningless)."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    problems: list[str] = []
    start_line = threading.Barrier(connections + 1)
    stop = threading.Event()

    def client(mine: list[float]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            start_line.wait()
            while not stop.is_set():
                began = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                mine.append(time.perf_counter() - began)
                if response.status != 200:
                    problems.append(f"GET {path}: {response.status}")
                    return
        except OSError as exc:
            problems.append(f"GET {path}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if problems:
        raise RuntimeError(problems[0])
    flat = [t for mine in latencies for t in mine]
    return Load(len(flat) / elapsed, flat)


@dataclass
class PageTimes:
    """Every window of load on the page and on the static file; uncached builds of the view, and
    50 raw Ed25519 verifications timed between them."""

    page: list[Load]
    static: list[Load]
    build: list[float]
    raw: list[float]


def measure(db: Database, cert_id: str, *, rounds: int, window: float) -> PageTimes:
    """Serve ``db`` with gunicorn; alternate windows of load on the static file and on the page."""
    server = Server(db)
    times = PageTimes([], [], [], [])
    page = f"/v/{cert_id}"
    try:
        load(server.port, page, 1.0)  # warm: each worker fills its cache, templates compile
        load(server.port, STATIC_PATH, 0.5)
        for _ in range(rounds):
            times.static.append(load(server.port, STATIC_PATH, window))
            times.page.append(load(server.port, page, window))
    finally:
        server.close()
    _uncached_builds(db, cert_id, times)
    return times


def _uncached_builds(db: Database, cert_id: str, times: PageTimes, samples: int = 20) -> None:
    """Time building the view without the cache (assemble and verify the whole bundle), each
    beside 50 raw Ed25519 verifications."""
    engine = make_engine(db.url)
    ctx = bench_context(db)
    raw = bundle_bench.raw_verifier(50)

    def build() -> None:
        with Session(engine) as s:
            certificates.public_view(s, ctx, cert_id)

    try:
        build()
        for _ in range(samples):
            times.raw.append(timing.timed(raw)[1])
            times.build.append(timing.timed(build)[1])
    finally:
        engine.dispose()


def summary(loads: list[Load]) -> tuple[float, float, float, int]:
    """Median rate over the windows, p50 and p99 latency (ms) over all requests, request count."""
    flat = [t for window in loads for t in window.latencies]
    return (
        timing.median([window.rate for window in loads]),
        timing.percentile(flat, 0.50) * 1000,
        timing.percentile(flat, 0.99) * 1000,
        len(flat),
    )


TARGET_PAGE_RATE = 300.0
TARGET_PAGE_P99_MS = 50.0


def section(
    scratch: Scratch, sizes: Sizes, kind: str, say: Callable[[str], None]
) -> tuple[list[Baseline], list[Figure]]:
    """The ``page`` section on ``kind``: a certified 50-ancestor-event piece (bundle_bench.build),
    its page under load beside the static file, and the uncached build of its view."""
    db = scratch.new(kind, "page")
    try:
        say(f"page: {kind}, certifying a piece")
        piece = bundle_bench.build(db)
        say(
            f"page: {kind}, gunicorn -w {WORKERS} --threads {THREADS}, {CONNECTIONS} connections,"
            f" {sizes.rounds} rounds of {sizes.page_window:g} s per path"
        )
        times = measure(db, piece.cert_id, rounds=sizes.rounds, window=sizes.page_window)
    finally:
        scratch.drop(db)
    setup = f"gunicorn -w {WORKERS} --threads {THREADS}; {CONNECTIONS} keep-alive connections"
    rate, p50, p99, count = summary(times.static)
    key, p99_key, sigs_key = (f"{name}-{kind[:2]}" for name in ("static", "static-p99", "sigs-50"))
    baselines = [
        Baseline(
            key,
            f"GET {STATIC_PATH} ({setup})",
            kind,
            rate,
            "req/s",
            f"p50 {p50:.1f} ms; {count:,} requests in {len(times.static)} windows alternating"
            " with the page",
        ),
        Baseline(p99_key, f"GET {STATIC_PATH}, p99 latency", kind, p99, "ms", "same windows"),
        Baseline(
            sigs_key,
            "Ed25519 verify x 50 keys (libsodium), 1 core",
            kind,
            timing.median(times.raw) * 1000,
            "ms",
            "measured beside the uncached builds",
        ),
    ]
    rate_page, p50_page, p99_page, count_page = summary(times.page)
    build_ms = timing.median(times.build) * 1000
    figures = [
        Figure(
            name="GET /v/<id>, piece with 50 ancestor events",
            db=kind,
            value=rate_page,
            unit="req/s",
            baseline=key,
            ratio=rate_page / rate,
            target=f">= {TARGET_PAGE_RATE:g} req/s",
            met=rate_page >= TARGET_PAGE_RATE,
            note=f"median of {len(times.page)} windows; {count_page:,} requests; the load "
            "generator runs on the same cores",
        ),
        Figure(
            name="GET /v/<id>, p99 latency",
            db=kind,
            value=p99_page,
            unit="ms",
            baseline=p99_key,
            ratio=p99_page / p99,
            target=f"< {TARGET_PAGE_P99_MS:g} ms",
            met=p99_page < TARGET_PAGE_P99_MS,
            note=f"p50 {p50_page:.1f} ms",
        ),
        Figure(
            name="public view built without the cache",
            db=kind,
            value=build_ms,
            unit="ms",
            baseline=sigs_key,
            ratio=build_ms / (timing.median(times.raw) * 1000),
            target="",
            met=None,
            note=f"diagnostic: what a cache miss costs (bundle assembled and verified); median of"
            f" {len(times.build)}, in-process",
        ),
    ]
    return baselines, figures
