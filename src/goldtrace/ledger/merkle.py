"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

The tree is described two ways so the storage layer never has to load every leaf:

* a *node key* ``(level, index)`` names the perfect subtree over leaves
  ``[index * 2**level, (index + 1) * 2**level)``; level 0 nodes are leaf hashes;
* a *frontier* of tree size ``n`` is the list of hashes of the perfect subtrees of n's binary
  decomposition, largest (leftmost) first.

Every range that RFC 6962 roots and proofs hash is tiled by at most one perfect subtree per
level, and a whole proof needs at most ``2 * n.bit_length()`` of them, so the storage layer
builds a proof as ``ranges -> nodes_for -> one fetch -> assemble``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

from goldtrace.errors import ProofError

HASH_SIZE: int = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
NodeKey = tuple[int, int]


def leaf_hash(leaf: bytes) -> bytes:
    """Return SHA-256(0x00 || leaf), the RFC 6962 hash of one leaf."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the RFC 6962 hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH of the tree whose leaf hashes are given; EMPTY_ROOT for an empty sequence."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        # Pairing bottom-up and promoting an odd last node builds exactly the tree that
        # RFC 6962's "split at the largest power of two" recursion builds.
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def append(
    frontier: Sequence[bytes], size: int, leaf_hash: bytes
) -> tuple[list[bytes], list[tuple[NodeKey, bytes]]]:
    """Append one leaf hash to the tree of ``size`` leaves whose frontier is given.

    Returns the frontier for ``size + 1`` and every perfect subtree the new leaf completes, in
    increasing level, starting with ``((0, size), leaf_hash)``. Raises ValueError if ``size`` is
    negative, ``len(frontier) != popcount(size)`` or a hash is not HASH_SIZE bytes.
    """
    if size < 0 or len(frontier) != size.bit_count():
        raise ValueError(f"frontier of {len(frontier)} hashes does not describe size {size}")
    if len(leaf_hash) != HASH_SIZE or any(len(h) != HASH_SIZE for h in frontier):
        raise ValueError(f"hashes must be {HASH_SIZE} bytes")
    new = list(frontier)
    acc = leaf_hash
    completed: list[tuple[NodeKey, bytes]] = [((0, size), acc)]
    level = 0
    # Each trailing one bit of size is a same-sized subtree waiting for a right sibling.
    while (size >> level) & 1:
        acc = node_hash(new.pop(), acc)
        level += 1
        completed.append(((level, size >> level), acc))
    new.append(acc)
    return new, completed


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """Return the root of the tree described by ``frontier``; EMPTY_ROOT for an empty frontier."""
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1]
    for h in reversed(frontier[:-1]):
        acc = node_hash(h, acc)
    return acc


def _tiles(start: int, end: int) -> list[NodeKey]:
    keys: list[NodeKey] = []
    n = end - start
    for level in range(n.bit_length() - 1, -1, -1):
        if (n >> level) & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


def frontier_keys(size: int) -> list[NodeKey]:
    """Return the node keys of the frontier of ``size``, largest first; ValueError if size < 0."""
    if size < 0:
        raise ValueError(f"negative tree size {size}")
    return _tiles(0, size)


def range_nodes(start: int, end: int) -> list[NodeKey]:
    """Return the perfect subtrees tiling leaves ``[start, end)``, largest first.

    Only ranges that occur in RFC 6962 roots and proofs are accepted: ``0 <= start < end`` and
    ``start`` a multiple of the smallest power of two >= ``end - start``; ValueError otherwise.
    """
    if not 0 <= start < end:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    # This alignment is what makes the binary decomposition of the width, laid out largest
    # first, fold to the same hash as MTH(D[start:end]).
    if start % (1 << (end - start - 1).bit_length()):
        raise ValueError(f"leaf range [{start}, {end}) is not an RFC 6962 subtree")
    return _tiles(start, end)


def range_hash(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """Return MTH(D[start:end]) from stored perfect-subtree hashes.

    Raises ValueError as range_nodes does, and KeyError if a needed node is missing.
    """
    return frontier_root([nodes[key] for key in range_nodes(start, end)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Return the leaf ranges of the audit path PATH(index, D[0:size]) in proof order.

    Raises ValueError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} not in tree of size {size}")
    start, end = 0, size
    siblings: list[tuple[int, int]] = []
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            siblings.append((mid, end))
            end = mid
        else:
            siblings.append((start, mid))
            start = mid
    # Collected top-down; the verifier consumes them bottom-up.
    siblings.reverse()
    return siblings


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """Return the leaf ranges of PROOF(first, D[0:second]) in proof order.

    Returns [] when ``first == second``; raises ValueError unless ``0 < first <= second``.
    """
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    start, end, m = 0, second, first
    whole_old_tree = True  # SUBPROOF's b: the old root is known to the verifier
    out: list[tuple[int, int]] = []
    while end - start != m:
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        out.append((start, end))
    out.reverse()
    return out


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[NodeKey]:
    """Return every node key needed to hash ``ranges``; ValueError as range_nodes does."""
    return {key for start, end in ranges for key in range_nodes(start, end)}


def assemble(ranges: Sequence[tuple[int, int]], nodes: Mapping[NodeKey, bytes]) -> list[bytes]:
    """Return the proof hashes for ``ranges``; KeyError if a needed node is missing."""
    return [range_hash(start, end, nodes) for start, end in ranges]


def _in_memory(
    ranges: Sequence[tuple[int, int]], size: int, leaf_hashes: Sequence[bytes]
) -> list[bytes]:
    if size > len(leaf_hashes):
        raise ValueError(f"tree size {size} exceeds the {len(leaf_hashes)} leaves given")
    nodes = {
        (level, i): root(leaf_hashes[i << level : (i + 1) << level])
        for level, i in nodes_for(ranges)
    }
    return assemble(ranges, nodes)


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path for leaf ``index`` in the tree of the first ``size`` leaf hashes.

    Raises ValueError unless ``0 <= index < size <= len(leaf_hashes)``.
    """
    return _in_memory(inclusion_ranges(index, size), size, leaf_hashes)


def consistency_proof(first: int, second: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof from size ``first`` to ``second`` over ``leaf_hashes``.

    Raises ValueError unless ``0 < first <= second <= len(leaf_hashes)``.
    """
    return _in_memory(consistency_ranges(first, second), second, leaf_hashes)


def _check_hashes(hashes: Iterable[bytes], code: str) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"hashes must be {HASH_SIZE} bytes", code=code)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Return None if ``proof`` shows ``leaf_hash`` at ``index`` in the tree ``(size, root)``.

    Raises ProofError (code ``inclusion_proof_invalid``) otherwise, including for a proof of the
    wrong length, ``index`` outside ``[0, size)`` or hashes that are not HASH_SIZE bytes.
    """
    code = "inclusion_proof_invalid"
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} not in tree of size {size}", code=code)
    _check_hashes([leaf_hash, root, *proof], code)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long", code=code)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # Skip the levels where this node was promoted rather than paired.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is too short", code=code)
    if r != root:
        raise ProofError("inclusion proof does not lead to the tree root", code=code)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Return None if ``proof`` shows tree ``(first, first_root)`` is a prefix of the second.

    ``first == second`` needs an empty proof and equal roots; ``first == 0`` needs only an empty
    proof. Raises ProofError (code ``consistency_proof_invalid``) otherwise.
    """
    code = "consistency_proof_invalid"
    if not 0 <= first <= second:
        raise ProofError(f"no consistency from size {first} to size {second}", code=code)
    if first == 0 or first == second:
        if proof:
            raise ProofError("consistency proof must be empty", code=code)
        if first == second and first_root != second_root:
            raise ProofError("equal tree sizes with different roots", code=code)
        return
    _check_hashes([first_root, second_root, *proof], code)
    if not proof:
        raise ProofError("consistency proof is empty", code=code)
    path = list(proof)
    # A power-of-two old tree is a node of the new one, so the proof omits its hash.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long", code=code)
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is too short", code=code)
    if fr != first_root or sr != second_root:
        raise ProofError("consistency proof does not lead to both roots", code=code)
