"""The benchmark sections: each measures its goldtrace figures and, right beside them, their baselines.

Baselines and figures alternate in rounds (baseline, figure, baseline, figure, ...) and the medians are
compared, so a neighbour's burst of load on this shared machine hits both sides of a ratio alike.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable

import audit_bench
import baselines as base
import bundle_bench
import costs
import cycles
import exports_bench
import page_bench
import pieces
import proofs
import timing
from appends import AppendSpec, prepare_ledger, single_append_op
from baselines import SEQ_STRIDE, RawBatch, RawSpec, raw_insert_op
from ledgers import ValidLedger
from parallel import OpFactory, WriterPool, run_here
from report import Baseline, Cost, Figure
from scratch import POSTGRES, Scratch
from sizes import Sizes

TARGET_BATCH_RATE = 10_000.0
TARGET_CONCURRENT_RATIO = 0.50
TARGET_VERIFY_RATIO = 0.80
TARGET_PROOF_MS = 5.0
TARGET_PROVENANCE_MS = 20.0


class Suite:
    """Runs sections on scratch databases and collects baselines and figures."""

    def __init__(self, sizes: Sizes, scratch: Scratch, say: Callable[[str], None]) -> None:
        self.sizes = sizes
        self.scratch = scratch
        self.say = say
        self.cores = os.cpu_count() or 1
        self.baselines: list[Baseline] = []
        self.figures: list[Figure] = []
        self.costs: list[Cost] = []
        self._seq_base = 0
        self._log: proofs.SyntheticLog | None = None
        self._rng = random.Random(6962)

    def _fresh_seqs(self) -> int:
        # Each raw run writes its own seq range, so raw runs never collide in one database.
        self._seq_base += 64 * SEQ_STRIDE
        return self._seq_base

    def _baseline(
        self, key: str, name: str, db: str, value: float, unit: str, note: str = ""
    ) -> None:
        self.baselines.append(Baseline(key, name, db, value, unit, note))

    def _rounds_note(self, values: list[float]) -> str:
        if len(values) < 2:
            return ""
        return f"median of {len(values)} rounds, spread {timing.spread(values):.0%}"

    # -- crypto and hashing ------------------------------------------------------------------------

    def crypto(self) -> None:
        """Ed25519 sign/verify and SHA-256 on one core; the core count."""
        self.say("baselines: Ed25519 and SHA-256 on one core")
        seconds = self.sizes.crypto_seconds
        signs, openssl_signs, verifies, openssl_verifies, shas = [], [], [], [], []
        for _ in range(self.sizes.rounds):
            signs.append(base.ed25519_sign_rate(seconds))
            openssl_signs.append(base.ed25519_openssl_sign_rate(seconds))
            verifies.append(base.ed25519_verify_rate(seconds))
            openssl_verifies.append(base.ed25519_openssl_verify_rate(seconds))
            shas.append(base.sha256_rate(seconds))
        self._baseline(
            "sign",
            "Ed25519 sign, 1 core",
            "-",
            timing.median(signs),
            "sig/s",
            "libsodium, as sign_event",
        )
        self._baseline(
            "sign-openssl",
            "Ed25519 sign with OpenSSL, 1 core",
            "-",
            timing.median(openssl_signs),
            "sig/s",
            "diagnostic: cryptography; what goldtrace signed with before",
        )
        self._baseline(
            "verify",
            "Ed25519 verify, 1 core",
            "-",
            timing.median(verifies),
            "sig/s",
            "libsodium, as verify_event_signature",
        )
        self._baseline(
            "verify-openssl",
            "Ed25519 verify with OpenSSL, 1 core",
            "-",
            timing.median(openssl_verifies),
            "sig/s",
            "diagnostic: cryptography, key loaded; what goldtrace verified with before",
        )
        self._baseline("sha256", "SHA-256 of 300 B, 1 core", "-", timing.median(shas), "hash/s")
        self._baseline("cores", "cores (os.cpu_count)", "-", float(self.cores), "x")

    def step_costs(self) -> None:
        """Microseconds per event of each step of the append and verify paths."""
        self.say("per-event step costs")
        self.costs = [Cost(*row) for row in costs.measure(self.sizes.crypto_seconds)]

    # -- single-event appends ----------------------------------------------------------------------

    def single(self, kind: str) -> None:
        """One event per transaction: 1 writer, and ``writers`` processes on PostgreSQL."""
        sizes = self.sizes
        raw_db = self.scratch.new(kind, "raw")
        app_db = self.scratch.new(kind, "append")
        orgs = prepare_ledger(app_db, sizes.writers)
        counts = [1, sizes.writers] if kind == POSTGRES else [1]
        for writers in counts:
            self.say(f"single appends: {kind}, {writers} writer(s), {sizes.rounds} rounds")
            pool = WriterPool(writers) if writers > 1 else None
            raw: list[float] = []
            locked: list[float] = []
            early: list[float] = []
            app: list[float] = []
            try:
                for _ in range(sizes.rounds):
                    spec = RawSpec(raw_db, self._fresh_seqs())
                    raw.append(self._window(pool, raw_insert_op, spec))
                    if pool is not None:
                        spec = RawSpec(raw_db, self._fresh_seqs(), lock_head=True)
                        locked.append(self._window(pool, raw_insert_op, spec))
                        spec = RawSpec(
                            raw_db, self._fresh_seqs(), lock_head=True, release_early=True
                        )
                        early.append(self._window(pool, raw_insert_op, spec))
                    app.append(self._window(pool, single_append_op, AppendSpec(app_db, orgs)))
            finally:
                if pool is not None:
                    pool.close()
            self._single_rows(kind, writers, raw, locked, early, app)
        self.scratch.drop(raw_db)
        self.scratch.drop(app_db)

    def _window(self, pool: WriterPool | None, factory: OpFactory, arg: object) -> float:
        if pool is None:
            return run_here(factory, arg, self.sizes.window).rate
        return pool.run(factory, arg, self.sizes.window).rate

    def _single_rows(
        self,
        kind: str,
        writers: int,
        raw: list[float],
        locked: list[float],
        early: list[float],
        app: list[float],
    ) -> None:
        key = f"raw-commit-{writers}w-{kind[:2]}"
        self._baseline(
            key,
            f"raw insert, 1 row/commit, {writers} writer(s)",
            kind,
            timing.median(raw),
            "tx/s",
            self._rounds_note(raw),
        )
        diagnostics = (
            ("locked", "", locked, "ceiling of one head row locked through each flush"),
            ("early", ", released early", early, "ceiling of the design appends use"),
        )
        for name, how, rates, meaning in diagnostics:
            if rates:
                self._baseline(
                    f"raw-{name}-{writers}w-{kind[:2]}",
                    f"raw insert + head row lock{how}, 1 row/commit, {writers} writers",
                    kind,
                    timing.median(rates),
                    "tx/s",
                    "; ".join(filter(None, [f"diagnostic: {meaning}", self._rounds_note(rates)])),
                )
        value = timing.median(app)
        ratio = value / timing.median(raw)
        concurrent = writers > 1
        ceiling = ""
        if early:
            ceiling = f"{value / timing.median(early):.2f}x `raw-early-{writers}w-{kind[:2]}`"
        self.figures.append(
            Figure(
                name=f"append, 1 event/tx, {writers} writer(s)",
                db=kind,
                value=value,
                unit="ev/s",
                baseline=key,
                ratio=ratio,
                target=f">= {TARGET_CONCURRENT_RATIO:.2f}x raw" if concurrent else "",
                met=ratio >= TARGET_CONCURRENT_RATIO if concurrent else None,
                note="; ".join(filter(None, [self._rounds_note(app), ceiling])),
            )
        )

    # -- batched appends and full verification ---------------------------------------------------

    def batch_and_verify(self, kind: str, *, verify: bool) -> None:
        """Grow a verifiable ledger with append_many (alternating with raw batches), then verify it."""
        sizes = self.sizes
        raw_db = self.scratch.new(kind, "rawbatch")
        ledger_db = self.scratch.new(kind, "ledger")
        raw = RawBatch(raw_db, self._fresh_seqs(), sizes.batch)
        ledger = ValidLedger(ledger_db, orgs=sizes.orgs, batch=sizes.batch)
        try:
            raw()  # warm-up
            app_seconds = raw_seconds = 0.0
            appended = raw_rows = 0
            target_size = sizes.verify_events
            size = ledger.size()
            halfway = False
            while size < target_size:
                n = min(sizes.chunk, target_size - size)
                self.say(f"append_many: {kind}, {size + n:,}/{target_size:,} events")
                app_seconds += ledger.extend(n)
                appended += n
                size += n
                if not halfway and size >= target_size // 2:
                    ledger.checkpoint()
                    halfway = True
                for _ in range(math.ceil(n / sizes.batch)):
                    raw_seconds += timing.timed(raw)[1]
                    raw_rows += sizes.batch
            ledger.checkpoint()
            raw_rate = raw_rows / raw_seconds
            key = f"raw-batch-{kind[:2]}"
            self._baseline(
                key,
                f"raw insert, executemany {sizes.batch} rows/tx",
                kind,
                raw_rate,
                "rows/s",
                f"{raw_rows:,} rows, interleaved with the figure",
            )
            value = appended / app_seconds
            sign = next((b.value for b in self.baselines if b.key == "sign"), None)
            ceiling = ""
            if sign:
                serial = 1 / (1 / sign + 1 / raw_rate)
                ceiling = f"; 1-core ceiling sign+raw row {serial:,.0f} ev/s"
            self.figures.append(
                Figure(
                    name=f"append_many, {sizes.batch} events/tx",
                    db=kind,
                    value=value,
                    unit="ev/s",
                    baseline=key,
                    ratio=value / raw_rate,
                    target=f">= {TARGET_BATCH_RATE:,.0f} ev/s",
                    met=value >= TARGET_BATCH_RATE,
                    note=f"{appended:,} valid events{ceiling}",
                )
            )
            if verify:
                self._verify(kind, ledger, size)
        finally:
            raw.close()
            ledger.close()
        self.scratch.drop(raw_db)
        self.scratch.drop(ledger_db)

    def _verify(self, kind: str, ledger: ValidLedger, size: int) -> None:
        self.say(f"verify_ledger: {kind}, {size:,} events, workers={self.cores}")
        seconds = self.sizes.crypto_seconds
        before = base.ed25519_verify_rate(seconds)
        report, elapsed = ledger.verify(workers=self.cores)
        after = base.ed25519_verify_rate(seconds)
        together = base.ed25519_parallel_verify_rate(seconds, self.cores)
        if not report.ok or report.size != size or report.checkpoints < 1:
            raise RuntimeError(f"verification of the benchmark ledger failed: {report.as_json()}")
        capacity = (before + after) / 2 * self.cores
        key = f"verify-x{self.cores}-{kind[:2]}"
        self._baseline(
            key,
            f"Ed25519 verify x {self.cores} cores",
            kind,
            capacity,
            "sig/s",
            "1-core rate measured just before and after the figure",
        )
        together_key = f"verify-par-{kind[:2]}"
        self._baseline(
            together_key,
            f"Ed25519 verify, {self.cores} processes at once",
            kind,
            together,
            "sig/s",
            "diagnostic: what the cores deliver together, measured just after the figure",
        )
        value = size / elapsed
        ratio = value / capacity
        openssl = next((b.value for b in self.baselines if b.key == "verify-openssl"), None)
        openssl_note = (
            f"; {value / (openssl * self.cores):.2f}x `verify-openssl` x {self.cores}"
            if openssl
            else ""
        )
        self.figures.append(
            Figure(
                name=f"verify_ledger, {size:,} events",
                db=kind,
                value=value,
                unit="ev/s",
                baseline=key,
                ratio=ratio,
                target=f">= {TARGET_VERIFY_RATIO:.2f}x verify x cores",
                met=ratio >= TARGET_VERIFY_RATIO,
                note=f"{elapsed:.1f} s, {report.signatures:,} signatures, "
                f"{report.checkpoints} checkpoints, ok; {value / together:.2f}x `{together_key}`"
                f"{openssl_note}",
            )
        )

    # -- proofs --------------------------------------------------------------------------------

    def _synthetic_log(self) -> proofs.SyntheticLog:
        if self._log is None:
            entries = self.sizes.proof_entries
            self.say(f"proofs: hashing a {entries:,}-entry log in memory")
            sizes = self._rng.sample(range(1, entries), self.sizes.proof_samples)
            log, seconds = timing.timed(lambda: proofs.build_log(entries, sizes))
            self._log = log
            value = entries / seconds
            sha = next((b.value for b in self.baselines if b.key == "sha256"), None)
            self.figures.append(
                Figure(
                    name=f"leaf_hash + merkle.append, {entries:,} entries in memory",
                    db="-",
                    value=value,
                    unit="entries/s",
                    baseline="sha256" if sha else "",
                    ratio=value / sha if sha else None,
                    target="",
                    met=None,
                    note="about 2 SHA-256 per entry (leaf + one node on average): ceiling ~0.5x",
                )
            )
        return self._log

    def proofs(self, kind: str) -> None:
        """Inclusion and consistency proofs at the full log size, per request."""
        log = self._synthetic_log()
        db = self.scratch.new(kind, "proofs")
        self.say(f"proofs: loading {len(log.nodes):,} nodes into {kind}")
        start = time.perf_counter()
        proofs.load(db, log)
        load_seconds = time.perf_counter() - start
        self.say(f"proofs: {kind}, {self.sizes.proof_samples} of each kind")
        times = proofs.measure(
            db, log, self.sizes.proof_samples, self._rng, budget=self.sizes.proof_budget
        )
        self.scratch.drop(db)
        lookup = timing.median(times.lookup) * 1000
        key = f"lookup-{kind[:2]}"
        self._baseline(
            key,
            "raw PK lookup of one log_node row",
            kind,
            lookup,
            "ms",
            f"open connection; {len(log.nodes):,} rows loaded in {load_seconds:.0f} s",
        )
        for name, values in (("inclusion", times.inclusion), ("consistency", times.consistency)):
            mid = timing.median(values) * 1000
            p95 = timing.percentile(values, 0.95) * 1000
            self.figures.append(
                Figure(
                    name=f"{name} proof at {log.size:,}",
                    db=kind,
                    value=mid,
                    unit="ms",
                    baseline=key,
                    ratio=mid / lookup,
                    target=f"< {TARGET_PROOF_MS:g} ms (p95)",
                    met=p95 < TARGET_PROOF_MS,
                    note=f"median; p95 {p95:.2f} ms, max {max(values) * 1000:.1f} ms; "
                    f"new session each; all {len(values)} verified",
                )
            )

    # -- the supply-chain cycle through the web app ----------------------------------------------

    def api_cycle(self, kind: str) -> None:
        """Cycles of seven lot operations through the WSGI app and the services, beside bare appends."""
        sizes = self.sizes
        cycle_db = self.scratch.new(kind, "cycle")
        append_db = self.scratch.new(kind, "append1")
        spec = cycles.prepare_cycle(cycle_db)
        append_op = cycles.append_one_op(cycles.prepare_append(append_db), 0)
        api_op = cycles.api_cycle_op(spec, 0)
        service_op = cycles.service_cycle_op(spec, 0)
        appended: list[float] = []
        api: list[float] = []
        service: list[float] = []
        self.say(f"api cycle: {kind}, {sizes.rounds} rounds of {sizes.cycle_window:g} s windows")
        try:
            for op in (append_op, api_op, service_op):
                op()  # warm: compile statements, open pools, load templates and schemas
            for _ in range(sizes.rounds):
                appended.append(cycles.run_window(append_op, sizes.cycle_window))
                api.append(cycles.run_window(api_op, sizes.cycle_window) * cycles.EVENTS_PER_CYCLE)
                service.append(
                    cycles.run_window(service_op, sizes.cycle_window) * cycles.EVENTS_PER_CYCLE
                )
        finally:
            for op in (append_op, api_op, service_op):
                op.close()
        self.scratch.drop(cycle_db)
        self.scratch.drop(append_db)
        key = f"append-1tx-{kind[:2]}"
        self._baseline(
            key,
            "services.log.append_many, 1 event/tx, 1 writer",
            kind,
            timing.median(appended),
            "ev/s",
            "; ".join(
                filter(None, ["key.rotate drafts, no rules, no HTTP", self._rounds_note(appended)])
            ),
        )
        per_step = ", ".join(
            f"{name} {seconds / api_op.cycles * 1000:.1f}"
            for name, seconds in zip(cycles.STEPS, api_op.step_seconds, strict=True)
        )
        for name, values, note in (
            (
                "API cycle register..manufacture (7 requests), 1 client",
                api,
                f"ms per request: {per_step}",
            ),
            (
                "same cycle through the services, 1 tx per operation",
                service,
                "diagnostic: no HTTP, auth or JSON",
            ),
        ):
            value = timing.median(values)
            cycles_note = f"{value / cycles.EVENTS_PER_CYCLE:.2f} cycles/s"
            self.figures.append(
                Figure(
                    name=name,
                    db=kind,
                    value=value,
                    unit="ops/s",
                    baseline=key,
                    ratio=value / timing.median(appended),
                    target="",
                    met=None,
                    note="; ".join(filter(None, [cycles_note, note, self._rounds_note(values)])),
                )
            )

    # -- provenance of a piece with 100 ancestor lots ---------------------------------------------

    def provenance(self, kind: str) -> None:
        """provenance() of two 100-ancestor pieces in a large ledger, per request."""
        sizes = self.sizes
        db = self.scratch.new(kind, "provenance")
        self.say(
            f"provenance: {kind}, making two 100-ancestor pieces in a "
            f"{sizes.provenance_events:,}-event ledger"
        )
        ledger = pieces.build(
            db, events=sizes.provenance_events, orgs=sizes.orgs, batch=sizes.batch
        )
        self.say(f"provenance: {kind}, querying (built in {ledger.build_seconds:.0f} s)")
        seconds = self.sizes.crypto_seconds
        before = base.ed25519_verify_rate(seconds)
        times = pieces.measure(
            ledger, samples=sizes.provenance_samples, budget=sizes.provenance_budget
        )
        after = base.ed25519_verify_rate(seconds)
        self.scratch.drop(db)
        verify_rate = (before + after) / 2
        built = (
            f"ledger built in {ledger.build_seconds:.0f} s: {ledger.service_events} events "
            f"through the services, the rest padded by append_many in {ledger.pad_seconds:.0f} s"
        )
        for piece in ledger.pieces:
            key = f"sigs-{piece.shape}-{kind[:2]}"
            self._baseline(
                key,
                f"Ed25519 verify x {piece.events} (the {piece.shape} piece's events), 1 core",
                kind,
                piece.events / verify_rate * 1000,
                "ms",
                "1-core rate measured just before and after the figure"
                + (f"; {built}" if piece is ledger.pieces[0] else ""),
            )
            shape = (
                f"{piece.events} events, {piece.generations} generations, "
                f"{piece.ancestors} ancestor lots"
            )
            for name, values, target in (
                (f"provenance(), {piece.shape} piece", times.service[piece.shape], True),
                (
                    f"GET /lots/{{id}}/provenance, {piece.shape} piece",
                    times.http[piece.shape],
                    False,
                ),
            ):
                mid = timing.median(values) * 1000
                p95 = timing.percentile(values, 0.95) * 1000
                self.figures.append(
                    Figure(
                        name=f"{name}, {ledger.size:,}-event ledger",
                        db=kind,
                        value=mid,
                        unit="ms",
                        baseline=key,
                        ratio=mid / (piece.events / verify_rate * 1000),
                        target=f"< {TARGET_PROVENANCE_MS:g} ms (p95)" if target else "",
                        met=p95 < TARGET_PROVENANCE_MS if target else None,
                        note=f"median; p95 {p95:.1f} ms; {len(values)} calls"
                        + (
                            f"; {shape}; new session each"
                            if target
                            else "; diagnostic: whole request"
                        ),
                    )
                )

    # -- certificates: the offline bundle and the public page -------------------------------------

    def bundle(self) -> None:
        """verify_bundle of a piece with 50 ancestor events, beside 50 raw Ed25519 verifications."""
        baselines, figures = bundle_bench.section(self.scratch, self.sizes, self.say)
        self.baselines += baselines
        self.figures += figures

    def page(self, kind: str) -> None:
        """The public page under loopback load with gunicorn, beside a static file."""
        baselines, figures = page_bench.section(self.scratch, self.sizes, kind, self.say)
        self.baselines += baselines
        self.figures += figures

    # -- auditors: a large organization report, and the audit of a live server --------------------

    def exports(self, kind: str) -> None:
        """One organization's report over a 100,000-event ledger as CSV and EPCIS, beside a raw read."""
        baselines, figures = exports_bench.section(self.scratch, kind, self.sizes, self.say)
        self.baselines += baselines
        self.figures += figures

    def audit(self, kind: str) -> None:
        """goldtrace audit of a live server's 100,000-event ledger, beside Ed25519 verify x cores."""
        baselines, figures = audit_bench.section(
            self.scratch, kind, self.sizes, self.cores, self.say
        )
        self.baselines += baselines
        self.figures += figures
