"""`goldtrace audit` against live servers over real databases: pass, grow, then a changed leaf, a
truncated log and a forked one, each with a precise message and exit status 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from builders import run_cli
from goldtrace.db.models import Event
from goldtrace.db.session import make_engine
from live_servers import clone_database, free_port, grow, serving


@pytest.fixture
def live(fresh_database_url: str) -> Iterator[tuple[str, str]]:
    """(database URL, base URL) of a served demo ledger."""
    url = fresh_database_url
    assert run_cli(url, "init-db").returncode == 0
    demo = run_cli(url, "demo")
    assert demo.returncode == 0, demo.stderr
    with serving(url) as base:
        yield url, base


@pytest.fixture
def logged_url(fresh_database_url: str) -> str:
    """A fresh database with a few events and a signed checkpoint."""
    assert run_cli(fresh_database_url, "init-db").returncode == 0
    grow(fresh_database_url, 3, prefix="common")
    return fresh_database_url


def test_audit_passes_checks_consistency_then_finds_a_changed_leaf(
    live: tuple[str, str], tmp_path: Path
) -> None:
    url, base = live
    state = tmp_path / "audit-state.json"

    first = run_cli(url, "audit", "--url", base, "--state", str(state))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("ok: ")
    saved = json.loads(state.read_text())
    assert saved["origin"] == "goldtrace.test/log"
    assert saved["vkey"].startswith("goldtrace.test/log+")
    size = saved["size"]
    assert size > 1 and len(bytes.fromhex(saved["root"])) == 32

    new_size = grow(url)
    assert new_size > size
    second = run_cli(url, "audit", "--url", base, "--state", str(state), "--json")
    assert second.returncode == 0, second.stdout + second.stderr
    report = json.loads(second.stdout)
    assert report["ok"] and report["previous_size"] == size
    assert report["checkpoint_size"] == new_size == json.loads(state.read_text())["size"]

    engine = make_engine(url)
    with engine.begin() as conn:
        leaf = conn.execute(Event.__table__.select().where(Event.seq == 5)).one().leaf
        changed = leaf[:20] + bytes([leaf[20] ^ 0x01]) + leaf[21:]
        conn.execute(update(Event).where(Event.seq == 5).values(leaf=changed))
    engine.dispose()
    broken = run_cli(url, "audit", "--url", base, "--state", str(state))
    assert broken.returncode == 1
    assert "first bad seq 5" in broken.stderr
    assert json.loads(state.read_text())["size"] == new_size, "a failed audit keeps the old state"


def test_audit_reports_an_unreachable_server() -> None:
    result = run_cli("sqlite://", "audit", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert "goldtrace: GET http://127.0.0.1:" in result.stderr


def audit_cli(url: str, base: str, state: Path) -> tuple[int, str, dict[str, Any]]:
    """Run ``goldtrace audit --json`` and also the plain form; return (status, stderr, report)."""
    plain = run_cli(url, "audit", "--url", base, "--state", str(state))
    as_json = run_cli(url, "audit", "--url", base, "--state", str(state), "--json")
    assert as_json.returncode == plain.returncode
    return plain.returncode, plain.stderr, json.loads(as_json.stdout)


def test_audit_finds_a_truncated_log(logged_url: str, tmp_path: Path) -> None:
    short_size = grow(logged_url, 2, prefix="early")
    state = tmp_path / "audit-state.json"
    with clone_database(logged_url, tmp_path, "short") as short_url:
        full_size = grow(logged_url, 3, prefix="late")
        with serving(logged_url) as base:
            seen = run_cli(logged_url, "audit", "--url", base, "--state", str(state))
        assert seen.returncode == 0, seen.stderr
        assert json.loads(state.read_text())["size"] == full_size > short_size

        # The same log, its key and its first events, served without the last ones.
        with serving(short_url) as base:
            status, stderr, report = audit_cli(short_url, base, state)
    assert status == 1
    assert stderr.startswith(
        f"FAULT: first bad seq {short_size}: the log was truncated: the served checkpoint has "
        f"size {short_size}, below the size {full_size} of the checkpoint this auditor saw last"
    )
    assert {f["code"] for f in report["faults"]} == {"rolled_back", "truncated"}
    assert f"the server serves {short_size} entries, fewer than the {full_size}" in stderr
    assert json.loads(state.read_text())["size"] == full_size, "a failed audit keeps the old state"


@pytest.mark.parametrize("fork_events", [3, 5], ids=["same-size", "longer"])
def test_audit_finds_a_forked_log(logged_url: str, tmp_path: Path, fork_events: int) -> None:
    common = grow(logged_url, 1, prefix="shared")
    state = tmp_path / "audit-state.json"
    with clone_database(logged_url, tmp_path, "fork") as fork_url:
        seen_size = grow(logged_url, 3, prefix="alpha")
        fork_size = grow(fork_url, fork_events, prefix="beta")
        assert common < seen_size <= fork_size
        with serving(logged_url) as base:
            seen = run_cli(logged_url, "audit", "--url", base, "--state", str(state))
        assert seen.returncode == 0, seen.stderr
        saved = json.loads(state.read_text())

        # Same log key, same first events, then another history: each log verifies on its own.
        with serving(fork_url) as base:
            alone = run_cli(fork_url, "audit", "--url", base)
            assert alone.returncode == 0, alone.stderr
            status, stderr, report = audit_cli(fork_url, base, state)
    assert status == 1
    assert stderr.startswith(
        f"FAULT: first bad seq {seen_size - 1}: the log is not consistent with the state: "
        f"its first {seen_size} entries hash to root "
    )
    assert f"not the root {saved['root']} of the checkpoint of size {seen_size}" in stderr
    if fork_size == seen_size:
        why = f"the served checkpoint of size {seen_size} has root"
    else:
        why = (
            f"the consistency proof from size {seen_size} (seen last) to the served checkpoint "
            f"of size {fork_size} fails"
        )
    assert why in stderr
    assert {f["code"] for f in report["faults"]} == {"forked", "inconsistent"}
    assert json.loads(state.read_text()) == saved, "a failed audit keeps the old state"
