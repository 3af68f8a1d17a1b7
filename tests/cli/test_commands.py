"""The `goldtrace` command as an operator runs it: real processes on a fresh database."""

from __future__ import annotations

from sqlalchemy import update

from builders import run_cli as run
from goldtrace.db.models import Event
from goldtrace.db.session import make_engine


def test_init_demo_verify_then_tamper(fresh_database_url: str) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    assert run(url, "init-db").returncode == 0, "init-db must be idempotent"
    demo = run(url, "demo", "--if-empty")
    assert demo.returncode == 0, demo.stderr
    assert "— goldtrace.test/log " in demo.stdout
    again = run(url, "demo", "--if-empty")
    assert again.returncode == 0 and "already loaded" in again.stdout

    verified = run(url, "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok: ")

    proof = run(url, "proof", "inclusion", "2")
    assert proof.returncode == 0
    assert len(proof.stdout.splitlines()) > 1

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(update(Event).where(Event.seq == 4).values(sig=b"\x00" * 64))
    engine.dispose()
    broken = run(url, "verify")
    assert broken.returncode == 1
    assert "first bad seq 4" in broken.stderr
    as_json = run(url, "verify", "--json")
    assert as_json.returncode == 1
    assert '"first_bad_seq": 4' in as_json.stdout


def test_bad_requests_exit_1_with_one_line(fresh_database_url: str) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    for args in (("proof", "inclusion", "99"), ("proof", "consistency", "3", "1")):
        result = run(url, *args)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("goldtrace: "), result.stderr


def test_a_database_without_migrations_is_reported_plainly(fresh_database_url: str) -> None:
    result = run(fresh_database_url, "verify")
    assert result.returncode == 1
    assert result.stderr.startswith("goldtrace: ")
