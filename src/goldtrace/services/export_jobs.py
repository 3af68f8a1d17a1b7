"""Report exports as background jobs: the file is written to a private temporary directory and
served only to the user who started it, until the job is forgotten (see services/jobs.py).

An export reads one snapshot, as the verification does, so it never holds the write lock.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from goldtrace.db.models import Lot, Organization
from goldtrace.db.session import read_only
from goldtrace.domain.instants import now_instant
from goldtrace.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from goldtrace.services import exports
from goldtrace.services.context import Context
from goldtrace.services.jobs import DONE, RUNNING, BackgroundJobs, Progress
from goldtrace.services.reports import ReportScope

# (media type, file name extension) of each format's file.
MEDIA = {
    "json": ("application/json", "json"),
    "csv": ("application/zip", "zip"),
    "epcis": ("application/ld+json", "jsonld"),
    "pdf": ("application/pdf", "pdf"),
}


@dataclass(frozen=True, kw_only=True)
class ExportStatus(Progress):
    """A snapshot of an export job; ``done`` counts the events written so far."""

    owner: int
    scope: ReportScope
    fmt: str
    filename: str
    path: Path

    @property
    def mimetype(self) -> str:
        """The media type of the file."""
        return MEDIA.get(self.fmt, ("application/octet-stream", self.fmt))[0]

    def as_json(self) -> dict[str, Any]:
        """Return the status as JSON-ready data (what the progress bar polls); never the path."""
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "format": self.fmt,
            "filename": self.filename,
            "error": self.error,
        }


def check_scope(session: Session, scope: ReportScope) -> None:
    """Raise NotFound for an unknown organization or lot, InvalidInput for a period that ends
    before it starts or a scope kind other than ledger, org or lot."""
    if scope.kind not in ("ledger", "org", "lot") or (scope.kind == "ledger") != (
        scope.key is None
    ):
        raise InvalidInput("the scope is ledger, org:ID or lot:ID", fields={"scope": "unknown"})
    if scope.kind == "org" and session.get(Organization, scope.key) is None:
        raise NotFound(
            f"there is no organization {scope.key}", code="unknown_org", fields={"org": "unknown"}
        )
    if scope.kind == "lot" and session.get(Lot, scope.key) is None:
        raise NotFound(
            f"there is no lot {scope.key}", code="unknown_lot", fields={"lot": "unknown"}
        )
    if scope.start and scope.until and scope.start > scope.until:
        raise InvalidInput(
            "the period ends before it starts", code="bad_period", fields={"until": "before from"}
        )


def filename(scope: ReportScope, fmt: str) -> str:
    """The download's name: ``goldtrace-<scope>[-<key>][-from-<date>][-until-<date>].<ext>``."""
    parts = ["goldtrace", scope.kind]
    if scope.key:
        parts.append("".join(c if c.isalnum() or c in "-_" else "_" for c in scope.key))
    if scope.start:
        parts.append(f"from-{scope.start.isoformat()}")
    if scope.until:
        parts.append(f"until-{scope.until.isoformat()}")
    return "-".join(parts) + "." + MEDIA.get(fmt, ("", fmt))[1]


class ExportJobs(BackgroundJobs[ExportStatus]):
    """The export jobs of this process; their files live under ``directory`` (the system's
    temporary directory by default), one private directory per job."""

    kind = "export"

    def __init__(self, directory: Path | None = None) -> None:
        super().__init__()
        self._directory = directory

    def start_export(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        ctx: Context,
        *,
        owner: int,
        scope: ReportScope,
        fmt: str,
        lang: str = "es",
    ) -> str:
        """Check the request with the caller's ``session``, then write the report in a daemon thread
        with a session of its own from ``sessions``; return the job id.

        Raises InvalidInput for an unknown format, language or a bad period, NotFound for an
        unknown organization or lot; then nothing is started and nothing written.
        """
        if fmt not in exports.FORMATS:
            raise InvalidInput(f"unknown format {fmt!r}", fields={"format": "unknown"})
        if lang not in exports.LANGUAGES:
            raise InvalidInput(f"unknown language {lang!r}", fields={"lang": "unknown"})
        check_scope(session, scope)
        folder = Path(tempfile.mkdtemp(prefix="goldtrace-export-", dir=self._directory))
        path = folder / filename(scope, fmt)

        def work(update: Callable[..., None]) -> dict[str, Any]:
            with sessions() as snapshot:
                read_only(snapshot)
                update(total=exports.count_events(snapshot, scope=scope, fmt=fmt))
                count = exports.export(
                    snapshot,
                    scope=scope,
                    fmt=fmt,
                    out=path,
                    base_url=ctx.settings.base_url,
                    lang=lang,
                    progress=lambda written: update(done=written),
                )
            return {"done": count, "total": count}

        def first(job_id: str) -> ExportStatus:
            return ExportStatus(
                id=job_id,
                state=RUNNING,
                started_at=now_instant(),
                owner=owner,
                scope=scope,
                fmt=fmt,
                filename=path.name,
                path=path,
            )

        return self.start(first, work, cleanup=lambda: shutil.rmtree(folder, ignore_errors=True))

    def owned(self, job_id: str, owner: int) -> ExportStatus:
        """Return the status of ``owner``'s job; NotFound if unknown, PermissionDenied if another's."""
        status = self.status(job_id)
        if status.owner != owner:
            raise PermissionDenied("this export was started by someone else")
        return status

    def of_owner(self, owner: int) -> list[ExportStatus]:
        """Return ``owner``'s jobs that this process still knows, newest first."""
        return self.statuses(lambda status: status.owner == owner)

    def finished_file(self, job_id: str, owner: int) -> ExportStatus:
        """Return the status of ``owner``'s finished job, whose file is ready; Conflict if it is not."""
        status = self.owned(job_id, owner)
        if status.state != DONE or not status.path.is_file():
            raise Conflict("this export has no file (yet)", code="export_not_ready")
        return status


_registry = ExportJobs()


def registry() -> ExportJobs:
    """Return this process's export jobs."""
    return _registry
