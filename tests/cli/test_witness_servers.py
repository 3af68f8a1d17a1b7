"""`goldtrace witness` between two live servers that share a log key and diverge: the witness cosigns
server A's checkpoint, then refuses server B's, writes the evidence and posts nothing to B."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from builders import run_cli
from goldtrace import witness
from goldtrace.db.models import Cosignature
from goldtrace.db.session import make_engine
from goldtrace.ledger import note
from live_servers import clone_database, grow, serving

WITNESS = "witness.test/w1"


def served_checkpoint(base: str) -> str:
    with urllib.request.urlopen(base + "/api/v1/log/checkpoint", timeout=10) as resp:  # noqa: S310
        text: str = resp.read().decode("utf-8")
        return text


def consistency_proof(base: str, first: int, second: int) -> list[str]:
    url = f"{base}/api/v1/log/proof/consistency?first={first}&second={second}"
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310
        hashes: list[str] = json.loads(resp.read())["hashes"]
        return hashes


def cosignatures(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Cosignature)).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("fork_events", [3, 5], ids=["split-view", "longer-fork"])
def test_a_witness_refuses_a_second_server_with_an_inconsistent_history(
    fresh_database_url: str, tmp_path: Path, fork_events: int
) -> None:
    url_a = fresh_database_url
    assert run_cli(url_a, "init-db").returncode == 0
    grow(url_a, 2, prefix="common")
    key_file, state = tmp_path / "witness.key", tmp_path / "witness.json"
    signer, _ = witness.load_or_create_key(key_file, WITNESS)
    added = run_cli(url_a, "witness-key", "add", signer.verifier.vkey())
    assert added.returncode == 0, added.stderr

    # B starts as a copy of A: same log key, same events, the witness key registered on both.
    with clone_database(url_a, tmp_path, "b") as url_b:
        size_a = grow(url_a, 3, prefix="alpha")
        size_b = grow(url_b, fork_events, prefix="beta")
        assert size_b >= size_a
        with serving(url_a) as base_a, serving(url_b) as base_b:
            cosigned = run_cli(
                url_a, "witness", "--url", base_a, "--state", str(state), "--key", str(key_file),
                "--name", WITNESS,
            )  # fmt: skip
            assert cosigned.returncode == 0, cosigned.stderr
            assert cosigned.stdout.strip() == f"cosigned checkpoint {size_a}"
            note_a = served_checkpoint(base_a)
            assert len(note.verify_note(note_a, [signer.verifier]).signatures) == 2
            saved = state.read_text()

            refused = run_cli(
                url_b, "witness", "--url", base_b, "--state", str(state), "--key", str(key_file),
                "--name", WITNESS,
            )  # fmt: skip
            note_b = served_checkpoint(base_b)
            proof = consistency_proof(base_b, size_a, size_b) if size_b > size_a else []
        assert cosignatures(url_b) == 0, "nothing was posted to B"
    assert cosignatures(url_a) == 1

    assert refused.returncode == 1
    if size_b == size_a:
        why = (
            f"split view: the checkpoint of size {size_a} is inconsistent with the cosigned "
            "checkpoint of the same size"
        )
    else:
        why = (
            f"checkpoint {size_b} is inconsistent with the cosigned checkpoint {size_a}: "
            "consistency proof"
        )
    assert refused.stderr.startswith(f"REFUSED: {why}")
    evidence_path = Path(str(state) + ".evidence")
    assert f"evidence in {evidence_path}" in refused.stderr
    evidence = evidence_path.read_text()
    assert evidence.startswith(f"# {why}")
    assert json.loads(saved)["note"] in evidence and note_b in evidence
    assert WITNESS not in note_b, "B's checkpoint carries no cosignature"
    assert (
        f"# consistency proof served from size {size_a} to size {size_b} (hex):\n"
        + ("".join(f"{h}\n" for h in proof) or "(none)\n")
    ) in evidence
    assert state.read_text() == saved, "the witness keeps the checkpoint it cosigned"
