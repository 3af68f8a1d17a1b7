"""Appending to the log and proving what it holds, on the real database."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from builders import ledger_with_events, register_mines
from goldtrace.db.models import Checkpoint, Event, LogHead, LogNode
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import InvalidInput, PermissionDenied
from goldtrace.ledger import merkle, note
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.keys import b64, key_id, public_bytes, verify_event_signature
from goldtrace.services import organizations, transparency
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, append_many
from goldtrace.services.verify import verify_ledger


def leaves(session: Session) -> list[bytes]:
    return list(session.execute(select(Event.leaf).order_by(Event.seq)).scalars())


def test_genesis_registers_the_standard_body_signed_by_its_own_key(ledger: Session) -> None:
    genesis = ledger.get(Event, 0)
    assert genesis is not None
    assert (genesis.type, genesis.actor) == ("org.register", "arm")
    key = organizations.current_key(ledger, "arm")
    assert key.valid_from_seq == 0
    assert verify_event_signature(key.public_key, genesis.hash, genesis.sig)


def test_bootstrap_is_idempotent(ledger: Session, ctx: Context) -> None:
    organizations.bootstrap(ledger, ctx)
    assert transparency.head(ledger).size == 1


def test_head_root_and_stored_nodes_match_an_independent_tree(
    ledger: Session, ctx: Context
) -> None:
    ledger_with_events(ledger, ctx, 37)
    all_leaves = leaves(ledger)
    assert len(all_leaves) == 37
    hashes = [merkle.leaf_hash(leaf) for leaf in all_leaves]
    assert transparency.head(ledger).root == merkle.root(hashes)
    node_count = len(ledger.execute(select(LogNode.level)).all())
    assert node_count == 2 * 37 - bin(37).count("1")
    for size in range(1, 38):
        assert transparency.root_at(ledger, size) == merkle.root(hashes[:size])


def test_leaves_commit_to_their_events(ledger: Session, ctx: Context) -> None:
    register_mines(ledger, ctx, 3)
    for ev in ledger.execute(select(Event)).scalars():
        env = LeafEnvelope.from_bytes(ev.leaf)
        assert (env.seq, env.event_hash, env.kid, env.sig) == (ev.seq, ev.hash, ev.kid, ev.sig)
        assert env.origin == ctx.origin


def test_every_inclusion_and_consistency_proof_from_storage_verifies(
    ledger: Session, ctx: Context
) -> None:
    ledger_with_events(ledger, ctx, 21)
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves(ledger)]
    for size in range(1, 22):
        root = merkle.root(hashes[:size])
        for seq in range(size):
            proof = transparency.inclusion_proof(ledger, seq, size)
            merkle.verify_inclusion(hashes[seq], seq, size, proof, root)
        for first in range(1, size + 1):
            proof = transparency.consistency_proof(ledger, first, size)
            merkle.verify_consistency(first, size, merkle.root(hashes[:first]), root, proof)


@pytest.mark.parametrize(
    ("seq", "size"), [(0, 0), (5, 5), (-1, 3), (0, 10**6)], ids=["empty", "seq=size", "neg", "big"]
)
def test_out_of_range_inclusion_requests_are_refused(
    ledger: Session, ctx: Context, seq: int, size: int
) -> None:
    ledger_with_events(ledger, ctx, 5)
    with pytest.raises(InvalidInput):
        transparency.inclusion_proof(ledger, seq, size)


def test_batch_append_lands_in_order_with_one_head_update(ledger: Session, ctx: Context) -> None:
    mines = register_mines(ledger, ctx, 2)
    before = transparency.head(ledger).size
    assert append_many(ledger, ctx, []) == []
    rows = [organizations.rotate_key(ledger, ctx, org_id=m) for m in mines]
    assert transparency.head(ledger).size == before + len(rows)
    assert verify_ledger(ledger, ctx, workers=1).ok


@pytest.mark.parametrize("count", [1, 5, 70], ids=["one", "few", "copy"])
def test_a_batch_lands_byte_for_byte_as_recorded(ledger: Session, ctx: Context, count: int) -> None:
    # PostgreSQL writes one event, a few and many by three different statements (one of plain
    # values, one over arrays, COPY); SQLite takes the same rows through executemany.
    drafts = []
    for i in range(count):
        public = public_bytes(Ed25519PrivateKey.generate())
        profile = OrgProfile(
            id=f"batch-{i:02d}",
            name=f"Batch mine {i}",
            kind="mine",
            miners=3,
            capacity_mg_month=300_000,
        )
        drafts.append(
            Draft(
                type="org.register",
                actor="arm",
                fields={
                    "org": profile.as_json(),
                    "key": {"kid": key_id(public), "public": b64(public)},
                },
            )
        )
    recorded = append_many(ledger, ctx, drafts)
    assert [r.seq for r in recorded] == list(range(1, count + 1))
    stored = ledger.execute(select(Event).where(Event.seq >= 1).order_by(Event.seq)).scalars().all()
    assert [(e.seq, e.hash, e.body, e.kid, e.sig, e.leaf, e.logged_at) for e in stored] == [
        (r.seq, r.hash, r.body, r.kid, r.sig, r.leaf, r.logged_at) for r in recorded
    ]
    assert {e.type for e in stored} == {"org.register"} and {e.actor for e in stored} == {"arm"}
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves(ledger)]
    assert transparency.head(ledger).root == merkle.root(hashes)
    head = ledger.get(LogHead, 1)
    assert head is not None and head.size == count + 1
    # Every stored subtree hash is the root of exactly the leaves below it, and none is missing.
    nodes = ledger.execute(select(LogNode.level, LogNode.idx, LogNode.hash)).all()
    assert len(nodes) == 2 * (count + 1) - (count + 1).bit_count()
    for level, idx, node in nodes:
        assert node == merkle.root(hashes[idx << level : (idx + 1) << level])
    assert verify_ledger(ledger, ctx, workers=1).ok


def test_append_for_an_organization_without_key_is_refused(ledger: Session, ctx: Context) -> None:
    with pytest.raises(PermissionDenied):
        append_many(ledger, ctx, [Draft(type="key.rotate", actor="nobody")])
    assert transparency.head(ledger).size == 1


@pytest.mark.parametrize(
    "public_key",
    [bytes([1]) + bytes(31), (2**255 - 18).to_bytes(32, "little"), bytes(31)],
    ids=["identity", "not-canonical", "short"],
)
def test_an_own_key_no_signer_could_hold_is_refused(
    ledger: Session, ctx: Context, public_key: bytes
) -> None:
    """Under a key of small order anyone could sign as the organization: nothing is logged."""
    mine = register_mines(ledger, ctx, 1)[0]
    size = transparency.head(ledger).size
    body = organizations.standard_body_id(ledger)
    with pytest.raises(InvalidInput) as refused:
        organizations.register_own_key(ledger, ctx, actor=body, org_id=mine, public_key=public_key)
    assert refused.value.code == "bad_public_key"
    assert transparency.head(ledger).size == size
    own = public_bytes(Ed25519PrivateKey.generate())
    organizations.register_own_key(ledger, ctx, actor=body, org_id=mine, public_key=own)
    assert transparency.head(ledger).size == size + 1


def test_checkpoint_is_signed_and_never_doubled(ledger: Session, ctx: Context) -> None:
    ledger_with_events(ledger, ctx, 6)
    first = transparency.cut_checkpoint(ledger, ctx)
    again = transparency.cut_checkpoint(ledger, ctx)
    assert again.size == first.size == 6
    verifier = transparency.log_verifier(ledger, ctx)
    cp, _ = note.open_checkpoint(first.note, verifier, origin=ctx.origin)
    assert (cp.size, cp.root) == (6, transparency.head(ledger).root)
    ledger_with_events(ledger, ctx, 9)
    second = transparency.cut_checkpoint(ledger, ctx)
    assert second.size == 9
    assert ledger.execute(select(LogHead.size)).scalar_one() == 9


def test_two_roots_for_one_size_are_impossible(ledger: Session, ctx: Context) -> None:
    ledger_with_events(ledger, ctx, 4)
    cp = transparency.cut_checkpoint(ledger, ctx)
    nested = ledger.begin_nested()
    with pytest.raises(IntegrityError):
        ledger.execute(
            insert(Checkpoint).values(
                size=cp.size, root=b"\x00" * 32, note="forged", created_at=cp.created_at
            )
        )
    nested.rollback()
