"""Onboarding organizations and managing their signing keys, each step a ledger event."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, Organization, OrgKey
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import Conflict, NotFound, PermissionDenied
from goldtrace.ledger.keys import b64, key_id, public_bytes, require_usable_public_key
from goldtrace.services.context import Context
from goldtrace.services.log import Draft, Recorded, append, lock_head
from goldtrace.services.transparency import ensure_log_key


def bootstrap(session: Session, ctx: Context) -> Organization:
    """Create the log key and register the standard body as the ledger's first event, once.

    Returns the standard body (the existing one when the ledger already has its genesis).
    """
    ensure_log_key(session, ctx)
    head = lock_head(session)
    if head.size > 0:
        genesis = session.get(Event, 0)
        assert genesis is not None
        return get_org(session, genesis.actor)
    profile = OrgProfile(
        id=ctx.settings.standard_body_id, name=ctx.settings.standard_body_name, kind="standard_body"
    )
    private_key = Ed25519PrivateKey.generate()
    kid = key_id(public_bytes(private_key))
    rec = append(
        session,
        ctx,
        Draft(
            type="org.register",
            actor=profile.id,
            fields={"org": profile.as_json(), "key": _key_json(private_key)},
            signer=(kid, private_key),
        ),
    )
    return _store(session, ctx, profile, private_key, rec, from_seq=0)


def register_org(
    session: Session,
    ctx: Context,
    *,
    actor: str,
    profile: OrgProfile,
    public_key: bytes | None = None,
) -> Organization:
    """Register an organization with a new custodial key (or the public key it brings).

    Raises PermissionDenied unless ``actor`` is the standard body; Conflict if the id is taken.
    """
    require_standard_body(session, actor)
    if session.get(Organization, profile.id) is not None:
        raise Conflict(f"organization {profile.id} already exists", code="duplicate_org")
    if profile.ruc is not None:
        holder = session.execute(
            select(Organization.id).where(Organization.ruc == profile.ruc)
        ).scalar_one_or_none()
        if holder is not None:
            raise Conflict(
                f"RUC {profile.ruc} is already {holder}'s: one taxpayer, one organization (the "
                "standard body may record that organizations belong to one group)",
                code="duplicate_ruc",
                fields={"ruc": "already registered"},
            )
    private_key = None if public_key is not None else Ed25519PrivateKey.generate()
    key = _key_json(private_key) if private_key else _public_json(public_key or b"")
    rec = append(
        session,
        ctx,
        Draft(type="org.register", actor=actor, fields={"org": profile.as_json(), "key": key}),
    )
    org = _store(session, ctx, profile, private_key, rec, from_seq=rec.seq + 1, public=public_key)
    return org


def rotate_key(session: Session, ctx: Context, *, org_id: str) -> OrgKey:
    """Replace an organization's custodial key with a new one, signed by the old; return the new key."""
    get_org(session, org_id)
    private_key = Ed25519PrivateKey.generate()
    rec = append(
        session, ctx, Draft(type="key.rotate", actor=org_id, fields={"key": _key_json(private_key)})
    )
    return _replace_key(session, ctx, org_id, rec, private_key=private_key)


def register_own_key(
    session: Session, ctx: Context, *, actor: str, org_id: str, public_key: bytes
) -> OrgKey:
    """Standard body: make ``public_key`` (held by the organization itself) its only valid key."""
    require_usable_public_key(public_key)
    require_standard_body(session, actor)
    get_org(session, org_id)
    rec = append(
        session,
        ctx,
        Draft(
            type="key.register",
            actor=actor,
            fields={"org": org_id, "key": _public_json(public_key)},
        ),
    )
    return _replace_key(session, ctx, org_id, rec, public_key=public_key)


def revoke_key(session: Session, ctx: Context, *, actor: str, org_id: str, reason: str) -> Recorded:
    """Standard body: end the validity of an organization's current key, with no replacement."""
    require_standard_body(session, actor)
    key = current_key(session, org_id)
    rec = append(
        session,
        ctx,
        Draft(
            type="key.revoke", actor=actor, fields={"org": org_id, "kid": key.kid, "reason": reason}
        ),
    )
    key.valid_until_seq = rec.seq + 1
    session.flush()
    return rec


def get_org(session: Session, org_id: str) -> Organization:
    """Return the organization; NotFound when there is none."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(
            f"unknown organization {org_id!r}", code="unknown_org", fields={"org": org_id}
        )
    return org


def current_key(session: Session, org_id: str) -> OrgKey:
    """Return the organization's currently valid key; NotFound if it has none."""
    key = session.execute(
        select(OrgKey).where(OrgKey.org_id == org_id, OrgKey.valid_until_seq.is_(None))
    ).scalar_one_or_none()
    if key is None:
        raise NotFound(f"organization {org_id} has no valid key", code="no_key")
    return key


def standard_body_id(session: Session) -> str:
    """Return the id of the standard body that registered itself in the genesis event."""
    genesis = session.get(Event, 0)
    if genesis is None:
        raise NotFound("the ledger is empty: run `goldtrace init-db`", code="no_genesis")
    return genesis.actor


def require_standard_body(session: Session, actor: str) -> None:
    if actor != standard_body_id(session):
        raise PermissionDenied("only the standard body may do this", code="not_standard_body")


def _key_json(private_key: Ed25519PrivateKey) -> dict[str, str]:
    return _public_json(public_bytes(private_key))


def _public_json(public: bytes) -> dict[str, str]:
    return {"kid": key_id(public), "public": b64(public)}


def _store(
    session: Session,
    ctx: Context,
    profile: OrgProfile,
    private_key: Ed25519PrivateKey | None,
    rec: Recorded,
    *,
    from_seq: int,
    public: bytes | None = None,
) -> Organization:
    org = Organization(
        id=profile.id,
        name=profile.name,
        kind=profile.kind,
        country=profile.country,
        region=profile.region,
        ruc=profile.ruc,
        reinfo=profile.reinfo,
        miners=profile.miners,
        capacity_mg_month=profile.capacity_mg_month,
        committee=profile.committee,
        pickers=profile.pickers,
        registered_seq=rec.seq,
    )
    session.add(org)
    session.flush()
    session.add(_key_row(ctx, profile.id, from_seq, private_key=private_key, public_key=public))
    session.flush()
    return org


def _key_row(
    ctx: Context,
    org_id: str,
    from_seq: int,
    *,
    private_key: Ed25519PrivateKey | None = None,
    public_key: bytes | None = None,
) -> OrgKey:
    public = public_bytes(private_key) if private_key is not None else public_key
    assert public is not None
    kid = key_id(public)
    return OrgKey(
        kid=kid,
        org_id=org_id,
        public_key=public,
        private_key_sealed=ctx.seal.seal(private_key, kid) if private_key is not None else None,
        valid_from_seq=from_seq,
        valid_until_seq=None,
    )


def _replace_key(
    session: Session,
    ctx: Context,
    org_id: str,
    rec: Recorded,
    *,
    private_key: Ed25519PrivateKey | None = None,
    public_key: bytes | None = None,
) -> OrgKey:
    old = current_key(session, org_id)
    old.valid_until_seq = rec.seq + 1
    new = _key_row(ctx, org_id, rec.seq + 1, private_key=private_key, public_key=public_key)
    if session.get(OrgKey, new.kid) is not None:
        raise Conflict("that key was registered before", code="key_reused")
    session.add(new)
    session.flush()
    return new
