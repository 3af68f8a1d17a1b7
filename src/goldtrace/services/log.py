"""Appending events to the log: the single-writer path that turns drafts into signed, logged events.

An append either lands whole (event row, leaf, finished subtree hashes and the updated head) or, since
the caller's transaction rolls back on any error, not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.durability import release_locks_early
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
from goldtrace.ledger.event_checks import leaf_bytes
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
    # The current key id of the organization named to ``_Driver.lock_head``, if any.
    kid: str | None = None


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
    # Every statement of the append goes to the database driver directly: the ORM's and even
    # Core's per-statement work cost more than the statements themselves.
    db = _Driver.of(session)
    actors = {draft.actor for draft in drafts if draft.signer is None}
    remembered = _remembered_signer(db, ctx, actors)
    if remembered is None:
        guessed = None
        signers = _custodial_signers(db, ctx, actors)
    else:
        guessed, kid, private_key = remembered
        signers = {guessed: (kid, private_key)}
    now = now_instant()
    signed = [_sign(draft, signers, now) for draft in drafts]
    head = db.lock_head(session, kid_of=guessed)
    if guessed is not None and head.kid != signers[guessed][0]:
        # The key was replaced or revoked since this process last signed with it: read it.
        signers = _custodial_signers(db, ctx, actors)
        signed = [_sign(draft, signers, now) for draft in drafts]
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
    _write(session, db, head, events, nodes, {a: kid for a, (kid, _) in signers.items()})
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
    db = _Driver.of(session)
    head = db.lock_head(session)
    key = _current_key(session, str(parsed.get("actor")))
    if key is None or key.kid != kid or not verify_event_signature(key.public_key, event_hash, sig):
        raise PermissionDenied(
            "the event is not signed by the actor's current key", code="bad_signature"
        )
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
    _write(session, db, head, [row], nodes, {})
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
    # The fast template of the canonical leaf, equal to LeafEnvelope(...).to_bytes() (tested).
    leaf = leaf_bytes(origin, seq, logged_at, event_hash, kid, sig)
    head.frontier, finished = merkle.append(head.frontier, seq, merkle.leaf_hash(leaf))
    nodes.extend({"level": lv, "idx": ix, "hash": h} for (lv, ix), h in finished)
    head.size = seq + 1
    return Recorded(
        seq=seq, hash=event_hash, body=body, kid=kid, sig=sig, leaf=leaf, logged_at=logged_at
    )


def _write(
    session: Session,
    db: _Driver,
    head: _Head,
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
    driver = db.driver
    head_values = (head.size, merkle.frontier_root(head.frontier), b"".join(head.frontier))
    if db.sqlite:
        driver.executemany(_SQLITE_INSERT_EVENT, [[e[c] for c in _EVENT_COLUMNS] for e in events])
        driver.executemany(_SQLITE_INSERT_NODE, [[n[c] for c in _NODE_COLUMNS] for n in nodes])
        driver.execute(_SQLITE_UPDATE_HEAD, head_values)
    elif len(events) >= _COPY_THRESHOLD:
        # PostgreSQL, a batch: COPY carries it in one stream, where executemany pays a round
        # trip's worth of protocol work per row (more than signing the event).
        current = db.current_keys(sorted(signed_by))
        _check_keys_unchanged(signed_by, ((org, kid) for org, kid, _ in current))
        _copy(driver, "event", _EVENT_COLUMNS, events)
        _copy(driver, "log_node", _NODE_COLUMNS, nodes)
        driver.execute(_PG_UPDATE_HEAD, head_values)
    elif len(events) == 1 and len(signed_by) <= 1:
        # PostgreSQL, one event (every request's append): the insert, its subtree hashes, the
        # head update and the key check are one statement of plain values, which the server
        # prepares once: the head lock waits for one round trip, the driver does little work.
        # The subtree hashes the leaf finished are levels 0..k-1 at index seq >> level.
        event = events[0]
        params = (
            *(event[c] for c in _EVENT_COLUMNS),
            event["seq"],
            b"".join(n["hash"] for n in nodes),
            len(nodes),
            *head_values,
            next(iter(signed_by), None),
        )
        _check_keys_unchanged(signed_by, driver.execute(_PG_WRITE_ONE, params))
    else:
        # PostgreSQL, a few events: the same in one statement over arrays of values (its text
        # does not depend on the number of rows, so it too is prepared once).
        columns = [[e[c] for e in events] for c in _EVENT_COLUMNS]
        node_columns = [[n[c] for n in nodes] for c in _NODE_COLUMNS]
        params = (*columns, *node_columns, *head_values, sorted(signed_by))
        _check_keys_unchanged(signed_by, driver.execute(_PG_WRITE, params))
    # The head row changed under the ORM: a LogHead the session loaded earlier must be reloaded.
    loaded = session.identity_map.get(session.identity_key(LogHead, 1))
    if loaded is not None:
        session.expire(loaded)


def _check_keys_unchanged(signed_by: dict[str, str], current: Iterable[tuple[str, str]]) -> None:
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
_PG_WRITE = f"""
WITH new_event AS (
    INSERT INTO event ({", ".join(_EVENT_COLUMNS)})
    SELECT * FROM unnest({", ".join(f"%s::{t}[]" for t in _EVENT_COLUMNS.values())})
), new_node AS (
    INSERT INTO log_node ({", ".join(_NODE_COLUMNS)})
    SELECT * FROM unnest({", ".join(f"%s::{t}[]" for t in _NODE_COLUMNS.values())})
), new_head AS (
    UPDATE log_head SET size = %s, root = %s, frontier = %s WHERE id = 1
)
SELECT org_id, kid FROM org_key WHERE org_id = ANY(%s) AND valid_until_seq IS NULL
"""  # noqa: S608 (column names and types are the constants above)
_PG_WRITE_ONE = f"""
WITH new_event AS (
    INSERT INTO event ({", ".join(_EVENT_COLUMNS)})
    VALUES ({", ".join("%s" for _ in _EVENT_COLUMNS)})
), new_node AS (
    INSERT INTO log_node (level, idx, hash)
    SELECT level, %s::int8 >> level, substring(%s::bytea FROM level * 32 + 1 FOR 32)
    FROM generate_series(0, %s - 1) AS level
), new_head AS (
    UPDATE log_head SET size = %s, root = %s, frontier = %s WHERE id = 1
)
SELECT org_id, kid FROM org_key WHERE org_id = %s AND valid_until_seq IS NULL
"""  # noqa: S608 (column names are the constants above)
_PG_UPDATE_HEAD = "UPDATE log_head SET size = %s, root = %s, frontier = %s WHERE id = 1"


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
    db: _Driver, ctx: Context, actors: set[str]
) -> dict[str, tuple[str, Ed25519PrivateKey]]:
    """The current key id and private key of each actor, read in one query."""
    if not actors:
        return {}
    found = {org: (kid, sealed) for org, kid, sealed in db.current_keys(sorted(actors))}
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
        ctx.signing_kids[actor] = kid
    return signers


def _remembered_signer(
    db: _Driver, ctx: Context, actors: set[str]
) -> tuple[str, str, Ed25519PrivateKey] | None:
    """(actor, key id, private key) of the one custodial signer as this process last signed for
    it, when the head lock can check that the key is still current (PostgreSQL); else None.

    It spares the append a query before the lock; the lock statement reads the actor's current key
    id, and the write statement checks it again (see ``_write``).
    """
    if db.sqlite or len(actors) != 1:
        return None
    (actor,) = actors
    kid = ctx.signing_kids.get(actor)
    private_key = None if kid is None else ctx.seal.opened(kid)
    return None if kid is None or private_key is None else (actor, kid, private_key)


@dataclass(frozen=True)
class _Driver:
    """The session's connection as its database driver sees it (sqlite3 or psycopg 3)."""

    driver: Any
    sqlite: bool

    @classmethod
    def of(cls, session: Session) -> _Driver:
        connection = session.connection()  # begins the transaction (SQLite: BEGIN IMMEDIATE)
        return cls(connection.connection.driver_connection, connection.dialect.name == "sqlite")

    def lock_head(self, session: Session, *, kid_of: str | None = None) -> _Head:
        """Read the head, locked as :func:`lock_head` locks it, and the current key id of the
        organization ``kid_of`` (PostgreSQL only).

        On PostgreSQL the same statement makes the transaction release its locks before its
        commit reaches the disk, unless it must commit synchronously (see db.durability).
        """
        if self.sqlite:
            row = self.driver.execute(_SQLITE_HEAD).fetchone()
        else:
            early = release_locks_early(session, self.driver)
            if kid_of is None:
                row = self.driver.execute(_PG_LOCK_HEAD[early, False]).fetchone()
            else:
                row = self.driver.execute(_PG_LOCK_HEAD[early, True], (kid_of,)).fetchone()
        if row is None:
            raise ConfigurationError("the database has no log head: run `goldtrace init-db`")
        kid = row[2] if kid_of is not None else None
        return _Head(size=row[0], frontier=_split(bytes(row[1])), kid=kid)

    def current_keys(self, orgs: list[str]) -> list[tuple[str, str, bytes | None]]:
        """(org, kid, sealed private key or None) of each of ``orgs`` that has a current key."""
        if self.sqlite:
            marks = ", ".join("?" * len(orgs))
            rows = self.driver.execute(_SQLITE_CURRENT_KEYS.format(marks=marks), orgs).fetchall()
        else:
            rows = self.driver.execute(_PG_CURRENT_KEYS, (orgs,)).fetchall()
        return [(org, kid, None if sealed is None else bytes(sealed)) for org, kid, sealed in rows]


_SQLITE_HEAD = "SELECT size, frontier FROM log_head WHERE id = 1"
# The head lock statement, by (release locks early, read one organization's current key id).
_PG_LOCK_HEAD = {
    (early, kid): "SELECT size, frontier"  # noqa: S608 (constant pieces only)
    + (", (SELECT kid FROM org_key WHERE org_id = %s AND valid_until_seq IS NULL)" if kid else "")
    + (", set_config('synchronous_commit', 'off', true)" if early else "")
    + " FROM log_head WHERE id = 1 FOR UPDATE"
    for early in (False, True)
    for kid in (False, True)
}
_SQLITE_CURRENT_KEYS = (
    "SELECT org_id, kid, private_key_sealed FROM org_key "
    "WHERE org_id IN ({marks}) AND valid_until_seq IS NULL"
)
_PG_CURRENT_KEYS = (
    "SELECT org_id, kid, private_key_sealed FROM org_key "
    "WHERE org_id = ANY(%s) AND valid_until_seq IS NULL"
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
