"""A certified piece with 50 ancestor events, and the offline verification of its proof bundle.

The piece is made through the services, as a jeweler's piece is made in production: 15 dore lots
registered by the mine and sold to the refiner (3 events each), merged into one bar, refined into grain,
sent to the jeweler (dispatch and receipt) and manufactured: 45 + 1 + 1 + 2 + 1 = 50 ancestor events.
The jeweler issues its certificate and the bundle is fetched through ``certificates.bundle``, then
round-tripped through JSON as a downloaded file would be. ``bundle_verifier.verify_bundle`` checks it
with no database: the figure is the time of that call, beside 50 raw Ed25519 verifications (each
loading its raw key, as the verifier does) timed in alternation with it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign_open
from sqlalchemy.orm import Session

import chains
import timing
from appends import bench_context
from goldtrace.db.session import make_engine
from goldtrace.ledger import bundle_verifier
from goldtrace.services import certificates, organizations
from goldtrace.services.provenance import ancestry
from report import Baseline, Figure
from scratch import SQLITE, Database, Scratch
from sizes import Sizes

LOTS = 15  # 3 events each, plus merge, refine, dispatch, receive and manufacture: 50 events


@dataclass(frozen=True)
class CertifiedPiece:
    """A certified piece in a scratch database: its certificate, lot and ancestor event count."""

    db: Database
    cert_id: str
    lot: str
    ancestor_events: int


def build(db: Database, *, lots: int = LOTS) -> CertifiedPiece:
    """Bootstrap ``db`` (empty, migrated), make a piece of ``lots`` dore lots and certify it."""
    engine = make_engine(db.url)
    ctx = bench_context(db)
    try:
        with Session(engine) as s, s.begin():
            organizations.bootstrap(s, ctx)
            chain = chains.build_chain(s, ctx)
        sold = []
        for index in range(lots):
            with Session(engine) as s, s.begin():
                lot = chains.register(s, ctx, chain, index)
                chains.sell(s, ctx, chain, lot)
            sold.append(lot)
        with Session(engine) as s, s.begin():
            grain = chains.refine(s, ctx, chain.refiner, chains.merge(s, ctx, chain.refiner, sold))
            chains.move(s, ctx, grain, chain.refiner, chain.jeweler)
            piece = chains.manufacture(s, ctx, chain.jeweler, grain)
            cert_id = certificates.issue(s, ctx, actor=chain.jeweler, lot_id=piece).id
        with Session(engine) as s:
            events = len(ancestry(s, piece).events)
    finally:
        engine.dispose()
    return CertifiedPiece(db, cert_id, piece, events)


def fetch_bundle(piece: CertifiedPiece) -> dict[str, Any]:
    """The piece's bundle as the API serves it, parsed back from its JSON text."""
    engine = make_engine(piece.db.url)
    try:
        with Session(engine) as s, s.begin():
            doc = certificates.bundle(s, bench_context(piece.db), piece.cert_id)
    finally:
        engine.dispose()
    parsed: dict[str, Any] = json.loads(json.dumps(doc, ensure_ascii=False, indent=1))
    return parsed


def raw_verifier(count: int) -> Callable[[], None]:
    """A function that makes ``count`` raw Ed25519 verifications of distinct keys with libsodium,
    as the bundle verifier makes them."""
    pairs = []
    for _ in range(count):
        key = Ed25519PrivateKey.generate()
        message = os.urandom(32)
        pairs.append((key.public_key().public_bytes_raw(), key.sign(message) + message))

    def verify_all() -> None:
        for public, signed in pairs:
            crypto_sign_open(signed, public)

    return verify_all


@dataclass(frozen=True)
class BundleTimes:
    """Seconds per ``verify_bundle`` call and per 50 raw verifications, and what the bundle held."""

    bundle: list[float]
    raw: list[float]
    events: int
    checks: int


def measure(doc: dict[str, Any], *, samples: int, raw_count: int = 50) -> BundleTimes:
    """Alternate ``verify_bundle(doc)`` with ``raw_count`` raw Ed25519 verifications, ``samples``
    times each; refuse a bundle that does not verify."""
    report = bundle_verifier.verify_bundle(doc)  # warm, and prove the figure is of a valid bundle
    if not report.ok:
        raise RuntimeError(f"the benchmark bundle does not verify: {report.failures}")
    raw = raw_verifier(raw_count)
    bundle_times, raw_times = [], []
    for _ in range(samples):
        raw_times.append(timing.timed(raw)[1])
        bundle_times.append(timing.timed(lambda: bundle_verifier.verify_bundle(doc))[1])
    return BundleTimes(bundle_times, raw_times, len(doc["events"]), len(report.checked))


TARGET_BUNDLE_MS = 50.0


def section(
    scratch: Scratch, sizes: Sizes, say: Callable[[str], None]
) -> tuple[list[Baseline], list[Figure]]:
    """The ``bundle`` section: build the piece on SQLite (verification needs no database), then
    time ``verify_bundle`` beside 50 raw Ed25519 verifications."""
    db = scratch.new(SQLITE, "bundle")
    try:
        say(f"bundle: making a piece with {LOTS * 3 + 5} ancestor events and certifying it")
        piece = build(db)
        doc = fetch_bundle(piece)
    finally:
        scratch.drop(db)
    say(f"bundle: verify_bundle x {sizes.bundle_samples}")
    times = measure(doc, samples=sizes.bundle_samples)
    raw = timing.median(times.raw) * 1000
    mid = timing.median(times.bundle) * 1000
    p95 = timing.percentile(times.bundle, 0.95) * 1000
    baseline = Baseline(
        "sigs-50",
        "Ed25519 verify x 50 keys (libsodium), 1 core",
        "-",
        raw,
        "ms",
        f"median of {len(times.raw)}, alternating with the figure",
    )
    figure = Figure(
        name=f"verify_bundle, piece with {piece.ancestor_events} ancestor events",
        db="-",
        value=mid,
        unit="ms",
        baseline=baseline.key,
        ratio=mid / raw,
        target=f"< {TARGET_BUNDLE_MS:g} ms (p95)",
        met=p95 < TARGET_BUNDLE_MS,
        note=f"median; p95 {p95:.1f} ms; {len(times.bundle)} calls; {times.events} events in the "
        f"bundle, {times.checks} checks passed; no database",
    )
    return [baseline], [figure]
