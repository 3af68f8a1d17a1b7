"""Tests for goldtrace.ledger.merkle against RFC 6962 vectors and a naive RFC reference."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from goldtrace.errors import ProofError
from goldtrace.ledger import merkle
from goldtrace.ledger.merkle import NodeKey

# --------------------------------------------------------------------------------------------
# Naive reference, transcribed from RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1. It works on leaf
# *inputs* and hashes with hashlib directly so it shares nothing with the module under test.


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


# --------------------------------------------------------------------------------------------
# Data: the RFC 6962 test leaves, extended to 64 with leaves of our own.

RFC_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
MAX = 64
DATA = RFC_LEAVES + [f"goldtrace-lot-{i}".encode() for i in range(len(RFC_LEAVES), MAX)]
HASHES = [merkle.leaf_hash(d) for d in DATA]

RFC_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# Every perfect subtree of the 8-leaf RFC tree, level by level (transparency-dev/merkle
# testonly NodeHashes).
RFC_NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# (0-based leaf index, tree size, audit path) from Google certificate-transparency's
# python/ct/crypto/merkle_test.py.
RFC_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (first, second, proof) from the same file.
RFC_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def _grow(hashes: Sequence[bytes]) -> tuple[list[list[bytes]], dict[NodeKey, bytes]]:
    """Frontiers for sizes 0..len(hashes) and every node append reported, via append only."""
    frontiers: list[list[bytes]] = [[]]
    store: dict[NodeKey, bytes] = {}
    for size, h in enumerate(hashes):
        frontier, completed = merkle.append(frontiers[-1], size, h)
        frontiers.append(frontier)
        store.update(completed)
    return frontiers, store


FRONTIERS, STORE = _grow(HASHES)
ROOTS = [ref_mth(DATA[:n]) for n in range(MAX + 1)]


def _fetch(ranges: Sequence[tuple[int, int]], size: int) -> list[bytes]:
    """Build a proof the way the DB layer will: one fetch of nodes_for(ranges), then assemble."""
    keys = merkle.nodes_for(ranges)
    # Only finished subtrees of the tree being proven may be asked for.
    assert all((i + 1) << level <= size for level, i in keys)
    # O(log n) reads per proof is the point of the storage model.
    assert len(keys) <= 2 * size.bit_length()
    return merkle.assemble(ranges, {k: STORE[k] for k in keys})


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[(bit // 8) % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


def _rejects(code: str, fn: Callable[..., None], *args: Any) -> bool:
    # try/except instead of pytest.raises: these loops run a few hundred thousand times.
    try:
        fn(*args)
    except ProofError as e:
        assert e.code == code, e.code
        return True
    return False


INC = "inclusion_proof_invalid"
CON = "consistency_proof_invalid"

# --------------------------------------------------------------------------------------------
# Known answers


def test_constants() -> None:
    assert merkle.HASH_SIZE == 32
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_rfc6962_tree_heads() -> None:
    assert merkle.root([]) == merkle.EMPTY_ROOT
    assert merkle.frontier_root([]) == merkle.EMPTY_ROOT
    for n, expected in enumerate(RFC_ROOTS, start=1):
        assert merkle.root(HASHES[:n]).hex() == expected
        assert merkle.frontier_root(FRONTIERS[n]).hex() == expected
        assert ROOTS[n].hex() == expected  # the reference itself is right


def test_rfc6962_subtree_nodes() -> None:
    _, store = _grow(HASHES[:8])
    expected = {
        (level, i): bytes.fromhex(h)
        for level, row in enumerate(RFC_NODES)
        for i, h in enumerate(row)
    }
    assert store == expected


@pytest.mark.parametrize(("index", "size", "path"), RFC_INCLUSION)
def test_rfc6962_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    proof = merkle.inclusion_proof(index, size, HASHES)
    assert [h.hex() for h in proof] == path
    merkle.verify_inclusion(HASHES[index], index, size, proof, ROOTS[size])


@pytest.mark.parametrize(("first", "second", "path"), RFC_CONSISTENCY)
def test_rfc6962_consistency_vectors(first: int, second: int, path: list[str]) -> None:
    proof = merkle.consistency_proof(first, second, HASHES)
    assert [h.hex() for h in proof] == path
    merkle.verify_consistency(first, second, ROOTS[first], ROOTS[second], proof)


# --------------------------------------------------------------------------------------------
# Against the reference, every size 1..64


def test_root_and_append_match_reference() -> None:
    for n in range(MAX + 1):
        assert merkle.root(HASHES[:n]) == ROOTS[n]
        assert merkle.frontier_root(FRONTIERS[n]) == ROOTS[n]
        assert len(FRONTIERS[n]) == n.bit_count()
        assert FRONTIERS[n] == [STORE[k] for k in merkle.frontier_keys(n)]


def test_append_reports_completed_subtrees() -> None:
    frontier: list[bytes] = []
    for size, h in enumerate(HASHES):
        frontier, completed = merkle.append(frontier, size, h)
        assert completed[0] == ((0, size), h)
        assert [level for (level, _), _ in completed] == list(range(len(completed)))
        for (level, i), node in completed:
            assert (i + 1) << level == size + 1  # each ends at the new leaf
            assert node == ref_mth(DATA[i << level : (i + 1) << level])
        # The largest completed subtree is the new last frontier entry.
        assert frontier[-1] == completed[-1][1]


def test_range_hash_from_appended_nodes() -> None:
    valid = 0
    store: dict[NodeKey, bytes] = {}
    for size, h in enumerate(HASHES):
        store.update(merkle.append(FRONTIERS[size], size, h)[1])
        end = size + 1
        # With only the nodes known at this size, every admissible range ending here hashes.
        for start in range(end):
            width = end - start
            if start % (1 << (width - 1).bit_length()):
                with pytest.raises(ValueError):
                    merkle.range_nodes(start, end)
                continue
            valid += 1
            assert merkle.range_hash(start, end, store) == ref_mth(DATA[start:end])
            assert merkle.range_nodes(start, end)[0][0] == width.bit_length() - 1
    assert valid > MAX


def test_every_inclusion_proof_matches_reference() -> None:
    for n in range(1, MAX + 1):
        for i in range(n):
            expected = ref_path(i, DATA[:n])
            assert merkle.inclusion_proof(i, n, HASHES) == expected
            assert _fetch(merkle.inclusion_ranges(i, n), n) == expected
            merkle.verify_inclusion(HASHES[i], i, n, expected, ROOTS[n])


def test_every_consistency_proof_matches_reference() -> None:
    for n in range(1, MAX + 1):
        for m in range(1, n + 1):
            expected = ref_proof(m, DATA[:n])
            assert merkle.consistency_proof(m, n, HASHES) == expected
            assert _fetch(merkle.consistency_ranges(m, n), n) == expected
            merkle.verify_consistency(m, n, ROOTS[m], ROOTS[n], expected)
        merkle.verify_consistency(0, n, merkle.EMPTY_ROOT, ROOTS[n], [])


# --------------------------------------------------------------------------------------------
# Exhaustive rejection, every size 1..64


def test_inclusion_rejections() -> None:
    v = merkle.verify_inclusion
    for n in range(1, MAX + 1):
        for i in range(n):
            proof = merkle.inclusion_proof(i, n, HASHES)
            lh, r = HASHES[i], ROOTS[n]
            if proof:
                assert _rejects(INC, v, lh, i, n, proof[:-1], r)
            assert _rejects(INC, v, lh, i, n, [*proof, HASHES[0]], r)
            assert _rejects(INC, v, lh, i, n, [*proof, proof[-1] if proof else lh], r)
            for j in range(len(proof)):
                bad = [*proof[:j], _flip(proof[j], 7 * j + i), *proof[j + 1 :]]
                assert _rejects(INC, v, lh, i, n, bad, r)
            for j in range(n):
                if j != i:
                    assert _rejects(INC, v, lh, j, n, proof, r)
                    assert _rejects(INC, v, HASHES[j], i, n, proof, r)
            for m in range(i + 1, MAX + 1):
                # Another size, with that size's genuine root.
                if m != n:
                    assert _rejects(INC, v, lh, i, m, proof, ROOTS[m])
            assert _rejects(INC, v, lh, i, n, proof, _flip(r, i))
            assert _rejects(INC, v, lh, i, n, proof, ROOTS[n - 1])
            assert _rejects(INC, v, _flip(lh, n), i, n, proof, r)
            assert _rejects(INC, v, lh, n, n, proof, r)  # index == size
            assert _rejects(INC, v, lh, -1, n, proof, r)
            assert _rejects(INC, v, lh, i, n, [*proof, b"\x00" * 31], r)
            assert _rejects(INC, v, lh[:31], i, n, proof, r)


def test_consistency_rejections() -> None:
    v = merkle.verify_consistency
    for n in range(1, MAX + 1):
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(m, n, HASHES)
            r1, r2 = ROOTS[m], ROOTS[n]
            if proof:
                assert _rejects(CON, v, m, n, r1, r2, proof[:-1])
                assert _rejects(CON, v, m, n, r1, r2, proof[1:])
            assert _rejects(CON, v, m, n, r1, r2, [*proof, HASHES[0]])
            assert _rejects(CON, v, m, n, r1, r2, [*proof, proof[-1] if proof else r2])
            for j in range(len(proof)):
                bad = [*proof[:j], _flip(proof[j], 5 * j + m), *proof[j + 1 :]]
                assert _rejects(CON, v, m, n, r1, r2, bad)
            for m2 in range(1, n + 1):
                if m2 != m:
                    assert _rejects(CON, v, m2, n, ROOTS[m2], r2, proof)
            for n2 in range(m, MAX + 1):
                if n2 != n:
                    assert _rejects(CON, v, m, n2, r1, ROOTS[n2], proof)
            assert _rejects(CON, v, m, n, _flip(r1, n), r2, proof)
            assert _rejects(CON, v, m, n, r1, _flip(r2, m), proof)
            if m > 1:
                assert _rejects(CON, v, m, n, ROOTS[m - 1], r2, proof)
            if n < MAX:
                assert _rejects(CON, v, m, n, r1, ROOTS[n + 1], proof)
            assert _rejects(CON, v, n + 1, n, r1, r2, proof)  # first > second
            assert _rejects(CON, v, -m, n, r1, r2, proof)
            if proof:
                assert _rejects(CON, v, m, n, r1, r2, [*proof[:-1], proof[-1][:31]])
        assert _rejects(CON, v, 0, n, merkle.EMPTY_ROOT, ROOTS[n], [ROOTS[n]])


def test_equal_and_empty_consistency() -> None:
    merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    merkle.verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert merkle.consistency_ranges(5, 5) == []
    assert _rejects(CON, merkle.verify_consistency, 5, 5, ROOTS[5], ROOTS[4], [])
    assert _rejects(CON, merkle.verify_consistency, 5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    assert _rejects(CON, merkle.verify_consistency, 4, 5, ROOTS[4], ROOTS[5], [])


def test_proof_error_shape() -> None:
    with pytest.raises(ProofError) as exc:
        merkle.verify_inclusion(HASHES[0], 0, 2, [], ROOTS[2])
    assert exc.value.code == INC
    with pytest.raises(ProofError) as exc2:
        merkle.verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])
    assert exc2.value.code == CON


# --------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        (merkle.append, ([], 1, HASHES[0])),
        (merkle.append, ([HASHES[0]], 0, HASHES[0])),
        (merkle.append, ([HASHES[0]], 3, HASHES[0])),
        (merkle.append, ([], -1, HASHES[0])),
        (merkle.append, ([], 0, b"short")),
        (merkle.append, ([b"short"], 1, HASHES[0])),
        (merkle.frontier_keys, (-1,)),
        (merkle.range_nodes, (0, 0)),
        (merkle.range_nodes, (3, 2)),
        (merkle.range_nodes, (-2, 2)),
        (merkle.range_nodes, (1, 3)),
        (merkle.range_nodes, (2, 5)),
        (merkle.range_nodes, (4, 9)),
        (merkle.range_hash, (1, 3, STORE)),
        (merkle.inclusion_ranges, (0, 0)),
        (merkle.inclusion_ranges, (5, 5)),
        (merkle.inclusion_ranges, (-1, 5)),
        (merkle.consistency_ranges, (0, 5)),
        (merkle.consistency_ranges, (6, 5)),
        (merkle.consistency_ranges, (-1, 5)),
        (merkle.nodes_for, ([(0, 4), (1, 3)],)),
        (merkle.inclusion_proof, (0, 9, HASHES[:8])),
        (merkle.inclusion_proof, (8, 8, HASHES[:8])),
        (merkle.consistency_proof, (3, 9, HASHES[:8])),
        (merkle.consistency_proof, (0, 8, HASHES[:8])),
    ],
)
def test_bad_arguments_raise_value_error(fn: Callable[..., object], args: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError):
        fn(*args)


def test_missing_node_raises_key_error() -> None:
    with pytest.raises(KeyError):
        merkle.range_hash(0, 8, {(2, 0): HASHES[0]})


# --------------------------------------------------------------------------------------------
# Properties at larger sizes


def _leaves(seed: int, n: int) -> list[bytes]:
    return [merkle.leaf_hash(seed.to_bytes(8, "big") + i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), n=st.integers(0, 3000))
@example(seed=1, n=2048)
@example(seed=2, n=2049)
@example(seed=3, n=3000)
def test_prop_append_frontier_root_equals_root(seed: int, n: int) -> None:
    hashes = _leaves(seed, n)
    frontier: list[bytes] = []
    store: dict[NodeKey, bytes] = {}
    for size, h in enumerate(hashes):
        frontier, completed = merkle.append(frontier, size, h)
        store.update(completed)
    assert merkle.frontier_root(frontier) == merkle.root(hashes)
    assert frontier == [store[k] for k in merkle.frontier_keys(n)]
    # A node count of 2n - popcount(n) means nothing was reported twice or missed.
    assert len(store) == 2 * n - n.bit_count()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), data=st.data())
def test_prop_proofs_verify(seed: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 3000), label="size")
    index = data.draw(st.integers(0, n - 1), label="index")
    first = data.draw(st.integers(1, n), label="first")
    hashes = _leaves(seed, n)
    r = merkle.root(hashes)
    proof = merkle.inclusion_proof(index, n, hashes)
    assert len(proof) <= (n - 1).bit_length()
    merkle.verify_inclusion(hashes[index], index, n, proof, r)
    cproof = merkle.consistency_proof(first, n, hashes)
    merkle.verify_consistency(first, n, merkle.root(hashes[:first]), r, cproof)
    if proof:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(hashes[index], index, n, proof[:-1], r)
    if cproof:
        with pytest.raises(ProofError):
            merkle.verify_consistency(first, n, merkle.root(hashes[:first]), r, cproof[:-1])


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_prop_proofs_match_reference(data: st.DataObject) -> None:
    n = data.draw(st.integers(65, 1500), label="size")
    index = data.draw(st.integers(0, n - 1), label="index")
    first = data.draw(st.integers(1, n), label="first")
    leaves = [i.to_bytes(4, "big") for i in range(n)]
    hashes = [merkle.leaf_hash(d) for d in leaves]
    assert merkle.inclusion_proof(index, n, hashes) == ref_path(index, leaves)
    assert merkle.consistency_proof(first, n, hashes) == ref_proof(first, leaves)
