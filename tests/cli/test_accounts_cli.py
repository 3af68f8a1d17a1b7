"""`goldtrace user` and `goldtrace token` as an operator runs them: real processes, fresh database."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.orm import Session

from builders import TEST_SECRET
from goldtrace.config import Settings
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import Unauthenticated
from goldtrace.services import accounts, organizations
from goldtrace.services.context import Context


def run(url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GOLDTRACE_DATABASE_URL": url,
        "GOLDTRACE_SECRET_KEY": TEST_SECRET,
        "GOLDTRACE_LOG_ORIGIN": "goldtrace.test/log",
    }
    return subprocess.run(
        [sys.executable, "-m", "goldtrace", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("goldtrace: "), result.stderr
    return lines[0]


def register_mine(url: str) -> str:
    """Register a mine in-process (there is no `org add` command yet), committed."""
    settings = Settings(database_url=url, secret_key=TEST_SECRET, log_origin="goldtrace.test/log")
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            profile = OrgProfile(
                id="mina-sol",
                name="Minera Sol",
                kind="mine",
                region="Puno",
                miners=12,
                capacity_mg_month=1_000_000,
            )
            organizations.register_org(session, Context(settings), actor="arm", profile=profile)
    finally:
        engine.dispose()
    return profile.id


def test_users_and_tokens(fresh_database_url: str) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    mine = register_mine(url)

    added = run(
        url,
        "user",
        "add",
        "--email",
        "Staff@ARM.example",
        "--org",
        "arm",
        "--role",
        "standard_body",
        stdin="a long passphrase\n",
    )
    assert added.returncode == 0, added.stderr
    assert "staff@arm.example" in added.stdout
    op = run(
        url,
        "user",
        "add",
        "--email",
        "op@mina.example",
        "--org",
        mine,
        "--role",
        "operator",
        "--password",
        "another passphrase",
    )
    assert op.returncode == 0, op.stderr
    engine = make_engine(url)
    with Session(engine) as session:
        user = accounts.authenticate(
            session, email="staff@arm.example", password="a long passphrase"
        )
        assert user.role == "standard_body"

    listed = run(url, "user", "list")
    assert listed.returncode == 0
    assert [line.split("\t")[1] for line in listed.stdout.splitlines()] == [
        "staff@arm.example",
        "op@mina.example",
    ]

    created = run(url, "token", "create", "--email", "op@mina.example", "--label", "scale")
    assert created.returncode == 0, created.stderr
    *_, announcement, token = created.stdout.splitlines()
    assert token.startswith("gt_")
    token_id = announcement.split()[1]
    with Session(engine) as session:
        assert accounts.user_for_token(session, token).email == "op@mina.example"

    revoked = run(url, "token", "revoke", "--id", token_id)
    assert revoked.returncode == 0, revoked.stderr
    with Session(engine) as session, pytest.raises(Unauthenticated):
        accounts.user_for_token(session, token)
    engine.dispose()
    one_error_line(run(url, "token", "revoke", "--id", token_id))


def test_refusals_exit_1_with_one_line(fresh_database_url: str) -> None:
    url = fresh_database_url
    assert run(url, "init-db").returncode == 0
    mine = register_mine(url)
    base = ("user", "add", "--email", "x@mina.example", "--password", "a long passphrase")
    assert "role" in one_error_line(run(url, *base, "--org", mine, "--role", "auditor"))
    one_error_line(run(url, *base, "--org", mine, "--role", "superuser"))
    one_error_line(run(url, *base, "--org", "nowhere", "--role", "operator"))
    empty = ("user", "add", "--email", "y@mina.example", "--org", mine, "--role", "operator")
    assert "password" in one_error_line(run(url, *empty, stdin="\n"))
    one_error_line(run(url, *empty, stdin=""))
    assert "10" in one_error_line(run(url, *empty, stdin="short\n"))
    assert run(url, *base, "--org", mine, "--role", "admin").returncode == 0
    one_error_line(run(url, *base, "--org", mine, "--role", "admin"))
    one_error_line(run(url, "token", "create", "--email", "nobody@mina.example"))
    one_error_line(run(url, "token", "revoke", "--id", "99"))
