"""The standard body's administration forms: each writes its ledger event, or refuses and writes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from builders import Chain, certified_chain
from goldtrace.db.models import (
    Authorization,
    Certification,
    CertificationStatus,
    Event,
    Organization,
    User,
)
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import accounts, organizations
from goldtrace.services.context import Context

PASSWORD = "correct-horse-battery"

NEW_MINE = {
    "org-org_id": "macdesa",
    "org-name": "Minera Aurífera Cuatro de Enero",
    "org-kind": "mine",
    "org-region": "Arequipa",
    "org-country": "PE",
    "org-ruc": "20455950253",
    "org-reinfo": "REINFO-0042",
    "org-miners": "120",
    "org-capacity": "15000.5",
    "org-committee": "Comité del Premio de MACDESA",
}


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    chain = certified_chain(ledger, ctx)
    organizations.register_org(
        ledger,
        ctx,
        actor="arm",
        profile=OrgProfile(id="auditora", name="Auditora Andina", kind="auditor"),
    )
    for email, org, role in (
        ("body@example.org", "arm", "standard_body"),
        ("auditor@example.org", "auditora", "auditor"),
        ("mine@example.org", "cecomip", "operator"),
    ):
        accounts.add_user(ledger, email=email, org_id=org, role=role, password=PASSWORD)
    return chain


def log_in(client: FlaskClient, email: str) -> str:
    """Log in (in English); return a CSRF token for the forms."""
    client.set_cookie("lang", "en")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return token.group(1)


@pytest.fixture
def body(client: FlaskClient, chain: Chain) -> str:
    return log_in(client, "body@example.org")


def state(session: Session) -> tuple[int, ...]:
    """Counts of everything the forms write."""
    session.expire_all()
    return tuple(
        session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Event, Organization, Certification, CertificationStatus, Authorization, User)
    )


def post(client: FlaskClient, token: str, path: str, data: dict[str, str]) -> Any:
    prefix = next(iter(data)).split("-")[0]
    return client.post(path, data={f"{prefix}-csrf_token": token, **data})


def last_event(session: Session) -> Event:
    return session.execute(select(Event).order_by(Event.seq.desc()).limit(1)).scalar_one()


def test_the_admin_page_shows_every_form(client: FlaskClient, body: str) -> None:
    page = client.get("/admin").get_data(as_text=True)
    for action in ("organizations", "certifications", "certifications/status", "authorizations"):
        assert f'action="/admin/{action}"' in page
    assert 'action="/admin/users"' in page
    assert "FM-001 (cecomip)" in page  # certificates to change the status of


def test_adding_an_organization_writes_its_registration_event(
    client: FlaskClient, ledger: Session, body: str
) -> None:
    before = state(ledger)
    response = post(client, body, "/admin/organizations", NEW_MINE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin#org")
    org = ledger.get(Organization, "macdesa")
    assert org is not None
    assert (org.kind, org.ruc, org.reinfo, org.miners) == (
        "mine",
        "20455950253",
        "REINFO-0042",
        120,
    )
    assert (org.capacity_mg_month, org.committee) == (15_000_500, "Comité del Premio de MACDESA")
    event = last_event(ledger)
    assert (event.type, event.actor, event.seq) == ("org.register", "arm", org.registered_seq)
    assert state(ledger)[:2] == (before[0] + 1, before[1] + 1)
    assert "Organization macdesa registered" in client.get("/admin").get_data(as_text=True)


def test_certification_status_authorization_and_user_forms_write(
    client: FlaskClient, ledger: Session, body: str
) -> None:
    assert post(client, body, "/admin/organizations", NEW_MINE).status_code == 302
    certify = {
        "cert-org": "macdesa",
        "cert-category": "fairmined_ecological",
        "cert-number": "FME-MAC-1",
        "cert-certifier": "Certificadora Andina",
        "cert-valid_from": "2025-01-01",
        "cert-valid_until": "2027-12-31",
    }
    assert post(client, body, "/admin/certifications", certify).status_code == 302
    cert = ledger.execute(
        select(Certification).where(Certification.number == "FME-MAC-1")
    ).scalar_one()
    assert (cert.org_id, cert.category, cert.certifier) == (
        "macdesa",
        "fairmined_ecological",
        "Certificadora Andina",
    )
    assert last_event(ledger).type == "cert.record"

    suspend = {
        "status-number": "FME-MAC-1",
        "status-status": "suspended",
        "status-effective_on": "2026-02-01",
    }
    assert post(client, body, "/admin/certifications/status", suspend).status_code == 302
    row = ledger.execute(
        select(CertificationStatus).where(CertificationStatus.certification_id == cert.id)
    ).scalar_one()
    assert (row.status, row.effective_on.isoformat()) == ("suspended", "2026-02-01")
    assert last_event(ledger).type == "cert.status"

    authorize = {
        "auth-org": "trader",
        "auth-role": "supplier",
        "auth-valid_from": "2026-01-01",
        "auth-valid_until": "2026-12-31",
    }
    assert post(client, body, "/admin/authorizations", authorize).status_code == 302
    assert last_event(ledger).type == "auth.record"
    assert (
        ledger.execute(
            select(func.count()).select_from(Authorization).where(Authorization.org_id == "trader")
        ).scalar_one()
        == 2
    )

    user = {
        "user-email": "Rosa@Macdesa.pe",
        "user-org": "macdesa",
        "user-role": "admin",
        "user-password": "una clave bien larga",
    }
    events = state(ledger)[0]
    assert post(client, body, "/admin/users", user).status_code == 302
    created = ledger.execute(select(User).where(User.email == "rosa@macdesa.pe")).scalar_one()
    assert (created.org_id, created.role) == ("macdesa", "admin")
    assert state(ledger)[0] == events  # users are accounts, not ledger events
    page = client.get("/organizations").get_data(as_text=True)
    assert "FME-MAC-1" in page and "Suspended from" in page


ANA = {
    "user-email": "ana@cecomip.pe",
    "user-org": "cecomip",
    "user-password": "una clave bien larga",
}
CERT = {"cert-org": "cecomip", "cert-category": "fairmined", "cert-number": "FM-XYZ"}
DATES = {"valid_from": "2026-01-01", "valid_until": "2026-12-31"}


@pytest.mark.parametrize(
    ("path", "data", "messages", "kept"),
    [
        (
            "/admin/organizations",
            {**NEW_MINE, "org-ruc": "12345"},
            ("That RUC is not valid: 11 digits", "Check this value."),
            'value="12345"',
        ),
        (
            "/admin/organizations",
            {**NEW_MINE, "org-org_id": "cecomip"},
            ("An organization with that id already exists.",),
            'value="Minera Aurífera Cuatro de Enero"',
        ),
        (
            "/admin/organizations",
            {**NEW_MINE, "org-capacity": ""},
            ("Some fields are not valid.", "A mine must declare this."),
            'value="REINFO-0042"',
        ),
        (
            "/admin/organizations",
            {**NEW_MINE, "org-kind": "trader"},
            ("Only for mines.",),
            '<option selected value="trader">',
        ),
        (
            "/admin/certifications",
            {**CERT, "cert-valid_from": "2027-01-01", "cert-valid_until": "2026-01-01"},
            ("Some fields are not valid.", "Check this value."),
            'value="2027-01-01"',
        ),
        (
            "/admin/certifications",
            {**CERT, "cert-org": "trader", "cert-valid_from": "2026-01-01"},
            ("Not a valid choice",),
            'value="FM-XYZ"',
        ),
        (
            "/admin/certifications",
            {**CERT, "cert-number": "FM-001", "cert-certifier": "Otro Certificador"}
            | {f"cert-{k}": v for k, v in DATES.items()},
            (),  # the number is taken
            'value="Otro Certificador"',
        ),
        (
            "/admin/certifications/status",
            {"status-number": "FM-001", "status-status": "active", "status-effective_on": "soon"},
            ("Not a valid date value",),
            'value="soon"',
        ),
        (
            "/admin/authorizations",
            {"auth-org": "jeweler", "auth-role": "partner"}
            | {f"auth-{k}": v for k, v in DATES.items()},
            ("Not a valid choice",),
            '<option selected value="jeweler">',
        ),
        (
            "/admin/users",
            {**ANA, "user-role": "auditor"},
            ("That role does not fit the organization.", "Check this value."),
            'value="ana@cecomip.pe"',
        ),
        (
            "/admin/users",
            {**ANA, "user-email": "mine@example.org", "user-role": "operator"},
            ("A user with that email already exists.",),
            'value="mine@example.org"',
        ),
        (
            "/admin/users",
            {**ANA, "user-role": "operator", "user-password": "short"},
            ("Field must be between 10 and 200 characters long.",),
            'value="ana@cecomip.pe"',
        ),
    ],
)
def test_refusals_show_a_readable_message_keep_the_inputs_and_write_nothing(
    client: FlaskClient,
    ledger: Session,
    body: str,
    path: str,
    data: dict[str, str],
    messages: tuple[str, ...],
    kept: str,
) -> None:
    before = state(ledger)
    response = post(client, body, path, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in messages:
        assert message in page
    assert kept in page
    assert "una clave bien larga" not in page and 'value="short"' not in page
    assert state(ledger) == before


def test_only_the_standard_body_may_administer(
    client: FlaskClient, ledger: Session, chain: Chain
) -> None:
    for email in ("auditor@example.org", "mine@example.org"):
        token = log_in(client, email)
        before = state(ledger)
        assert client.get("/admin").status_code == 403
        for path, data in (
            ("/admin/organizations", NEW_MINE),
            ("/admin/users", {"user-email": "x@example.org", "user-org": "arm"}),
            ("/admin/certifications", {"cert-org": "cecomip"}),
            ("/admin/certifications/status", {"status-number": "FM-001"}),
            ("/admin/authorizations", {"auth-org": "trader"}),
        ):
            assert post(client, token, path, data).status_code == 403, (email, path)
        assert state(ledger) == before
        client.post("/logout", data={"csrf_token": token})


def test_a_form_without_its_csrf_token_is_refused(
    client: FlaskClient, ledger: Session, body: str
) -> None:
    before = state(ledger)
    assert client.post("/admin/organizations", data=NEW_MINE).status_code == 400
    assert state(ledger) == before
