"""Inclusion and consistency proofs served from a large log.

Proofs read only ``log_node`` (and the head's size), so the log is built directly: synthetic leaves are
hashed and folded with ``goldtrace.ledger.merkle.append`` (real subtree hashes, so every proof served
verifies against the real root), the node rows are bulk-loaded (executemany on SQLite, COPY on
PostgreSQL) and the head row is set. The event table stays empty.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

import timing
from eventrows import NodeRow, insert_node_sql
from goldtrace.db.session import make_engine
from goldtrace.ledger import merkle
from goldtrace.services import transparency
from scratch import SQLITE, Database


@dataclass
class SyntheticLog:
    """A log built in memory: every node row, every leaf hash and the roots at chosen sizes."""

    size: int
    nodes: list[NodeRow]
    leaf_hashes: list[bytes]
    frontier: list[bytes]
    roots: dict[int, bytes] = field(default_factory=dict)

    @property
    def root(self) -> bytes:
        """The root of the whole log."""
        return merkle.frontier_root(self.frontier)


def build_log(size: int, root_sizes: Iterable[int]) -> SyntheticLog:
    """Return a log of ``size`` synthetic leaves, remembering its roots at ``root_sizes``."""
    wanted = set(root_sizes)
    frontier: list[bytes] = []
    nodes: list[NodeRow] = []
    leaf_hashes: list[bytes] = []
    roots: dict[int, bytes] = {}
    for seq in range(size):
        leaf_hash = merkle.leaf_hash(b"bench-leaf:" + seq.to_bytes(8, "big"))
        leaf_hashes.append(leaf_hash)
        frontier, finished = merkle.append(frontier, seq, leaf_hash)
        nodes.extend((level, idx, h) for (level, idx), h in finished)
        if seq + 1 in wanted:
            roots[seq + 1] = merkle.frontier_root(frontier)
    return SyntheticLog(size, nodes, leaf_hashes, frontier, roots)


def load(db: Database, log: SyntheticLog) -> None:
    """Write the log's nodes and head into the migrated, empty ``db`` and refresh planner statistics."""
    conn: Any = db.raw_connect()
    head = (log.size, log.root, b"".join(log.frontier))
    try:
        if db.kind == SQLITE:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(insert_node_sql("?"), log.nodes)
            conn.execute("UPDATE log_head SET size = ?, root = ?, frontier = ? WHERE id = 1", head)
            conn.execute("COMMIT")
            conn.execute("ANALYZE")
        else:
            with conn.cursor() as cur:
                with cur.copy("COPY log_node (level, idx, hash) FROM STDIN") as copy:
                    for row in log.nodes:
                        copy.write_row(row)
                cur.execute(
                    "UPDATE log_head SET size = %s, root = %s, frontier = %s WHERE id = 1", head
                )
            conn.commit()
            # What autovacuum would have done by the time a log is this big.
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE log_node")
    finally:
        conn.close()


@dataclass
class ProofTimes:
    """Per-call seconds of proofs and of the raw one-node lookup they are compared with."""

    inclusion: list[float]
    consistency: list[float]
    lookup: list[float]
    verified: int


def measure(
    db: Database, log: SyntheticLog, samples: int, rng: random.Random, *, budget: float
) -> ProofTimes:
    """Time up to ``samples`` inclusion and consistency proofs (each in its own session, as a request
    is; at most ``budget`` seconds of each kind) and raw primary-key lookups of one node; verify every
    proof served."""
    engine = make_engine(db.url)
    size = log.size
    seqs = [rng.randrange(size) for _ in range(samples)]
    firsts = sorted(log.roots)[:samples]
    rng.shuffle(firsts)
    inclusion: dict[int, list[bytes]] = {}
    consistency: dict[int, list[bytes]] = {}

    def prove_inclusion(seq: int) -> None:
        with Session(engine) as s:
            inclusion[seq] = transparency.inclusion_proof(s, seq, size)

    def prove_consistency(first: int) -> None:
        with Session(engine) as s:
            consistency[first] = transparency.consistency_proof(s, first, size)

    try:
        prove_inclusion(seqs[0])  # warm the pool and the statement caches
        prove_consistency(firsts[0])
        inclusion_times = timing.latencies(prove_inclusion, seqs, budget=budget)
        consistency_times = timing.latencies(prove_consistency, firsts, budget=budget)
        lookup_times = _lookups(db, log, samples, rng)
    finally:
        engine.dispose()
    root = log.root
    for seq, proof in inclusion.items():
        merkle.verify_inclusion(log.leaf_hashes[seq], seq, size, proof, root)
    for first, proof in consistency.items():
        merkle.verify_consistency(first, size, log.roots[first], root, proof)
    return ProofTimes(
        inclusion_times, consistency_times, lookup_times, len(inclusion) + len(consistency)
    )


def _lookups(db: Database, log: SyntheticLog, samples: int, rng: random.Random) -> list[float]:
    """Seconds per raw DB-API primary-key lookup of one random node on an open connection."""
    mark = db.placeholder
    sql = f"SELECT hash FROM log_node WHERE level = {mark} AND idx = {mark}"  # noqa: S608
    conn: Any = db.raw_connect()
    keys = [log.nodes[rng.randrange(len(log.nodes))][:2] for _ in range(samples)]

    def lookup(key: tuple[int, int]) -> None:
        row = conn.execute(sql, key).fetchone()
        assert row is not None

    try:
        lookup(keys[0])
        return timing.latencies(lookup, keys)
    finally:
        conn.close()
