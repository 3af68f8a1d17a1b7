"""An event is signed before the log head is locked: a key rotated in between is never used, and a
key another process replaced since this one last signed is read again, not refused."""

from __future__ import annotations

import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from goldtrace.db.models import Event
from goldtrace.db.session import is_postgres
from goldtrace.errors import Conflict, PermissionDenied
from goldtrace.ledger.keys import b64, key_id, public_bytes
from goldtrace.services import organizations, transparency
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, Recorded, append, lock_head
from goldtrace.services.verify import verify_ledger


def _waiting_for_a_lock(session: Session) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    return bool(session.execute(query).scalar_one())


def test_a_key_rotated_while_an_event_waits_for_the_head_is_never_used(
    trader_ledger_engine: Engine, ctx: Context
) -> None:
    engine = trader_ledger_engine
    public = public_bytes(Ed25519PrivateKey.generate())
    draft = Draft(
        type="key.rotate",
        actor="trader",
        fields={"key": {"kid": key_id(public), "public": b64(public)}},
    )
    outcome: dict[str, Recorded | Exception] = {}

    def writer() -> None:
        with Session(engine) as session:
            try:
                with session.begin():
                    outcome["recorded"] = append(session, ctx, draft)
            except Exception as exc:
                outcome["error"] = exc

    holder = Session(engine)
    holder.begin()
    lock_head(holder)  # the writer signs, then waits for this lock
    thread = threading.Thread(target=writer)
    thread.start()
    if is_postgres(holder):
        with Session(engine) as watcher:
            deadline = time.monotonic() + 30
            while not _waiting_for_a_lock(watcher):
                assert time.monotonic() < deadline, "the writer never waited for the head"
                time.sleep(0.02)
                watcher.rollback()
    else:
        time.sleep(0.3)  # SQLite: the writer waits for the database lock before reading its key
    rotated = organizations.rotate_key(holder, ctx, org_id="trader")
    new_kid, rotated_at = rotated.kid, rotated.valid_from_seq
    holder.commit()
    holder.close()
    thread.join(timeout=60)

    with Session(engine) as session:
        size = transparency.head(session).size
        if is_postgres(session):
            # It had signed with the key just retired: refused whole, nothing logged.
            error = outcome["error"]
            assert isinstance(error, Conflict) and error.code == "key_changed"
            assert size == rotated_at  # the rotation is the last event; its key is valid after it
        else:
            # It read the key only once it held the database, after the rotation.
            recorded = outcome["recorded"]
            assert isinstance(recorded, Recorded) and recorded.kid == new_kid
            stored = session.get(Event, recorded.seq)
            assert stored is not None and stored.kid == new_kid
        assert verify_ledger(session, ctx, workers=1).ok


@pytest.mark.parametrize("change", ["rotate", "revoke", "own_key"])
def test_a_key_another_process_changed_is_read_again(
    trader_ledger_engine: Engine, ctx: Context, change: str
) -> None:
    engine = trader_ledger_engine
    other = Context(ctx.settings)  # another server process: its own keys in memory
    with Session(engine) as session, session.begin():
        organizations.rotate_key(session, ctx, org_id="trader")  # ctx has signed for trader
    with Session(engine) as session, session.begin():
        body = organizations.standard_body_id(session)
        if change == "rotate":
            new_kid = organizations.rotate_key(session, other, org_id="trader").kid
        elif change == "revoke":
            organizations.revoke_key(session, other, actor=body, org_id="trader", reason="lost")
        else:
            own = public_bytes(Ed25519PrivateKey.generate())
            organizations.register_own_key(
                session, other, actor=body, org_id="trader", public_key=own
            )

    with Session(engine) as session:
        size = transparency.head(session).size
        session.rollback()
        if change == "rotate":
            with session.begin():
                rotated = organizations.rotate_key(session, ctx, org_id="trader")
            event = session.get(Event, rotated.valid_from_seq - 1)
            assert event is not None and event.kid == new_kid  # signed with the key now current
        else:
            with pytest.raises(PermissionDenied) as refused, session.begin():
                organizations.rotate_key(session, ctx, org_id="trader")
            assert refused.value.code == {"revoke": "no_key", "own_key": "self_signed_only"}[change]
            assert transparency.head(session).size == size  # nothing logged
        assert verify_ledger(session, ctx, workers=1).ok
