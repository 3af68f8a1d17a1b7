"""Physical baselines: raw DB-API inserts of event-sized rows, Ed25519 and SHA-256 on one core.

These are what the machine and the database can do with no goldtrace code in the way; every figure of
the benchmark is printed as a ratio to one of them, measured in the same run.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_open

import timing
from eventrows import RowMaker, insert_event_sql, insert_node_sql
from goldtrace.db.durability import FLUSH_WAIT
from goldtrace.ledger.keys import private_bytes, public_bytes, signature_message
from scratch import SQLITE, Database

# Writer w of a raw run writes seqs from SEQ_BASE + w * SEQ_STRIDE; every run takes fresh bases.
SEQ_STRIDE = 10**9


def ed25519_sign_rate(seconds: float) -> float:
    """Signatures per second of one core over an event signature message with libsodium, as
    ``sign_event`` makes them."""
    key = Ed25519PrivateKey.generate()
    secret = private_bytes(key) + public_bytes(key)
    message = signature_message(os.urandom(32))
    return timing.rate(lambda: crypto_sign(message, secret), seconds, chunk=256)


def ed25519_openssl_sign_rate(seconds: float) -> float:
    """Signatures per second of one core with OpenSSL (cryptography): what appends signed with
    before, kept for comparison."""
    key = Ed25519PrivateKey.generate()
    message = signature_message(os.urandom(32))
    return timing.rate(lambda: key.sign(message), seconds, chunk=256)


def ed25519_verify_rate(seconds: float) -> float:
    """Verifications per second of one core with libsodium, the implementation every event
    signature check uses (``verify_event_signature``): the fastest Ed25519 on this machine."""
    key = Ed25519PrivateKey.generate()
    message = signature_message(os.urandom(32))
    signed = key.sign(message) + message
    public = public_bytes(key)
    return timing.rate(lambda: crypto_sign_open(signed, public), seconds, chunk=256)


def ed25519_openssl_verify_rate(seconds: float) -> float:
    """Verifications per second of one core with OpenSSL (cryptography), the key object already
    loaded: the implementation goldtrace checked signatures with before, kept for comparison."""
    key = Ed25519PrivateKey.generate()
    message = signature_message(os.urandom(32))
    sig = key.sign(message)
    public = key.public_key()
    return timing.rate(lambda: public.verify(sig, message), seconds, chunk=256)


def ed25519_parallel_verify_rate(seconds: float, processes: int) -> float:
    """Verifications per second of ``processes`` processes verifying at the same time: what the cores
    deliver together (less than the 1-core rate times the cores when they share a physical core or
    a neighbour's load)."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        list(pool.map(ed25519_verify_rate, [0.05] * processes))  # every process started first
        return sum(pool.map(ed25519_verify_rate, [seconds] * processes))


def sha256_rate(seconds: float, size: int = 300) -> float:
    """SHA-256 digests per second of ``size``-byte inputs on one core."""
    data = os.urandom(size)
    sha256 = hashlib.sha256
    return timing.rate(lambda: sha256(data).digest(), seconds, chunk=1024)


@dataclass(frozen=True)
class RawSpec:
    """What a raw writer needs: the database, where its seqs start and whether to lock a head row."""

    db: Database
    seq_base: int
    lock_head: bool = False
    # PostgreSQL, with lock_head: commit asynchronously, then wait for the disk, as appends do.
    release_early: bool = False


class RawInsert:
    """One transaction per call: one event row and its node rows, committed (optionally under a lock).

    With ``lock_head`` the transaction first locks the log_head row and updates it before committing,
    as every append must: the best any design that serialises writers on one row can do. With
    ``release_early`` as well it frees the lock before the disk flush and then waits for the flush,
    exactly as goldtrace.db.durability makes appends do: the best the design goldtrace uses can do.
    """

    def __init__(self, spec: RawSpec, index: int) -> None:
        self.db = spec.db
        self.conn: Any = spec.db.raw_connect()
        self.maker = RowMaker.new()
        self.seq = spec.seq_base + index * SEQ_STRIDE
        self.lock_head = spec.lock_head
        mark = spec.db.placeholder
        self.event_sql = insert_event_sql(mark)
        self.node_sql = insert_node_sql(mark)
        lock = "" if spec.db.kind == SQLITE else " FOR UPDATE"  # SQLite: BEGIN IMMEDIATE locks
        early = ", set_config('synchronous_commit', 'off', true)" if spec.release_early else ""
        self.lock_sql = f"SELECT size{early} FROM log_head WHERE id = 1{lock}"  # noqa: S608
        self.release_early = spec.release_early
        self.update_sql = f"UPDATE log_head SET root = {mark} WHERE id = 1"  # noqa: S608

    def __call__(self) -> None:
        seq = self.seq
        self.seq += 1
        conn = self.conn
        if self.db.kind == SQLITE:
            conn.execute("BEGIN IMMEDIATE")
            cur = conn
        else:
            cur = conn.cursor()
        if self.lock_head:
            cur.execute(self.lock_sql).fetchone()
        cur.execute(self.event_sql, self.maker.event(seq))
        cur.executemany(self.node_sql, self.maker.nodes(seq))
        if self.lock_head:
            cur.execute(self.update_sql, (self.maker.salt * 2,))
        if self.db.kind == SQLITE:
            conn.execute("COMMIT")
        else:
            conn.commit()
            if self.release_early:
                conn.pgconn.exec_(FLUSH_WAIT)

    def close(self) -> None:
        self.conn.close()


def raw_insert_op(spec: RawSpec, index: int) -> RawInsert:
    """Op factory for parallel.run_window."""
    return RawInsert(spec, index)


class RawBatch:
    """Inserts ``batch`` event rows and their nodes with executemany in one transaction per call."""

    def __init__(self, db: Database, seq_base: int, batch: int) -> None:
        self.db = db
        self.conn: Any = db.raw_connect()
        self.maker = RowMaker.new()
        self.seq = seq_base
        self.batch = batch
        self.event_sql = insert_event_sql(db.placeholder)
        self.node_sql = insert_node_sql(db.placeholder)

    def __call__(self) -> None:
        seqs = range(self.seq, self.seq + self.batch)
        self.seq += self.batch
        events = [self.maker.event(s) for s in seqs]
        nodes = [n for s in seqs for n in self.maker.nodes(s)]
        if self.db.kind == SQLITE:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(self.event_sql, events)
            self.conn.executemany(self.node_sql, nodes)
            self.conn.execute("COMMIT")
        else:
            with self.conn.cursor() as cur:
                cur.executemany(self.event_sql, events)
                cur.executemany(self.node_sql, nodes)
            self.conn.commit()

    def close(self) -> None:
        self.conn.close()
