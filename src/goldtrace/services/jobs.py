"""Background jobs: work in a daemon thread, its progress kept in memory; and the ledger verification.

Jobs live in the process that started them. That suits the embedded server (one process, many
threads). Under gunicorn each worker process keeps its own jobs, so a status request that reaches
another worker finds no such job and the page says so; nothing is lost but time, since a verdict or a
report is always recomputable from the stored ledger. Finished jobs are forgotten after an hour (and
beyond the latest MAX_FINISHED of a registry), and whatever a job left on disk goes with them.

A job reads in one transaction. On PostgreSQL that is a REPEATABLE READ snapshot, so appends made
meanwhile do not disturb it. On SQLite it is a WAL snapshot that never holds the write lock.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from goldtrace.db.session import read_only
from goldtrace.domain.instants import now_instant
from goldtrace.errors import GoldtraceError, NotFound
from goldtrace.ledger.verifier import Report
from goldtrace.services.context import Context
from goldtrace.services.verify import verify_ledger

RUNNING, DONE, FAILED = "running", "done", "failed"
KEEP_FINISHED_SECONDS = 3600.0
MAX_FINISHED = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Progress:
    """What every job's status says: its state, how far it got (``done`` of ``total``), and when."""

    id: str
    state: str
    done: int = 0
    total: int = 0
    started_at: str
    finished_at: str | None = None
    error: str | None = None


S = TypeVar("S", bound=Progress)
# A job's work: it reports progress by calling ``update(**changes)`` and returns the final changes.
Work = Callable[[Callable[..., None]], dict[str, Any]]


@dataclass
class _Job(Generic[S]):
    status: S
    # Jobs with the same key do the same work: a second start joins the running one.
    key: object
    # Removes what the job left behind (files), once it is forgotten.
    cleanup: Callable[[], None] | None = None
    # time.monotonic() when it ended, for forgetting it later.
    finished: float | None = None


class BackgroundJobs(Generic[S]):
    """The jobs of one kind in this process. Every method is safe to call from any thread."""

    kind = "job"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job[S]] = {}

    def start(
        self,
        first: Callable[[str], S],
        work: Work,
        *,
        key: object = None,
        cleanup: Callable[[], None] | None = None,
    ) -> str:
        """Run ``work`` in a daemon thread, its status starting as ``first(job_id)``; return the id.

        While a job with the same (non-None) ``key`` is running, its id is returned instead.
        """
        with self._lock:
            self._forget_old()
            if key is not None:
                for job in self._jobs.values():
                    if job.key is key and job.status.state == RUNNING:
                        return job.status.id
            job_id = uuid.uuid4().hex
            job = _Job(status=first(job_id), key=key, cleanup=cleanup)
            self._jobs[job_id] = job
        # A daemon thread: a server shutting down does not wait for a job to finish.
        threading.Thread(
            target=self._run, args=(job, work), name=f"{self.kind}-{job_id[:8]}", daemon=True
        ).start()
        return job_id

    def status(self, job_id: str) -> S:
        """Return the job's current status; NotFound when this process knows no such job."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(f"no {self.kind} job {job_id!r} in this process", code="unknown_job")
            return job.status

    def statuses(self, keep: Callable[[S], bool]) -> list[S]:
        """Return the statuses ``keep`` accepts, newest first."""
        with self._lock:
            chosen = [job.status for job in self._jobs.values() if keep(job.status)]
        return sorted(chosen, key=lambda s: s.started_at, reverse=True)

    def _run(self, job: _Job[S], work: Work) -> None:
        def update(**changes: Any) -> None:
            with self._lock:
                job.status = replace(job.status, **changes)

        try:
            final = work(update)
        except Exception as exc:
            # A thread's exception would otherwise vanish; the page shows the reason instead.
            log.exception("%s job %s failed", self.kind, job.status.id)
            reason = exc.message if isinstance(exc, GoldtraceError) else type(exc).__name__
            self._finish(job, state=FAILED, error=reason)
            return
        self._finish(job, state=DONE, **final)

    def _finish(self, job: _Job[S], **changes: Any) -> None:
        with self._lock:
            job.status = replace(job.status, finished_at=now_instant(), **changes)
            job.finished = time.monotonic()

    def _forget_old(self) -> None:
        finished = sorted(
            (job.finished, job_id) for job_id, job in self._jobs.items() if job.finished is not None
        )
        cutoff = time.monotonic() - KEEP_FINISHED_SECONDS
        for i, (when, job_id) in enumerate(finished):
            if when < cutoff or i < len(finished) - MAX_FINISHED:
                cleanup = self._jobs.pop(job_id).cleanup
                if cleanup is not None:
                    cleanup()


# --- ledger verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class FirstFault:
    """Where a verified ledger stops being trustworthy, and why."""

    seq: int
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class JobStatus(Progress):
    """A snapshot of a verification job: running, done (with the verdict) or failed (with why)."""

    ok: bool | None = None
    first_fault: FirstFault | None = None
    size: int = 0
    root: str = ""
    signatures: int = 0
    checkpoints: int = 0
    faults: int = 0

    def as_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data (what the progress bar polls)."""
        fault = self.first_fault
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "ok": self.ok,
            "first_fault": None
            if fault is None
            else {"seq": fault.seq, "code": fault.code, "message": fault.message},
            "size": self.size,
            "signatures": self.signatures,
            "checkpoints": self.checkpoints,
            "faults": self.faults,
            "error": self.error,
        }


class JobRegistry(BackgroundJobs[JobStatus]):
    """The verification jobs of this process."""

    kind = "verification"

    def start_verification(
        self, sessions: sessionmaker[Session], ctx: Context, *, workers: int | None = None
    ) -> str:
        """Start verifying the ledger behind ``sessions`` in a daemon thread; return the job id.

        While a verification of the same database is running, its id is returned instead of a
        second one being started: a full verification is expensive and the answer would be the same.
        """

        def work(update: Callable[..., None]) -> dict[str, Any]:
            with sessions() as session:
                # One snapshot for the whole run that never blocks writers meanwhile.
                read_only(session)
                report = verify_ledger(
                    session,
                    ctx,
                    workers=workers,
                    progress=lambda done, total: update(done=done, total=total),
                )
            return _verdict(report)

        return self.start(
            lambda job_id: JobStatus(id=job_id, state=RUNNING, started_at=now_instant()),
            work,
            key=sessions,
        )


def _verdict(report: Report) -> dict[str, Any]:
    first = report.first
    return {
        "ok": report.ok,
        "done": report.size,
        "total": report.size,
        "size": report.size,
        "root": report.root.hex(),
        "signatures": report.signatures,
        "checkpoints": report.checkpoints,
        "faults": len(report.faults),
        "first_fault": None if first is None else FirstFault(first.seq, first.code, first.message),
    }


_registry = JobRegistry()


def start_verification(
    sessions: sessionmaker[Session], ctx: Context, *, workers: int | None = None
) -> str:
    """Start a verification job in this process's registry; return its id (see JobRegistry)."""
    return _registry.start_verification(sessions, ctx, workers=workers)


def status(job_id: str) -> JobStatus:
    """Return a job's status from this process's registry; NotFound for an unknown id."""
    return _registry.status(job_id)
