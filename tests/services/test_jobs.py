"""Background verification jobs: a real thread with its own session, on a database of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from builders import ledger_with_events
from goldtrace.db import migrate
from goldtrace.db.models import Event
from goldtrace.db.session import make_engine, make_sessionmaker
from goldtrace.errors import NotFound
from goldtrace.services import jobs, transparency
from goldtrace.services.context import Context
from goldtrace.services.organizations import bootstrap

SIZE = 60


@pytest.fixture
def fresh_engine(fresh_database_url: str, ctx: Context) -> Iterator[Engine]:
    migrate.upgrade(fresh_database_url)
    eng = make_engine(fresh_database_url)
    with Session(eng) as session, session.begin():
        bootstrap(session, ctx)
        ledger_with_events(session, ctx, SIZE)
        transparency.cut_checkpoint(session, ctx)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(fresh_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(fresh_engine)


def wait(registry: jobs.JobRegistry, job_id: str) -> jobs.JobStatus:
    deadline = time.monotonic() + 60
    while (status := registry.status(job_id)).state == jobs.RUNNING:
        assert time.monotonic() < deadline, "the job did not finish in 60 s"
        time.sleep(0.02)
    return status


def test_a_clean_ledger_verifies_ok_in_the_background(
    sessions: sessionmaker[Session], ctx: Context
) -> None:
    registry = jobs.JobRegistry()
    job_id = registry.start_verification(sessions, ctx)
    status = wait(registry, job_id)
    assert (status.state, status.ok, status.first_fault) == (jobs.DONE, True, None)
    assert status.done == status.total == status.size == SIZE
    assert (status.signatures, status.checkpoints, status.faults) == (SIZE, 1, 0)
    assert status.finished_at is not None and status.finished_at >= status.started_at
    with sessions() as session:
        assert status.root == transparency.head(session).root.hex()
    assert status.as_json()["ok"] is True and status.as_json()["first_fault"] is None


def test_a_corrupted_byte_is_reported_at_its_seq(
    fresh_engine: Engine, sessions: sessionmaker[Session], ctx: Context
) -> None:
    with fresh_engine.begin() as conn:
        sig = conn.execute(select(Event.sig).where(Event.seq == 23)).scalar_one()
        conn.execute(
            update(Event).where(Event.seq == 23).values(sig=bytes([sig[0] ^ 0x20]) + sig[1:])
        )
    registry = jobs.JobRegistry()
    status = wait(registry, registry.start_verification(sessions, ctx))
    assert (status.state, status.ok) == (jobs.DONE, False)
    assert status.first_fault is not None and status.first_fault.seq == 23
    assert status.as_json()["first_fault"]["seq"] == 23


def test_a_second_start_while_running_joins_the_running_job(
    fresh_engine: Engine, sessions: sessionmaker[Session], ctx: Context
) -> None:
    if fresh_engine.dialect.name != "postgresql":
        pytest.skip("a verification on SQLite reads a WAL snapshot that no writer can hold up")
    registry = jobs.JobRegistry()
    # Holding a lock the verification needs keeps the job running until the block ends.
    with fresh_engine.begin() as blocker:
        blocker.execute(text("LOCK TABLE log_head IN ACCESS EXCLUSIVE MODE"))
        first = registry.start_verification(sessions, ctx)
        time.sleep(0.2)
        assert registry.status(first).state == jobs.RUNNING
        assert registry.start_verification(sessions, ctx) == first
    assert wait(registry, first).ok
    second = registry.start_verification(sessions, ctx)
    assert second != first
    assert wait(registry, second).ok


def test_a_job_that_cannot_run_ends_failed_with_the_reason(
    fresh_database_url: str, ctx: Context
) -> None:
    engine = make_engine(fresh_database_url)  # never migrated: no tables at all
    try:
        registry = jobs.JobRegistry()
        status = wait(registry, registry.start_verification(make_sessionmaker(engine), ctx))
    finally:
        engine.dispose()
    assert status.state == jobs.FAILED and status.ok is None
    assert status.error and status.as_json()["error"] == status.error


def test_unknown_and_forgotten_jobs_are_not_found(
    sessions: sessionmaker[Session], ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = jobs.JobRegistry()
    with pytest.raises(NotFound):
        registry.status("nope")
    old = registry.start_verification(sessions, ctx)
    wait(registry, old)
    monkeypatch.setattr(jobs, "KEEP_FINISHED_SECONDS", 0.0)
    new = registry.start_verification(sessions, ctx)
    with pytest.raises(NotFound):
        registry.status(old)
    assert wait(registry, new).ok


def test_the_module_functions_use_one_registry_per_process(
    sessions: sessionmaker[Session], ctx: Context
) -> None:
    job_id = jobs.start_verification(sessions, ctx)
    deadline = time.monotonic() + 60
    while jobs.status(job_id).state == jobs.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert jobs.status(job_id).ok
