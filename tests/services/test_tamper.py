"""Tamper detection: any single corruption of stored ledger data makes verification fail at the right seq.

Every case runs inside a savepoint that is rolled back, so one ledger of a few hundred events serves them
all. Positions are drawn at random (seeded, so a failure reproduces) rather than hand-picked.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from builders import ledger_with_events
from goldtrace.db.models import Checkpoint, Event, LogHead, LogNode
from goldtrace.ledger import merkle, verifier
from goldtrace.ledger.verifier import Report
from goldtrace.services import transparency
from goldtrace.services import verify as verify_service
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger

SIZE = 300
CASES = 12


@pytest.fixture
def big_ledger(ledger: Session, ctx: Context) -> Session:
    ledger_with_events(ledger, ctx, SIZE // 2)
    transparency.cut_checkpoint(ledger, ctx)
    ledger_with_events(ledger, ctx, SIZE)
    transparency.cut_checkpoint(ledger, ctx)
    assert verify_ledger(ledger, ctx, workers=1).ok
    return ledger


@contextmanager
def tampered(session: Session) -> Iterator[None]:
    nested = session.begin_nested()
    try:
        yield
    finally:
        nested.rollback()
        session.expire_all()


def flip(data: bytes, rng: random.Random) -> tuple[bytes, int]:
    pos = rng.randrange(len(data))
    bit = 1 << rng.randrange(8)
    return data[:pos] + bytes([data[pos] ^ bit]) + data[pos + 1 :], pos


def rotation_seqs(session: Session) -> list[int]:
    # Organizations reference their registration event by foreign key; rotations are free to move.
    return list(session.execute(select(Event.seq).where(Event.type == "key.rotate")).scalars())


def verify_both_ways(session: Session, ctx: Context) -> Report:
    """Verify in the main process, then again with the signatures checked by the worker pool in
    small tasks (many in flight); both must report exactly the same."""
    report = verify_ledger(session, ctx, workers=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verifier, "PARALLEL_THRESHOLD", 0)
        patch.setattr(verifier, "SIGN_CHUNK", 8)
        pooled = verify_ledger(session, ctx, workers=2)
    assert sorted(pooled.faults) == sorted(report.faults)
    assert pooled.as_json() == report.as_json()
    return report


def test_small_pages_read_through_the_pool_report_the_same(
    big_ledger: Session, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verify_service, "PAGE", 50)  # six pages, each its own run of subtrees
    rng = random.Random("pages")
    with tampered(big_ledger):
        big_ledger.execute(delete(Event).where(Event.seq == rng.choice(rotation_seqs(big_ledger))))
        level, idx = rng.choice(big_ledger.execute(select(LogNode.level, LogNode.idx)).all())
        big_ledger.execute(
            update(LogNode)
            .where(LogNode.level == level, LogNode.idx == idx)
            .values(hash=b"\x00" * 32)
        )
        assert not verify_both_ways(big_ledger, ctx).ok


def assert_caught(session: Session, ctx: Context, seq: int, what: str) -> Report:
    report = verify_both_ways(session, ctx)
    assert not report.ok, f"{what} went unnoticed"
    first = report.first
    assert first is not None
    assert first.seq == seq, f"{what}: first fault {first} instead of seq {seq}"
    return report


@pytest.mark.parametrize("column", ["body", "sig", "leaf"])
def test_any_flipped_bit_in_an_event_column_is_caught_at_its_seq(
    big_ledger: Session, ctx: Context, column: str
) -> None:
    rng = random.Random(f"event-{column}")
    for _ in range(CASES):
        seq = rng.randrange(SIZE)
        original = big_ledger.execute(
            select(getattr(Event, column)).where(Event.seq == seq)
        ).scalar_one()
        corrupted, pos = flip(original, rng)
        with tampered(big_ledger):
            big_ledger.execute(update(Event).where(Event.seq == seq).values({column: corrupted}))
            assert_caught(big_ledger, ctx, seq, f"{column} byte {pos} of seq {seq}")


def test_any_flipped_bit_in_a_stored_subtree_hash_is_caught(
    big_ledger: Session, ctx: Context
) -> None:
    rng = random.Random("nodes")
    keys = big_ledger.execute(select(LogNode.level, LogNode.idx)).all()
    for level, idx in rng.sample(keys, CASES * 2):
        original = big_ledger.execute(
            select(LogNode.hash).where(LogNode.level == level, LogNode.idx == idx)
        ).scalar_one()
        corrupted, _ = flip(original, rng)
        with tampered(big_ledger):
            big_ledger.execute(
                update(LogNode)
                .where(LogNode.level == level, LogNode.idx == idx)
                .values(hash=corrupted)
            )
            assert_caught(big_ledger, ctx, ((idx + 1) << level) - 1, f"node ({level}, {idx})")


def test_a_deleted_event_is_caught(big_ledger: Session, ctx: Context) -> None:
    rng = random.Random("delete")
    for seq in rng.sample(rotation_seqs(big_ledger), CASES):
        with tampered(big_ledger):
            big_ledger.execute(delete(Event).where(Event.seq == seq))
            assert_caught(big_ledger, ctx, seq, f"deleting seq {seq}")


def test_two_swapped_events_are_caught(big_ledger: Session, ctx: Context) -> None:
    rng = random.Random("swap")
    seqs = rotation_seqs(big_ledger)
    for _ in range(CASES):
        a, b = sorted(rng.sample(seqs, 2))
        with tampered(big_ledger):
            swap: list[tuple[int, int]] = [(a, -1), (b, a), (-1, b)]
            for old, new in swap:
                big_ledger.execute(update(Event).where(Event.seq == old).values(seq=new))
            assert_caught(big_ledger, ctx, a, f"swapping {a} and {b}")


def test_truncation_behind_a_signed_checkpoint_is_caught_even_with_a_consistent_head(
    big_ledger: Session, ctx: Context
) -> None:
    rng = random.Random("truncate")
    last_registration = big_ledger.execute(
        select(func.max(Event.seq)).where(Event.type == "org.register")
    ).scalar_one()
    for _ in range(CASES // 2):
        keep = rng.randrange(last_registration + 1, SIZE)
        with tampered(big_ledger):
            rewrite_as_truncated(big_ledger, keep)
            report = assert_caught(big_ledger, ctx, keep, f"truncating to {keep}")
            assert "truncated" in {f.code for f in report.faults}


def rewrite_as_truncated(session: Session, keep: int) -> None:
    """Cut the log to ``keep`` entries and rewrite head and nodes so that only checkpoints object."""
    session.execute(delete(Event).where(Event.seq >= keep))
    leaves = list(session.execute(select(Event.leaf).order_by(Event.seq)).scalars())
    frontier: list[bytes] = []
    valid: set[tuple[int, int]] = set()
    for i, leaf in enumerate(leaves):
        frontier, finished = merkle.append(frontier, i, merkle.leaf_hash(leaf))
        valid.update(key for key, _ in finished)
    for level, idx in session.execute(select(LogNode.level, LogNode.idx)).all():
        if (level, idx) not in valid:
            session.execute(delete(LogNode).where(LogNode.level == level, LogNode.idx == idx))
    session.execute(
        update(LogHead)
        .where(LogHead.id == 1)
        .values(size=keep, root=merkle.frontier_root(frontier), frontier=b"".join(frontier))
    )


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda s: s.execute(update(LogHead).values(size=LogHead.size + 1)),
        lambda s: s.execute(update(LogHead).values(root=b"\x01" * 32)),
        lambda s: (
            s.execute(delete(Checkpoint).where(Checkpoint.size == SIZE // 2))
            and s.execute(update(Checkpoint).values(note=Checkpoint.note + "x"))
        ),
        lambda s: s.execute(
            update(Event)
            .where(Event.seq == SIZE - 1)
            .values(occurred_at="2000-01-01T00:00:00.000Z")
        ),
    ],
    ids=["head-size", "head-root", "checkpoint-note", "derived-column"],
)
def test_corrupt_head_checkpoint_or_derived_columns_are_caught(
    big_ledger: Session, ctx: Context, corrupt: Callable[[Session], object]
) -> None:
    with tampered(big_ledger):
        corrupt(big_ledger)
        report = verify_both_ways(big_ledger, ctx)
        assert not report.ok


def test_the_untampered_ledger_stays_clean_and_complete(big_ledger: Session, ctx: Context) -> None:
    report = verify_both_ways(big_ledger, ctx)
    assert report.ok
    assert (report.size, report.signatures, report.checkpoints) == (SIZE, SIZE, 2)
    count = big_ledger.execute(select(func.count()).select_from(Event)).scalar_one()
    assert count == SIZE
