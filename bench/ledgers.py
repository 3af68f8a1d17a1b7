"""A ledger that full verification accepts, grown through ``append_many`` in batches.

Each batch is half ``org.register`` events (the standard body registers a new organization and its
key) and half ``key.rotate`` events of organizations registered in earlier batches, each declaring a
new key and signed by the key it replaces (``Draft.signer``), which is exactly what ``KeyState``
replays. A batch holds at most one key event per organization, as ``append_many`` demands. The
organization and org_key tables are not updated for these events (verification reads only the events,
the log and the checkpoints), so the ledger is for benchmarking only.
"""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from appends import bench_context, prepare_ledger
from goldtrace.db.models import Event
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.ledger.keys import b64, key_id, public_bytes
from goldtrace.ledger.verifier import Report
from goldtrace.services import organizations, transparency
from goldtrace.services.log import Draft, append_many
from goldtrace.services.verify import verify_ledger
from scratch import Database


class ValidLedger:
    """Grows a verifiable ledger in ``db`` and verifies it."""

    def __init__(self, db: Database, *, orgs: int, batch: int) -> None:
        self.db = db
        self.batch = batch
        self.engine: Engine = make_engine(db.url)
        self.ctx = bench_context(db)
        self.orgs = prepare_ledger(db, orgs)
        self.signers: dict[str, tuple[str, Ed25519PrivateKey]] = {}
        self.known = list(self.orgs)
        self._registered = 0
        with Session(self.engine) as s:
            self.body = organizations.standard_body_id(s)
            for org in self.orgs:
                key = organizations.current_key(s, org)
                assert key.private_key_sealed is not None
                self.signers[org] = (key.kid, self.ctx.seal.open(key.private_key_sealed, key.kid))
        self._turn = 0

    def size(self) -> int:
        """Return the number of events stored."""
        with Session(self.engine) as s:
            return int(s.execute(select(func.count()).select_from(Event)).scalar_one())

    def _batch(self, count: int) -> list[Draft]:
        """Return ``count`` valid drafts: rotations of distinct known organizations, and registrations."""
        rotations = min(count // 2, len(self.known))
        registered: list[str] = []
        drafts = []
        for i in range(count):
            new = Ed25519PrivateKey.generate()
            public = public_bytes(new)
            kid = key_id(public)
            key = {"kid": kid, "public": b64(public)}
            if i % 2 and i // 2 < rotations:
                org = self.known[self._turn % len(self.known)]
                self._turn += 1
                drafts.append(
                    Draft(
                        type="key.rotate",
                        actor=org,
                        fields={"key": key},
                        signer=self.signers[org],
                    )
                )
            else:
                self._registered += 1
                org = f"mine-{self._registered:06d}"
                profile = OrgProfile(
                    id=org,
                    name=f"Cooperativa Minera {self._registered}",
                    kind="mine",
                    region="Puno",
                    miners=12,
                    capacity_mg_month=1_000_000,
                )
                drafts.append(
                    Draft(
                        type="org.register",
                        actor=self.body,
                        fields={"org": profile.as_json(), "key": key},
                    )
                )
                registered.append(org)
            self.signers[org] = (kid, new)
        self.known.extend(registered)
        return drafts

    def extend(self, count: int) -> float:
        """Append ``count`` events, ``batch`` per transaction; return the seconds the transactions took.

        Drafts (and their fresh key pairs) are prepared before the clock starts.
        """
        batches = [self._batch(min(self.batch, count - i)) for i in range(0, count, self.batch)]
        start = time.perf_counter()
        for drafts in batches:
            with Session(self.engine) as s, s.begin():
                append_many(s, self.ctx, drafts)
        return time.perf_counter() - start

    def checkpoint(self) -> None:
        """Sign a checkpoint of the ledger as it stands (verification checks every checkpoint)."""
        with Session(self.engine) as s, s.begin():
            transparency.cut_checkpoint(s, self.ctx)

    def verify(self, workers: int) -> tuple[Report, float]:
        """Run the full verification; return its report and the seconds it took."""
        with Session(self.engine) as s:
            start = time.perf_counter()
            report = verify_ledger(s, self.ctx, workers=workers)
            return report, time.perf_counter() - start

    def close(self) -> None:
        self.engine.dispose()
