"""Full verification of a stored ledger, independent of how it is stored.

The caller streams events (in seq order) with the subtree hashes they completed; the verifier recomputes
every event hash, leaf, subtree hash and root, replays the domain rules to know which key had to sign
each event, and checks the signatures, three quarters of the work, in as many processes as there are
cores (docs/performance.md explains the split).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from goldtrace.errors import GoldtraceError
from goldtrace.ledger import merkle, note
from goldtrace.ledger.event_checks import EventRow, SignatureItem, bad_signatures, examine
from goldtrace.ledger.events import EVENT_VERSION

# Signatures are checked in tasks of about 20 ms: pickling is amortised, and the last tasks
# spread over every process.
SIGN_CHUNK = 256
# Tasks queued per pool process: enough that none runs dry while the main process reads a page.
SIGN_AHEAD = 8
# Below this many events a process pool costs more than it saves.
PARALLEL_THRESHOLD = 4096
MAX_REPORTED_FAULTS = 50
_HEX64 = re.compile(r"[0-9a-f]{64}")
_VERDICTS = {
    "hash_mismatch": "the event body does not match its hash",
    "not_canonical": "the event body is not canonical JSON",
}


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


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a verification, then restore it as it was.

    The replay builds a large state of long-lived objects and no reference cycles, so the
    collector's full passes over a growing heap find nothing and cost a fifth of the main process's
    time; reference counting still frees everything as before. The collector is process-wide, so
    it is paused only when the verification runs in the main thread (the command line); a job in a
    server's thread leaves it running for the requests served beside it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pool_context() -> multiprocessing.context.BaseContext:
    """Fork when that is safe: on Linux, with no other thread that could hold a lock at the fork.

    Otherwise (a verification job in a server's thread) a forkserver, whose processes start by
    importing the parent's main module again: for ``goldtrace verify`` that is the whole command
    line interface, about a second before a worker checks its first signature.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver")


def _is_prev_list(prev: Any) -> bool:
    """True for the form build_body writes: sorted, distinct, lowercase 64-digit hex hashes."""
    return (
        isinstance(prev, list)
        and all(isinstance(p, str) and _HEX64.fullmatch(p) for p in prev)
        and prev == sorted(set(prev))
    )


class LedgerVerifier:
    """Feed it every event and its finished subtrees in order, then call ``finish``.

    The main process runs every check but the signatures, in seq order: the stateless ones
    (``event_checks.examine``), the Merkle fold, ``prev`` links and the rules, which say which key had
    to sign each event. The signatures go in small tasks to a pool of ``workers - 1`` processes; the
    main process checks those the pool has no room for, so it does its share while the pool cannot
    keep up, and none while reading. Moving the stateless checks to the pool as well costs more
    in pickling (the parsed bodies must come back) than it saves.
    """

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
        # Signature tasks given to the pool, and those nobody has taken yet.
        self._signing: deque[tuple[Future[list[int]], list[SignatureItem]]] = deque()
        self._unsigned: deque[list[SignatureItem]] = deque()
        count = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        # The main process is one of the ``count`` that check signatures: one process per core,
        # since three processes time-sharing two cores lose more than the main process's share.
        self._pool_size = count - 1
        if count > 1 and expected_size >= PARALLEL_THRESHOLD:
            self._pool = ProcessPoolExecutor(self._pool_size, mp_context=_pool_context())
            # The pool starts a process per task it cannot hand to an idle one: start them all
            # now, so that they are ready by the time the first events have been replayed.
            for _ in range(self._pool_size):
                self._signing.append((self._pool.submit(bad_signatures, []), []))

    def want_root_at(self, sizes: Iterable[int]) -> None:
        """Remember the roots at these sizes (the checkpoints') as the tree grows past them."""
        self._want_roots.update(sizes)

    def fault(self, seq: int, code: str, message: str) -> None:
        """Record a fault."""
        self.report.faults.append(Fault(seq, code, message))

    def feed(self, events: Iterable[StoredEvent], nodes: Mapping[merkle.NodeKey, bytes]) -> None:
        """Check a run of consecutive events; ``nodes`` holds every stored subtree they finished."""
        self.feed_rows(
            [
                (
                    e.seq,
                    e.hash,
                    e.type,
                    e.actor,
                    e.occurred_at,
                    e.body,
                    e.kid,
                    e.sig,
                    e.leaf,
                    e.logged_at,
                )
                for e in events
            ],
            nodes,
        )

    def feed_rows(self, rows: Sequence[EventRow], nodes: Mapping[merkle.NodeKey, bytes]) -> None:
        """``feed`` for plain row tuples in ``StoredEvent`` field order, as a database returns them."""
        stored = dict(nodes)
        examined = examine(self.origin, rows)
        signatures: list[SignatureItem] = []
        for i, row in enumerate(rows):
            seq = row[0]
            if seq != self._next_seq:
                self.fault(
                    self._next_seq, "gap", f"event {self._next_seq} is missing (next is {seq})"
                )
            self._next_seq = seq + 1
            if i in examined.bad_leaves:
                self.fault(seq, "bad_leaf", "the log leaf does not commit to this event")
            self._fold(seq, examined.leaf_hashes[i], stored)
            self._known.add(row[1])
            if i in examined.unparsable:
                self.fault(seq, "bad_body", "the event body is not strict JSON")
                continue
            public_key = self._apply(row, examined.bodies[i])
            if public_key is None:
                continue
            self.report.signatures += 1
            verdict = examined.verdicts.get(i)
            if verdict is not None:
                self.fault(seq, verdict, _VERDICTS[verdict])
                continue
            signatures.append((seq, public_key, row[1], row[7]))
            if len(signatures) == SIGN_CHUNK:
                self._check_signatures(signatures)
                signatures = []
        for (level, idx), _ in sorted(stored.items()):
            last = ((idx + 1) << level) - 1
            self.fault(last, "unexpected_node", f"stored subtree ({level}, {idx}) should not exist")
        self._check_signatures(signatures)

    def _fold(self, seq: int, leaf_hash: bytes, stored: dict[merkle.NodeKey, bytes]) -> None:
        size = self._size
        self._size += 1
        self._frontier, finished = merkle.append(self._frontier, size, leaf_hash)
        for key, value in finished:
            got = stored.pop(key, None)
            if got != value:
                what = "is missing" if got is None else "has the wrong hash"
                self.fault(seq, "bad_node", f"stored subtree {key} {what}")
        if size + 1 in self._want_roots:
            self._roots[size + 1] = merkle.frontier_root(self._frontier)

    def _apply(self, row: EventRow, body: Any) -> bytes | None:
        """Check the body against the columns, ``prev`` and the rules; return the key that had to
        sign it, or None after recording why it cannot be checked further."""
        seq, event_hash, type_, actor, occurred_at = row[:5]
        if not isinstance(body, dict):
            self.fault(seq, "bad_body", "the event body is not a JSON object")
            return None
        if (body.get("type"), body.get("actor"), body.get("occurred_at")) != (
            type_,
            actor,
            occurred_at,
        ):
            self.fault(seq, "bad_columns", "type, actor or time columns differ from the body")
        prev = body.get("prev")
        if body.get("v") != EVENT_VERSION or not isinstance(prev, list) or not _is_prev_list(prev):
            self.fault(seq, "bad_body", "version or prev list is malformed")
            return None
        for link in prev:
            if bytes.fromhex(link) not in self._known:
                self.fault(seq, "bad_prev", f"prev {link} is not an earlier event")
        try:
            public_key = self.rules.signer_for(seq, body, row[6])
            self.rules.apply(seq, body, event_hash)
        except GoldtraceError as exc:
            self.fault(seq, exc.code, exc.message)
            return None
        except (
            TypeError,
            ValueError,
            KeyError,
            AttributeError,
            OverflowError,
            RecursionError,
        ) as exc:
            # The hash matched but the content is not what any writer produces: a forged body.
            self.fault(seq, "bad_body", f"the event body is malformed ({type(exc).__name__})")
            return None
        return public_key

    def _check_signatures(self, items: list[SignatureItem]) -> None:
        if not items:
            return
        if self._pool is None:
            self._signature_faults(bad_signatures(items))
            return
        self._unsigned.append(items)
        self._share_signatures(until_done=False)

    def _share_signatures(self, *, until_done: bool) -> None:
        """Keep the pool's queue full and check here what does not fit in it. ``until_done``: then
        take back the tasks no pool process has started (all of them if the pool is slow to start)
        and wait for the others."""
        assert self._pool is not None
        while True:
            while self._signing and self._signing[0][0].done():
                self._signature_faults(self._signing.popleft()[0].result())
            while self._unsigned and len(self._signing) < SIGN_AHEAD * self._pool_size:
                items = self._unsigned.popleft()
                self._signing.append((self._pool.submit(bad_signatures, items), items))
            if not self._unsigned:
                break
            self._signature_faults(bad_signatures(self._unsigned.pop()))
        if not until_done:
            return
        for future, items in reversed(self._signing):
            if future.cancel():
                self._signature_faults(bad_signatures(items))
        for future, _ in self._signing:
            if not future.cancelled():
                self._signature_faults(future.result())
        self._signing.clear()

    def _signature_faults(self, seqs: list[int]) -> None:
        for seq in seqs:
            self.fault(seq, "bad_signature", "the signature does not verify")

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
        try:
            if self._pool is not None:
                self._share_signatures(until_done=True)
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
