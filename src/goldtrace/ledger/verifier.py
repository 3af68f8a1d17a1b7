"""Full verification of a stored ledger, independent of how it is stored.

The caller streams events (in seq order) with the subtree hashes they completed; the verifier recomputes
every event hash, leaf, subtree hash and root, replays the domain rules to know which key had to sign
each event, and checks the signatures in worker processes, since Ed25519 verification dominates.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from goldtrace.errors import GoldtraceError
from goldtrace.ledger import merkle, note
from goldtrace.ledger.canonical import is_canonical, parse_strict
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.events import EVENT_VERSION
from goldtrace.ledger.keys import verify_event_signature

# Signature work is shipped to workers in chunks large enough to amortise pickling.
CHUNK = 2048
# Below this many events a process pool costs more than it saves.
PARALLEL_THRESHOLD = 4096
MAX_REPORTED_FAULTS = 50
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredEvent:
    """An event row exactly as stored."""

    seq: int
    hash: bytes
    type: str
    actor: str
    occurred_at: str
    body: bytes
    kid: str
    sig: bytes
    leaf: bytes
    logged_at: str


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint row exactly as stored."""

    size: int
    root: bytes
    note: str


@dataclass(frozen=True, order=True)
class Fault:
    """One thing wrong with the ledger: where (seq, when it has one), a stable code and a sentence."""

    seq: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message} [{self.code}]"


@dataclass
class Report:
    """What verification checked and found."""

    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    signatures: int = 0
    checkpoints: int = 0
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.faults

    @property
    def first(self) -> Fault | None:
        """The fault with the lowest seq: where the ledger stops being trustworthy."""
        return min(self.faults) if self.faults else None

    def as_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        first = self.first
        return {
            "ok": self.ok,
            "size": self.size,
            "root": self.root.hex(),
            "signatures_checked": self.signatures,
            "checkpoints_checked": self.checkpoints,
            "first_bad_seq": first.seq if first else None,
            "faults": [
                {"seq": f.seq, "code": f.code, "message": f.message}
                for f in sorted(self.faults)[:MAX_REPORTED_FAULTS]
            ],
        }


class Rules(Protocol):
    """The domain replay: which key must sign an event, and whether the event is allowed."""

    def signer_for(self, seq: int, body: dict[str, Any], kid: str) -> bytes: ...

    def apply(self, seq: int, body: dict[str, Any], event_hash: bytes) -> None: ...


def check_signatures(items: Sequence[tuple[int, bytes, bytes, bytes, bytes]]) -> list[Fault]:
    """Worker: check body hash, canonical form and signature of (seq, body, hash, key, sig) items."""
    faults: list[Fault] = []
    for seq, body, event_hash, public_key, sig in items:
        if hashlib.sha256(body).digest() != event_hash:
            faults.append(Fault(seq, "hash_mismatch", "the event body does not match its hash"))
        elif not is_canonical(body):
            faults.append(Fault(seq, "not_canonical", "the event body is not canonical JSON"))
        elif not verify_event_signature(public_key, event_hash, sig):
            faults.append(Fault(seq, "bad_signature", "the signature does not verify"))
    return faults


def _is_prev_list(prev: Any) -> bool:
    """True for the form build_body writes: sorted, distinct, lowercase 64-digit hex hashes."""
    return (
        isinstance(prev, list)
        and all(isinstance(p, str) and _HEX64.fullmatch(p) for p in prev)
        and prev == sorted(set(prev))
    )


class LedgerVerifier:
    """Feed it every event and its finished subtrees in order, then call ``finish``."""

    def __init__(
        self,
        *,
        origin: str,
        rules: Rules,
        expected_size: int,
        workers: int | None = None,
    ) -> None:
        self.origin = origin
        self.rules = rules
        self.report = Report()
        self._frontier: list[bytes] = []
        self._next_seq = 0
        self._size = 0
        self._known: set[bytes] = set()
        self._roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
        self._want_roots: set[int] = set()
        self._batch: list[tuple[int, bytes, bytes, bytes, bytes]] = []
        self._pending: deque[Future[list[Fault]]] = deque()
        count = workers if workers is not None else (os.cpu_count() or 1)
        self._workers = count
        self._pool: ProcessPoolExecutor | None = None
        if count > 1 and expected_size >= PARALLEL_THRESHOLD:
            self._pool = ProcessPoolExecutor(
                count, mp_context=multiprocessing.get_context("forkserver")
            )

    def want_root_at(self, sizes: Iterable[int]) -> None:
        """Remember the roots at these sizes (the checkpoints') as the tree grows past them."""
        self._want_roots.update(sizes)

    def fault(self, seq: int, code: str, message: str) -> None:
        """Record a fault."""
        self.report.faults.append(Fault(seq, code, message))

    def feed(self, events: Iterable[StoredEvent], nodes: Mapping[merkle.NodeKey, bytes]) -> None:
        """Check a run of consecutive events; ``nodes`` holds every stored subtree they finished."""
        stored = dict(nodes)
        for ev in events:
            self._event(ev, stored)
        for (level, idx), _ in sorted(stored.items()):
            last = ((idx + 1) << level) - 1
            self.fault(last, "unexpected_node", f"stored subtree ({level}, {idx}) should not exist")

    def _event(self, ev: StoredEvent, stored: dict[merkle.NodeKey, bytes]) -> None:
        if ev.seq != self._next_seq:
            self.fault(
                self._next_seq, "gap", f"event {self._next_seq} is missing (next is {ev.seq})"
            )
        self._next_seq = ev.seq + 1
        expected_leaf = LeafEnvelope(
            origin=self.origin,
            seq=ev.seq,
            time=ev.logged_at,
            event_hash=ev.hash,
            kid=ev.kid,
            sig=ev.sig,
        ).to_bytes()
        if expected_leaf != ev.leaf:
            self.fault(ev.seq, "bad_leaf", "the log leaf does not commit to this event")
        size = self._size
        self._size += 1
        self._frontier, finished = merkle.append(self._frontier, size, merkle.leaf_hash(ev.leaf))
        for key, value in finished:
            got = stored.pop(key, None)
            if got != value:
                what = "is missing" if got is None else "has the wrong hash"
                self.fault(ev.seq, "bad_node", f"stored subtree {key} {what}")
        if size + 1 in self._want_roots:
            self._roots[size + 1] = merkle.frontier_root(self._frontier)
        self._known.add(ev.hash)
        self._replay(ev)

    def _replay(self, ev: StoredEvent) -> None:
        try:
            body = parse_strict(ev.body)
        except (GoldtraceError, RecursionError):
            self.fault(ev.seq, "bad_body", "the event body is not strict JSON")
            return
        if not isinstance(body, dict):
            self.fault(ev.seq, "bad_body", "the event body is not a JSON object")
            return
        columns = (body.get("type"), body.get("actor"), body.get("occurred_at"))
        if columns != (ev.type, ev.actor, ev.occurred_at):
            self.fault(ev.seq, "bad_columns", "type, actor or time columns differ from the body")
        prev = body.get("prev")
        if body.get("v") != EVENT_VERSION or not isinstance(prev, list) or not _is_prev_list(prev):
            self.fault(ev.seq, "bad_body", "version or prev list is malformed")
            return
        for link in prev:
            if bytes.fromhex(link) not in self._known:
                self.fault(ev.seq, "bad_prev", f"prev {link} is not an earlier event")
        try:
            public_key = self.rules.signer_for(ev.seq, body, ev.kid)
            self.rules.apply(ev.seq, body, ev.hash)
        except GoldtraceError as exc:
            self.fault(ev.seq, exc.code, exc.message)
            return
        except (
            TypeError,
            ValueError,
            KeyError,
            AttributeError,
            OverflowError,
            RecursionError,
        ) as exc:
            # The hash matched but the content is not what any writer produces: a forged body.
            self.fault(ev.seq, "bad_body", f"the event body is malformed ({type(exc).__name__})")
            return
        self._batch.append((ev.seq, ev.body, ev.hash, public_key, ev.sig))
        if len(self._batch) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        self.report.signatures += len(batch)
        if self._pool is None:
            self.report.faults.extend(check_signatures(batch))
            return
        self._pending.append(self._pool.submit(check_signatures, batch))
        while len(self._pending) > 2 * self._workers:
            self.report.faults.extend(self._pending.popleft().result())

    def finish(
        self,
        *,
        head_size: int,
        head_root: bytes,
        head_frontier: Sequence[bytes],
        node_count: int,
        checkpoints: Sequence[StoredCheckpoint],
        log_verifier: note.Verifier | None,
    ) -> Report:
        """Check the head, the node count and every checkpoint; wait for the workers; return the report."""
        self._flush()
        try:
            while self._pending:
                self.report.faults.extend(self._pending.popleft().result())
        finally:
            if self._pool is not None:
                self._pool.shutdown()
        size = self._size
        root = merkle.frontier_root(self._frontier)
        self.report.size, self.report.root = size, root
        if head_size != size:
            self.fault(
                min(size, head_size), "head_size", f"head says {head_size} entries, log has {size}"
            )
        elif head_root != root or list(head_frontier) != self._frontier:
            self.fault(max(size - 1, 0), "head_root", "the head's root or frontier is wrong")
        expected_nodes = 2 * size - bin(size).count("1")
        if node_count != expected_nodes:
            self.fault(
                max(size - 1, 0),
                "node_count",
                f"{node_count} subtree hashes stored, {expected_nodes} expected",
            )
        for cp in checkpoints:
            self._checkpoint(cp, size, log_verifier)
        return self.report

    def _checkpoint(
        self, cp: StoredCheckpoint, size: int, log_verifier: note.Verifier | None
    ) -> None:
        at = max(cp.size - 1, 0)
        if cp.size > size:
            self.fault(
                size, "truncated", f"a checkpoint was signed at size {cp.size}; the log has {size}"
            )
            return
        if log_verifier is None:
            self.fault(at, "no_log_key", "no log key to check the checkpoint with")
            return
        try:
            signed, _ = note.open_checkpoint(cp.note, log_verifier, origin=self.origin)
        except GoldtraceError as exc:
            self.fault(at, "bad_checkpoint", f"checkpoint {cp.size}: {exc.message}")
            return
        self.report.checkpoints += 1
        if (signed.size, signed.root) != (cp.size, cp.root):
            self.fault(at, "bad_checkpoint", f"checkpoint {cp.size} row differs from its note")
        if self._roots.get(signed.size) != signed.root:
            self.fault(
                at, "checkpoint_root", f"the log's root at size {signed.size} is not the signed one"
            )
