"""Appending events to the log: the single-writer path that turns drafts into signed, logged events.

An append either lands whole (event row, leaf, finished subtree hashes and the updated head) or, since
the caller's transaction rolls back on any error, not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from goldtrace.db.models import LogHead, OrgKey
from goldtrace.domain.instants import now_instant
from goldtrace.errors import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from goldtrace.ledger import merkle
from goldtrace.ledger.canonical import canonical, parse_strict
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.events import EncodedEvent, build_body, encode
from goldtrace.ledger.keys import sign_event, verify_event_signature
from goldtrace.services.context import Context


@dataclass(frozen=True)
class Draft:
    """An event to append: its type, acting organization, own fields and the events it builds on.

    ``signer`` overrides the actor's custodial key (only the genesis event, signed by the key it declares).
    """

    type: str
    actor: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    prev: Sequence[bytes] = ()
    occurred_at: str | None = None
    signer: tuple[str, Ed25519PrivateKey] | None = None


@dataclass(frozen=True)
class Recorded:
    """An event as it landed in the log."""

    seq: int
    hash: bytes
    body: bytes
    kid: str
    sig: bytes
    leaf: bytes
    logged_at: str


@dataclass
class _Head:
    size: int
    frontier: list[bytes]


def lock_head(session: Session) -> LogHead:
    """Return the log head row, locked against other writers until the transaction ends.

    PostgreSQL takes a row lock; SQLite transactions already hold the database write lock (see db.session).
    """
    head = session.execute(
        select(LogHead).where(LogHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        raise ConfigurationError("the database has no log head: run `goldtrace init-db`")
    return head


def append(session: Session, ctx: Context, draft: Draft) -> Recorded:
    """Sign and append one event; return it as recorded. The caller commits."""
    return append_many(session, ctx, [draft])[0]


def append_many(session: Session, ctx: Context, drafts: Sequence[Draft]) -> list[Recorded]:
    """Sign and append events in order under one lock of the head; return them as recorded.

    Events are encoded and signed before the head is locked, so that the lock, which every writer
    waits for and which is held through the commit, covers only the log's own work: leaves, subtree
    hashes and the rows. The events of one call are logged at one instant (the leaves' ``time``):
    they land in one transaction. Raises PermissionDenied when an actor has no current key the
    server holds, and Conflict when an actor's key changed between signing and logging.
    """
    if not drafts:
        return []
    _check_key_events(drafts)
    signers = _custodial_signers(
        session, ctx, {draft.actor for draft in drafts if draft.signer is None}
    )
    now = now_instant()
    signed = [_sign(draft, signers, now) for draft in drafts]
    head_row = lock_head(session)
    head = _Head(size=head_row.size, frontier=_split(head_row.frontier))
    logged_at = now_instant()
    events: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    recorded: list[Recorded] = []
    for draft, occurred_at, encoded, kid, sig in signed:
        rec = _log(head, ctx.origin, encoded.hash, encoded.body, kid, sig, nodes, logged_at)
        events.append(
            {
                "seq": rec.seq,
                "hash": rec.hash,
                "type": draft.type,
                "actor": draft.actor,
                "occurred_at": occurred_at,
                "body": rec.body,
                "kid": kid,
                "sig": sig,
                "leaf": rec.leaf,
                "logged_at": logged_at,
            }
        )
        recorded.append(rec)
    _write(session, head, head_row, events, nodes, {a: kid for a, (kid, _) in signers.items()})
    return recorded


def _check_key_events(drafts: Sequence[Draft]) -> None:
    rekeyed: set[str] = set()
    for draft in drafts:
        if draft.actor in rekeyed:
            # The key rows change only after the append; a later draft would be signed with the old key.
            raise InvalidInput("a batch may not continue after a key event of the same actor")
        if draft.type.startswith("key."):
            rekeyed.add(draft.actor if draft.type == "key.rotate" else str(draft.fields.get("org")))


_Signed = tuple[Draft, str, EncodedEvent, str, bytes]


def _sign(draft: Draft, signers: Mapping[str, tuple[str, Ed25519PrivateKey]], now: str) -> _Signed:
    """Encode a draft's body and sign its hash; return (draft, occurred_at, encoded, kid, sig)."""
    occurred_at = draft.occurred_at or now
    encoded = encode(
        build_body(
            type=draft.type,
            actor=draft.actor,
            occurred_at=occurred_at,
            prev=draft.prev,
            fields=draft.fields,
        )
    )
    kid, private_key = draft.signer or signers[draft.actor]
    return draft, occurred_at, encoded, kid, sign_event(private_key, encoded.hash)


def append_presigned(
    session: Session, *, ctx: Context, body: bytes, kid: str, sig: bytes
) -> Recorded:
    """Append an event an organization signed itself with a key whose private half we never held.

    The caller has checked the body's content rules; here we check the signature and the key.
    """
    event_hash = hashlib.sha256(body).digest()
    parsed = parse_strict(body)
    if not isinstance(parsed, dict) or canonical(parsed) != body:
        raise InvalidInput(
            "a signed event body must be a canonical JSON object", code="not_canonical"
        )
    head_row = lock_head(session)
    key = _current_key(session, str(parsed.get("actor")))
    if key is None or key.kid != kid or not verify_event_signature(key.public_key, event_hash, sig):
        raise PermissionDenied(
            "the event is not signed by the actor's current key", code="bad_signature"
        )
    head = _Head(size=head_row.size, frontier=_split(head_row.frontier))
    nodes: list[dict[str, Any]] = []
    rec = _log(head, ctx.origin, event_hash, body, kid, sig, nodes, now_instant())
    row = {
        "seq": rec.seq,
        "hash": event_hash,
        "type": parsed["type"],
        "actor": parsed["actor"],
        "occurred_at": parsed["occurred_at"],
        "body": body,
        "kid": kid,
        "sig": sig,
        "leaf": rec.leaf,
        "logged_at": rec.logged_at,
    }
    _write(session, head, head_row, [row], nodes, {})
    return rec


def _log(
    head: _Head,
    origin: str,
    event_hash: bytes,
    body: bytes,
    kid: str,
    sig: bytes,
    nodes: list[dict[str, Any]],
    logged_at: str,
) -> Recorded:
    seq = head.size
    leaf = LeafEnvelope(
        origin=origin, seq=seq, time=logged_at, event_hash=event_hash, kid=kid, sig=sig
    ).to_bytes()
    head.frontier, finished = merkle.append(head.frontier, seq, merkle.leaf_hash(leaf))
    nodes.extend({"level": lv, "idx": ix, "hash": h} for (lv, ix), h in finished)
    head.size = seq + 1
    return Recorded(
        seq=seq, hash=event_hash, body=body, kid=kid, sig=sig, leaf=leaf, logged_at=logged_at
    )


def _write(
    session: Session,
    head: _Head,
    head_row: LogHead,
    events: list[dict[str, Any]],
    nodes: list[dict[str, Any]],
    signed_by: dict[str, str],
) -> None:
    """Insert the events and their finished subtree hashes, and move the head.

    ``signed_by`` maps each actor whose custodial key signed before the lock was taken to that
    key's id. On PostgreSQL another writer may have rotated it meanwhile, so it is checked again
    in the same round trip as the writes (SQLite writers hold the database lock from their first
    statement, before the key was read).
    """
    # The rows go to the database driver directly: the ORM's bulk machinery, and even Core's
    # per-row parameter processing, cost more than the inserts themselves.
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    head_values = (head.size, merkle.frontier_root(head.frontier), b"".join(head.frontier))
    if connection.dialect.name == "sqlite":
        driver.executemany(_SQLITE_INSERT_EVENT, [[e[c] for c in _EVENT_COLUMNS] for e in events])
        driver.executemany(_SQLITE_INSERT_NODE, [[n[c] for c in _NODE_COLUMNS] for n in nodes])
        driver.execute(_SQLITE_UPDATE_HEAD, head_values)
    elif len(events) >= _COPY_THRESHOLD:
        # PostgreSQL, a batch: COPY carries it in one stream, where executemany pays a round
        # trip's worth of protocol work per row (more than signing the event).
        with driver.cursor() as check:
            check.execute(_PG_CURRENT_KIDS, (sorted(signed_by),))
            _check_keys_unchanged(signed_by, check.fetchall())
        _copy(driver, "event", _EVENT_COLUMNS, events)
        _copy(driver, "log_node", _NODE_COLUMNS, nodes)
        with driver.cursor() as cursor:
            cursor.execute(_PG_UPDATE_HEAD, head_values)
    else:
        # PostgreSQL, a few events: the key check, the inserts and the head update in one
        # pipeline, so the head lock waits for one round trip instead of four.
        with driver.cursor() as check, driver.cursor() as cursor:
            with driver.pipeline():
                check.execute(_PG_CURRENT_KIDS, (sorted(signed_by),))
                cursor.executemany(
                    _PG_INSERT_EVENT, [[e[c] for c in _EVENT_COLUMNS] for e in events]
                )
                if nodes:
                    cursor.executemany(
                        _PG_INSERT_NODE, [[n[c] for c in _NODE_COLUMNS] for n in nodes]
                    )
                cursor.execute(_PG_UPDATE_HEAD, head_values)
            _check_keys_unchanged(signed_by, check.fetchall())
    session.expire(head_row)


def _check_keys_unchanged(signed_by: dict[str, str], current: list[tuple[str, str]]) -> None:
    now = dict(current)
    changed = sorted(actor for actor, kid in signed_by.items() if now.get(actor) != kid)
    if changed:
        # The caller's transaction rolls back: nothing signed with a retired key is kept.
        raise Conflict(
            f"the signing key of {', '.join(changed)} changed while the event was being "
            "recorded; nothing was recorded, try again",
            code="key_changed",
        )


_COPY_THRESHOLD = 32
_EVENT_COLUMNS = {
    "seq": "int8",
    "hash": "bytea",
    "type": "text",
    "actor": "text",
    "occurred_at": "text",
    "body": "bytea",
    "kid": "text",
    "sig": "bytea",
    "leaf": "bytea",
    "logged_at": "text",
}
_NODE_COLUMNS = {"level": "int2", "idx": "int8", "hash": "bytea"}
_SQLITE_INSERT_EVENT = (
    "INSERT INTO event (seq, hash, type, actor, occurred_at, body, kid, sig, leaf, logged_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_INSERT_NODE = "INSERT INTO log_node (level, idx, hash) VALUES (?, ?, ?)"
_SQLITE_UPDATE_HEAD = "UPDATE log_head SET size = ?, root = ?, frontier = ? WHERE id = 1"
_PG_INSERT_EVENT = (
    "INSERT INTO event (seq, hash, type, actor, occurred_at, body, kid, sig, leaf, logged_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_PG_INSERT_NODE = "INSERT INTO log_node (level, idx, hash) VALUES (%s, %s, %s)"
_PG_UPDATE_HEAD = "UPDATE log_head SET size = %s, root = %s, frontier = %s WHERE id = 1"
_PG_CURRENT_KIDS = (
    "SELECT org_id, kid FROM org_key WHERE org_id = ANY(%s) AND valid_until_seq IS NULL"
)


def _copy(driver: Any, table: str, columns: dict[str, str], rows: list[dict[str, Any]]) -> None:
    """Stream ``rows`` into ``table`` with PostgreSQL's binary COPY (psycopg 3)."""
    if not rows:
        return
    names = list(columns)
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(list(columns.values()))
        for row in rows:
            copy.write_row([row[name] for name in names])


def _current_key(session: Session, org_id: str) -> OrgKey | None:
    return session.execute(
        select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.valid_until_seq.is_(None))
    ).scalar_one_or_none()


def _custodial_signers(
    session: Session, ctx: Context, actors: set[str]
) -> dict[str, tuple[str, Ed25519PrivateKey]]:
    """The current key id and private key of each actor, read in one query."""
    if not actors:
        return {}
    rows = session.execute(_CURRENT_KEYS, {"orgs": sorted(actors)}).all()
    found = {org: (kid, sealed) for org, kid, sealed in rows}
    signers: dict[str, tuple[str, Ed25519PrivateKey]] = {}
    for actor in sorted(actors):
        if actor not in found:
            raise PermissionDenied(f"organization {actor} has no valid signing key", code="no_key")
        kid, sealed = found[actor]
        if sealed is None:
            raise PermissionDenied(
                f"organization {actor} keeps its own key: submit events signed with it",
                code="self_signed_only",
            )
        signers[actor] = (kid, ctx.seal.open(sealed, kid))
    return signers


_CURRENT_KEYS = select(OrgKey.org_id, OrgKey.kid, OrgKey.private_key_sealed).where(
    OrgKey.org_id.in_(bindparam("orgs", expanding=True)), OrgKey.valid_until_seq.is_(None)
)


def _split(frontier: bytes) -> list[bytes]:
    return [frontier[i : i + merkle.HASH_SIZE] for i in range(0, len(frontier), merkle.HASH_SIZE)]


def split_frontier(frontier: bytes) -> list[bytes]:
    """Return the list of 32-byte hashes stored concatenated in the head row."""
    return _split(frontier)


MAX_SEQ = 2**63 - 1


def check_seq(seq: int) -> int:
    """Return ``seq`` if it can name an event; NotFound for numbers no database column holds."""
    if not 0 <= seq <= MAX_SEQ:
        raise NotFound(f"there is no event {seq}", code="unknown_event")
    return seq
