"""Users, passwords and API tokens on the real database."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import register_mines
from goldtrace.db.models import ApiToken, User
from goldtrace.domain.actors import Actor, check_role
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from goldtrace.services import accounts, organizations
from goldtrace.services.context import Context

PASSWORD = "correct horse battery"


@pytest.fixture
def mine(ledger: Session, ctx: Context) -> str:
    return register_mines(ledger, ctx, 1)[0]


def add_auditor_org(session: Session, ctx: Context) -> str:
    profile = OrgProfile(id="audita", name="Auditora Andina", kind="auditor")
    body = organizations.standard_body_id(session)
    return organizations.register_org(session, ctx, actor=body, profile=profile).id


def add(session: Session, email: str, org_id: str, role: str = "operator") -> User:
    return accounts.add_user(session, email=email, org_id=org_id, role=role, password=PASSWORD)


def test_passwords_are_stored_as_argon2id_hashes(ledger: Session, mine: str) -> None:
    user = add(ledger, "  Ana@Example.ORG ", mine)
    assert user.email == "ana@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.active and user.created_at.endswith("Z")


def test_duplicate_email_is_a_conflict_whatever_the_case(ledger: Session, mine: str) -> None:
    add(ledger, "ana@example.org", mine)
    with pytest.raises(Conflict):
        add(ledger, "ANA@example.org", mine)


@pytest.mark.parametrize("email", ["", "ana", "ana@example", "a b@example.org", "@x.org"])
def test_malformed_email_is_refused(ledger: Session, mine: str, email: str) -> None:
    with pytest.raises(InvalidInput):
        add(ledger, email, mine)


def test_short_password_is_refused(ledger: Session, mine: str) -> None:
    with pytest.raises(InvalidInput, match="at least 10"):
        accounts.add_user(
            ledger, email="ana@example.org", org_id=mine, role="operator", password="123456789"
        )


def test_unknown_org_is_not_found(ledger: Session) -> None:
    with pytest.raises(NotFound):
        add(ledger, "ana@example.org", "no-such-org")


def test_roles_must_fit_the_organization_kind(ledger: Session, ctx: Context, mine: str) -> None:
    auditor_org = add_auditor_org(ledger, ctx)
    refused = [
        (mine, "auditor"),
        (mine, "standard_body"),
        (mine, "superuser"),
        (auditor_org, "operator"),
        (auditor_org, "admin"),
        ("arm", "admin"),
        ("arm", "auditor"),
    ]
    for i, (org_id, role) in enumerate(refused):
        with pytest.raises(InvalidInput):
            add(ledger, f"u{i}@example.org", org_id, role)
    assert add(ledger, "a@example.org", mine, "admin").role == "admin"
    assert add(ledger, "b@example.org", auditor_org, "auditor").role == "auditor"
    assert add(ledger, "c@example.org", "arm", "standard_body").role == "standard_body"


def test_check_role_without_a_database() -> None:
    check_role("operator", "refiner")
    with pytest.raises(InvalidInput, match="standard_body"):
        check_role("admin", "standard_body")


def test_authenticate_accepts_the_right_password_only(ledger: Session, mine: str) -> None:
    user = add(ledger, "ana@example.org", mine)
    assert accounts.authenticate(ledger, email="ANA@example.org", password=PASSWORD) is user
    with pytest.raises(Unauthenticated) as wrong:
        accounts.authenticate(ledger, email="ana@example.org", password=PASSWORD + "x")
    with pytest.raises(Unauthenticated) as unknown:
        accounts.authenticate(ledger, email="nobody@example.org", password=PASSWORD)
    user.active = False
    with pytest.raises(Unauthenticated) as inactive:
        accounts.authenticate(ledger, email="ana@example.org", password=PASSWORD)
    assert wrong.value.message == unknown.value.message == inactive.value.message
    assert wrong.value.code == unknown.value.code == inactive.value.code


def test_change_password(ledger: Session, mine: str) -> None:
    user = add(ledger, "ana@example.org", mine)
    new = "another long passphrase"
    with pytest.raises(Unauthenticated):
        accounts.change_password(ledger, user=user, old="not the password", new=new)
    with pytest.raises(InvalidInput):
        accounts.change_password(ledger, user=user, old=PASSWORD, new="short")
    accounts.change_password(ledger, user=user, old=PASSWORD, new=new)
    assert accounts.authenticate(ledger, email="ana@example.org", password=new) is user
    with pytest.raises(Unauthenticated):
        accounts.authenticate(ledger, email="ana@example.org", password=PASSWORD)


def test_tokens_are_stored_hashed_and_find_their_user(ledger: Session, mine: str) -> None:
    user = add(ledger, "ana@example.org", mine)
    row, plaintext = accounts.create_token(ledger, email="Ana@example.org", label=" scale ")
    assert plaintext.startswith("gt_") and len(plaintext) == 3 + 43
    assert row.token_hash == hashlib.sha256(plaintext.encode()).digest()
    assert plaintext.encode() not in row.token_hash and row.label == "scale"
    assert accounts.user_for_token(ledger, plaintext) is user
    other, second = accounts.create_token(ledger, email="ana@example.org")
    assert second != plaintext and other.label is None


@pytest.mark.parametrize("token", ["", "gt_", "gt_unknown", "Bearer x", "x" * 50])
def test_unknown_tokens_are_refused(ledger: Session, mine: str, token: str) -> None:
    add(ledger, "ana@example.org", mine)
    accounts.create_token(ledger, email="ana@example.org")
    with pytest.raises(Unauthenticated):
        accounts.user_for_token(ledger, token)


def test_revoked_tokens_and_inactive_users_are_refused(ledger: Session, mine: str) -> None:
    user = add(ledger, "ana@example.org", mine)
    row, plaintext = accounts.create_token(ledger, email="ana@example.org")
    _kept, kept_plain = accounts.create_token(ledger, email="ana@example.org")
    accounts.revoke_token(ledger, token_id=row.id, by_user=user)
    assert row.revoked_at is not None
    with pytest.raises(Unauthenticated):
        accounts.user_for_token(ledger, plaintext)
    with pytest.raises(Conflict):
        accounts.revoke_token(ledger, token_id=row.id, by_user=user)
    assert accounts.user_for_token(ledger, kept_plain) is user
    user.active = False
    with pytest.raises(Unauthenticated):
        accounts.user_for_token(ledger, kept_plain)
    with pytest.raises(Conflict):
        accounts.create_token(ledger, email="ana@example.org")


def test_who_may_revoke_a_token(ledger: Session, ctx: Context) -> None:
    mine, other_mine = register_mines(ledger, ctx, 2)
    owner = add(ledger, "owner@example.org", mine)
    colleague = add(ledger, "colleague@example.org", mine)
    admin = add(ledger, "admin@example.org", mine, "admin")
    stranger = add(ledger, "admin@other.org", other_mine, "admin")
    body = add(ledger, "staff@arm.example", "arm", "standard_body")
    for by in (colleague, stranger):
        row, _ = accounts.create_token(ledger, email="owner@example.org")
        with pytest.raises(PermissionDenied):
            accounts.revoke_token(ledger, token_id=row.id, by_user=by)
    for by_user in (owner, admin, body, None):
        row, _ = accounts.create_token(ledger, email="owner@example.org")
        accounts.revoke_token(ledger, token_id=row.id, by_user=by_user)
    with pytest.raises(NotFound):
        accounts.revoke_token(ledger, token_id=10**9, by_user=None)
    revoked = select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_not(None))
    assert ledger.scalar(revoked) == 4


def test_actor_for(ledger: Session, ctx: Context, mine: str) -> None:
    operator = accounts.actor_for(ledger, add(ledger, "ana@example.org", mine))
    assert operator == Actor(
        user_id=operator.user_id,
        email="ana@example.org",
        org_id=mine,
        org_kind="mine",
        role="operator",
    )
    assert not operator.sees_everything and not operator.is_auditor
    auditor = accounts.actor_for(
        ledger, add(ledger, "eva@example.org", add_auditor_org(ledger, ctx), "auditor")
    )
    assert auditor.is_auditor and auditor.sees_everything and not auditor.is_standard_body
    body = accounts.actor_for(ledger, add(ledger, "sb@example.org", "arm", "standard_body"))
    assert body.is_standard_body and body.sees_everything and body.org_kind == "standard_body"


def test_list_users(ledger: Session, mine: str) -> None:
    add(ledger, "zoe@example.org", mine)
    add(ledger, "sb@example.org", "arm", "standard_body")
    assert [u.email for u in accounts.list_users(ledger)] == ["sb@example.org", "zoe@example.org"]
