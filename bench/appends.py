"""Single-event appends through goldtrace.services.log.append, one transaction each.

Each writer appends ``key.rotate`` drafts for its own organization with a fresh (random) key field: the
append path signs with the organization's custodial key and does not replay the domain rules, so these
events are accepted exactly as real ones are and cost the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from eventrows import BENCH_ORIGIN, fake_key_json
from goldtrace.config import Settings
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import organizations
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, append
from scratch import Database

BENCH_SECRET = "goldtrace-benchmark-secret-0123456789"


def bench_context(db: Database) -> Context:
    """The context every benchmark process uses on ``db`` (same secret, so sealed keys open)."""
    return Context(Settings(database_url=db.url, secret_key=BENCH_SECRET, log_origin=BENCH_ORIGIN))


def prepare_ledger(db: Database, orgs: int) -> tuple[str, ...]:
    """Bootstrap ``db`` and register ``orgs`` organizations with custodial keys; return their ids."""
    engine = make_engine(db.url)
    ctx = bench_context(db)
    ids: list[str] = []
    try:
        with Session(engine) as s, s.begin():
            body = organizations.bootstrap(s, ctx)
            for i in range(orgs):
                profile = OrgProfile(id=f"bench-org-{i:02d}", name=f"Bench org {i}", kind="trader")
                organizations.register_org(s, ctx, actor=body.id, profile=profile)
                ids.append(profile.id)
    finally:
        engine.dispose()
    return tuple(ids)


@dataclass(frozen=True)
class AppendSpec:
    """A prepared ledger and the organizations writers append for."""

    db: Database
    orgs: tuple[str, ...]


class SingleAppend:
    """One ``append`` of one event per transaction, as the web app does for each request."""

    def __init__(self, spec: AppendSpec, index: int) -> None:
        self.engine: Engine = make_engine(spec.db.url)
        self.ctx = bench_context(spec.db)
        self.actor = spec.orgs[index % len(spec.orgs)]

    def __call__(self) -> None:
        draft = Draft(type="key.rotate", actor=self.actor, fields={"key": fake_key_json()})
        with Session(self.engine) as s, s.begin():
            append(s, self.ctx, draft)

    def close(self) -> None:
        self.engine.dispose()


def single_append_op(spec: AppendSpec, index: int) -> SingleAppend:
    """Op factory for parallel.run_window."""
    return SingleAppend(spec, index)
