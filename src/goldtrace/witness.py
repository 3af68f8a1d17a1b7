"""`goldtrace witness`: the witness client. Cosign a log's checkpoint once it is proved consistent.

Each run fetches the latest checkpoint, verifies the log's signature with the log key pinned in the
state file (trusted on first use), proves it consistent with the checkpoint this witness cosigned
last, cosigns it (C2SP tlog-cosignature) and posts the cosigned note to
``POST /api/v1/log/cosignatures``. Shown an inconsistent checkpoint (an older one, a different root
at the cosigned size, or a consistency proof that fails) it posts nothing, writes both notes and the
proof to ``<state>.evidence`` and reports a fault.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goldtrace.audit import RemoteError, State, check_url, fetch, fetch_json, load_state, save_state
from goldtrace.errors import GoldtraceError
from goldtrace.ledger import merkle, note


@dataclass(frozen=True)
class WitnessResult:
    """What one witness run did: ``ok`` False means it refused (and wrote evidence)."""

    ok: bool
    size: int
    message: str
    evidence: Path | None = None


def load_or_create_key(path: Path, name: str) -> tuple[note.Signer, bool]:
    """Return the cosignature signer whose 32-byte seed is hex in ``path`` (created if missing)."""
    created = False
    if not path.exists():
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        path.touch(mode=0o600)
        path.write_text(seed.hex() + "\n", encoding="ascii")
        created = True
    try:
        seed = bytes.fromhex(path.read_text(encoding="ascii").strip())
        key = Ed25519PrivateKey.from_private_bytes(seed)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RemoteError(f"{path} does not hold a 32-byte Ed25519 seed in hex") from exc
    return note.Signer(name, key, note.SIG_TYPE_COSIGNATURE), created


def post_cosignature(base_url: str, cosigned_note: str) -> str:
    """POST the cosigned note; return the server's answer, RemoteError if it refuses."""
    url = base_url + "/api/v1/log/cosignatures"
    request = urllib.request.Request(  # noqa: S310 (check_url allows http(s) only)
        url,
        data=cosigned_note.encode("utf-8"),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (http(s) only)
            answer: bytes = resp.read()
            return answer.decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode("utf-8", "replace").strip()
        raise RemoteError(f"POST {url}: HTTP {exc.code} {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise RemoteError(f"POST {url}: {getattr(exc, 'reason', exc)}") from exc


def _refuse(
    state_path: Path, state: State, new_note: str, size: int, why: str, proof: list[bytes]
) -> WitnessResult:
    """Write both checkpoints and the proof that failed to ``<state>.evidence``; return the refusal."""
    evidence = state_path.with_name(state_path.name + ".evidence")
    old_note = json.loads(state_path.read_text(encoding="utf-8")).get("note", "")
    hashes = "".join(f"{h.hex()}\n" for h in proof) or "(none)\n"
    evidence.write_text(
        f"# {why}\n# checkpoint cosigned before (size {state.size}):\n{old_note}"
        f"\n# checkpoint now served (size {size}):\n{new_note}"
        f"\n# consistency proof served from size {state.size} to size {size} (hex):\n{hashes}",
        encoding="utf-8",
    )
    return WitnessResult(False, size, why, evidence)


def _inconsistency(
    base_url: str, previous: State, checkpoint: note.Checkpoint
) -> tuple[str | None, list[bytes]]:
    """Return why ``checkpoint`` does not extend the cosigned one (None if it does) and the proof."""
    if checkpoint.size < previous.size:
        return f"checkpoint {checkpoint.size} is older than the cosigned {previous.size}", []
    if checkpoint.size == previous.size and checkpoint.root != previous.root:
        return (
            f"split view: the checkpoint of size {checkpoint.size} is inconsistent with the "
            f"cosigned checkpoint of the same size (root {checkpoint.root.hex()}, "
            f"cosigned {previous.root.hex()})",
            [],
        )
    proof: list[bytes] = []
    if 0 < previous.size < checkpoint.size:
        data = fetch_json(
            base_url,
            "/api/v1/log/proof/consistency",
            {"first": previous.size, "second": checkpoint.size},
        )
        try:
            proof = [bytes.fromhex(h) for h in data["hashes"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteError(f"the consistency proof is malformed: {exc}") from exc
    try:
        merkle.verify_consistency(
            previous.size, checkpoint.size, previous.root, checkpoint.root, proof
        )
    except GoldtraceError as exc:
        return (
            f"checkpoint {checkpoint.size} is inconsistent with the cosigned "
            f"checkpoint {previous.size}: {exc.message}",
            proof,
        )
    return None, proof


def witness_once(
    base_url: str, state_path: Path, signer: note.Signer, *, now: int | None = None
) -> WitnessResult:
    """Verify the served checkpoint against the last cosigned one, cosign and post it.

    Shown a checkpoint that does not extend the cosigned one, it posts nothing, keeps its state and
    returns a refusal whose evidence file holds both checkpoints and the failed proof. Raises
    RemoteError when the server cannot be reached or its checkpoint does not verify.
    """
    base_url = check_url(base_url)
    previous = load_state(state_path)
    if previous is None:
        vkey = fetch(base_url, "/api/v1/log/key").decode("utf-8", "replace").strip()
    else:
        vkey = previous.vkey
    log_key = note.Verifier.parse(vkey)
    note_text = fetch(base_url, "/api/v1/log/checkpoint").decode("utf-8", "replace")
    try:
        checkpoint, signed = note.open_checkpoint(note_text, log_key, origin=log_key.name)
    except GoldtraceError as exc:
        raise RemoteError(f"the checkpoint does not verify with {vkey}: {exc.message}") from exc
    if previous is not None:
        why, proof = _inconsistency(base_url, previous, checkpoint)
        if why is not None:
            return _refuse(state_path, previous, note_text, checkpoint.size, why, proof)
    timestamp = int(time.time()) if now is None else now
    line = signer.cosign(signed.text, timestamp)
    post_cosignature(base_url, signed.text + "\n" + line)
    save_state(
        state_path,
        State(origin=checkpoint.origin, vkey=vkey, size=checkpoint.size, root=checkpoint.root),
        {"note": note_text},
    )
    return WitnessResult(True, checkpoint.size, f"cosigned checkpoint {checkpoint.size}")
