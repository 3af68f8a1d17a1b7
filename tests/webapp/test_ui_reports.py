"""The reports page (exports in the background, downloaded by whoever started them) and the ledger
page's checkpoints with their witnesses."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import web_forms
from builders import Chain, certified_chain, register, sell
from goldtrace.config import Settings
from goldtrace.db import migrate
from goldtrace.db.session import make_engine
from goldtrace.domain.organizations import OrgProfile
from goldtrace.ledger import note
from goldtrace.services import (
    accounts,
    export_jobs,
    jobs,
    organizations,
    transparency,
    witnesses,
)
from goldtrace.services.context import Context
from goldtrace.services.reports import ReportScope
from goldtrace.webapp import create_app
from goldtrace.webapp.ui.reports import FORMAT_LABELS, SCOPE_LABELS, ExportForm

PASSWORD = "correct-horse-battery"
# who: (organization, role)
PEOPLE = {
    "auditor": ("auditora", "auditor"),
    "standard_body": ("arm", "standard_body"),
    "mine_operator": ("cecomip", "operator"),
    "mine_admin": ("cecomip", "admin"),
    "trader": ("trader", "operator"),
}


def add_people(session: Session, ctx: Context) -> None:
    """An auditing organization, and a user for each of PEOPLE."""
    organizations.register_org(
        session,
        ctx,
        actor="arm",
        profile=OrgProfile(id="auditora", name="Auditora Andina", kind="auditor"),
    )
    for who, (org, role) in PEOPLE.items():
        accounts.add_user(
            session, email=f"{who}@example.org", org_id=org, role=role, password=PASSWORD
        )


def log_in(client: FlaskClient, who: str) -> str:
    """Log in as ``who`` (in English); return a CSRF token for later forms."""
    client.set_cookie("lang", "en")
    return web_forms.log_in(client, f"{who}@example.org", PASSWORD)


@pytest.fixture(autouse=True)
def export_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own export jobs, writing under its temporary directory."""
    directory = tmp_path / "exports"
    directory.mkdir()
    monkeypatch.setattr(export_jobs, "_registry", export_jobs.ExportJobs(directory))
    return directory


def started_jobs() -> list[export_jobs.ExportStatus]:
    return export_jobs.registry().statuses(lambda _status: True)


# --- who may do what (the test's own rolled-back connection; no job runs) -----------------------


@pytest.fixture
def chain(ledger: Session, ctx: Context) -> Chain:
    chain = certified_chain(ledger, ctx)
    add_people(ledger, ctx)
    return chain


@pytest.mark.parametrize("who", ["auditor", "standard_body"])
def test_overseers_may_export_any_scope(client: FlaskClient, chain: Chain, who: str) -> None:
    log_in(client, who)
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<a href="/reports">Reports</a>' in page
    page = client.get("/reports").get_data(as_text=True)
    for text in ("The whole ledger", "One organization", "One lot or piece", 'name="lot"'):
        assert text in page, text
    for org in ("cecomip", "oro-puno", "trader", "auditora"):
        assert f'<option value="{org}">' in page, org
    for fmt in ("csv", "json", "epcis"):
        assert f'<option value="{fmt}">' in page, fmt


@pytest.mark.parametrize("who", ["mine_operator", "mine_admin"])
def test_a_member_is_offered_its_own_organization_only(
    client: FlaskClient, chain: Chain, who: str
) -> None:
    log_in(client, who)
    assert '<a href="/reports">Reports</a>' in client.get("/dashboard").get_data(as_text=True)
    page = client.get("/reports").get_data(as_text=True)
    assert re.search(r'<option selected value="cecomip">CECOMIP \(cecomip\)</option>', page)
    assert "The whole ledger" not in page and 'name="lot"' not in page
    assert '<option value="trader">' not in page


@pytest.mark.parametrize(
    "form",
    [
        {"scope": "ledger"},
        {"scope": "org", "org": "trader"},
        {"scope": "org", "org": "no-such-org"},
        {"scope": "lot", "lot": "anything"},
        {},
    ],
)
def test_a_member_may_not_export_beyond_its_organization(
    client: FlaskClient, chain: Chain, export_dir: Path, form: dict[str, str]
) -> None:
    token = log_in(client, "mine_operator")
    response = client.post("/reports", data={"csrf_token": token, "fmt": "json", **form})
    assert response.status_code == 403
    assert started_jobs() == [] and list(export_dir.iterdir()) == []


def test_reports_need_a_login(client: FlaskClient, chain: Chain) -> None:
    for path in ("/reports", "/reports/jobs/x", "/reports/jobs/x/download"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert client.post("/reports", data={"scope": "ledger", "fmt": "json"}).status_code in (
        302,
        400,
    )
    assert started_jobs() == []


BAD_INPUT = {
    "unknown organization": (
        {"scope": "org", "org": "no-such-org"},
        "org",
        "There is no such organization.",
    ),
    "organization missing": ({"scope": "org", "org": ""}, "org", "This field is required."),
    "unknown lot": ({"scope": "lot", "lot": "L-NOPE"}, "lot", "There is no lot or piece"),
    "lot missing": ({"scope": "lot", "lot": " "}, "lot", "This field is required."),
    "from after until": (
        {"scope": "ledger", "start": "2026-05-02", "until": "2026-05-01"},
        "until",
        "The period ends before it starts.",
    ),
    "malformed date": ({"scope": "ledger", "start": "2026-13-45"}, "start", "Not a valid date"),
    "unknown format": ({"scope": "ledger", "fmt": "xlsx"}, "fmt", "Not a valid choice"),
    "unknown scope": ({"scope": "planet"}, "scope", "Not a valid choice"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_shown_next_to_its_field_and_starts_nothing(
    client: FlaskClient, chain: Chain, export_dir: Path, case: str
) -> None:
    fields, field, message = BAD_INPUT[case]
    token = log_in(client, "auditor")
    response = client.post("/reports", data={"csrf_token": token, "fmt": "csv", **fields})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert error and message in error.group(1), page[page.find("field-error") - 200 :][:600]
    assert started_jobs() == [] and list(export_dir.iterdir()) == []


def test_a_form_without_its_csrf_token_starts_nothing(client: FlaskClient, chain: Chain) -> None:
    log_in(client, "auditor")
    assert client.post("/reports", data={"scope": "ledger", "fmt": "json"}).status_code == 400
    assert started_jobs() == []


def test_an_unknown_job_is_reported(client: FlaskClient, chain: Chain) -> None:
    log_in(client, "auditor")
    response = client.get("/reports/jobs/no-such-job")
    assert response.status_code == 404 and response.json == {
        "id": "no-such-job",
        "state": "unknown",
    }
    assert client.get("/reports/jobs/no-such-job/download").status_code == 404
    page = client.get("/reports?job=no-such-job").get_data(as_text=True)
    assert "That export is not known here" in page


def test_a_running_export_shows_a_progress_bar_that_works_without_script(
    app: Flask, chain: Chain
) -> None:
    running = export_jobs.ExportStatus(
        id="abc123",
        state="running",
        done=2000,
        total=8000,
        started_at="2026-01-01T00:00:00.000Z",
        owner=1,
        scope=ReportScope(kind="ledger"),
        fmt="epcis",
        filename="goldtrace-ledger.jsonld",
        path=Path("/nonexistent"),
    )
    with app.test_request_context("/reports?job=abc123"):
        page = render_template(
            "reports/index.html",
            form=ExportForm(meta={"csrf": False}),
            exports=[running],
            scope_labels=SCOPE_LABELS,
            format_labels=FORMAT_LABELS,
            may_pick_lot=True,
            job=running,
        )
    assert 'data-job-status="/reports/jobs/abc123"' in page
    assert '<progress id="export-progress" max="8000" value="2000">' in page
    assert 'href="/reports?job=abc123#export"' in page  # the refresh link
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert '<script src="/static/verify.js" defer>' in page
    assert "<script>" not in page  # no inline script: the CSP forbids it
    assert "/download" not in page


# --- the ledger page's checkpoints and witnesses -------------------------------------------------


def test_the_ledger_lists_checkpoints_with_their_witnesses(
    client: FlaskClient, ledger: Session, ctx: Context, chain: Chain
) -> None:
    first = transparency.cut_checkpoint(ledger, ctx)
    register(ledger, ctx, chain.mine)
    latest = transparency.cut_checkpoint(ledger, ctx)
    witness = note.Signer(
        "witness.test/w1", Ed25519PrivateKey.generate(), note.SIG_TYPE_COSIGNATURE
    )
    witnesses.register_witness(ledger, witness.verifier.vkey())
    text = note.parse_note(latest.note).text
    witnesses.add_cosignature(ledger, witness.cosign(text, 1768478460), latest.size)

    log_in(client, "auditor")
    page = client.get("/ledger").get_data(as_text=True)
    assert "Checkpoints and their witnesses" in page
    row = page[page.index(f'id="checkpoint-{latest.size}"') :]
    row = row[: row.index("</tr>")]
    for text in (
        latest.root.hex(),
        latest.created_at,
        "witness.test/w1",
        witness.verifier.key_id.hex(),
        "cosigned 2026-01-15T12:01:00.000Z",
    ):
        assert text in row, text
    older = page[page.index(f'id="checkpoint-{first.size}"') :]
    older = older[: older.index("</tr>")]
    assert first.root.hex() in older and "not cosigned yet" in older
    assert "witness.test/w1" not in older


def test_the_ledger_without_checkpoints_has_no_witness_table(
    client: FlaskClient, chain: Chain
) -> None:
    log_in(client, "standard_body")
    page = client.get("/ledger").get_data(as_text=True)
    assert "No checkpoint has been signed yet." in page
    assert "Checkpoints and their witnesses" not in page


# --- exports that run: a real thread with its own sessions, so a database of its own ------------


@pytest.fixture
def live(fresh_database_url: str, settings: Settings) -> Iterator[tuple[Flask, str]]:
    """An app on a fresh database holding a small chain (a lot sold by the mine to the trader,
    a checkpoint) and the people; also the id of that lot."""
    migrate.upgrade(fresh_database_url)
    engine = make_engine(fresh_database_url)
    ctx = Context(settings)
    with Session(engine) as session, session.begin():
        organizations.bootstrap(session, ctx)
        chain = certified_chain(session, ctx)
        add_people(session, ctx)
        lot_id = register(session, ctx, chain.mine)
        sell(session, ctx, lot_id, chain.mine, chain.trader)
        register(session, ctx, chain.eco_mine, category="fairmined_ecological")
        transparency.cut_checkpoint(session, ctx)
    engine.dispose()
    app = create_app(settings.with_overrides(database_url=fresh_database_url))
    yield app, lot_id
    app.extensions["goldtrace"]["sessions"].kw["bind"].dispose()


def start(client: FlaskClient, token: str, **fields: str) -> str:
    response = client.post("/reports", data={"csrf_token": token, **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/reports\?job=(\w+)#export$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def finished(client: FlaskClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(f"/reports/jobs/{job_id}")
        assert response.status_code == 200
        status: dict[str, Any] = response.json  # type: ignore[assignment]
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError("the export did not finish in 60 s")


def download(client: FlaskClient, job_id: str, mimetype: str, filename: str) -> bytes:
    with client.get(f"/reports/jobs/{job_id}/download") as response:
        assert response.status_code == 200
        assert response.mimetype == mimetype
        assert response.headers["Content-Disposition"] == f"attachment; filename={filename}"
        return response.get_data()


def test_an_auditor_exports_each_format_and_downloads_the_real_file(
    live: tuple[Flask, str],
) -> None:
    app, lot_id = live
    client = app.test_client()
    token = log_in(client, "auditor")

    job_id = start(client, token, scope="org", org="cecomip", fmt="json", until="2030-12-31")
    status = finished(client, job_id)
    assert status["state"] == "done" and status["error"] is None
    assert status["done"] == status["total"] > 0
    page = client.get(f"/reports?job={job_id}").get_data(as_text=True)
    name = "goldtrace-org-cecomip-until-2030-12-31.json"
    assert "The report is ready." in page and f'href="/reports/jobs/{job_id}/download"' in page
    assert f'<progress id="export-progress" max="{status["total"]}" value="{status["total"]}">' in (
        page
    )
    report = json.loads(download(client, job_id, "application/json", name))
    assert report["scope"] == {"kind": "org", "key": "cecomip", "from": None, "until": "2030-12-31"}
    assert report["reconciles"] is True and report["checkpoint"]
    assert {b["org"] for b in report["mass_balance_fine_mg"]} >= {"cecomip"}

    job_id = start(client, token, scope="ledger", fmt="csv")
    assert finished(client, job_id)["state"] == "done"
    archive = zipfile.ZipFile(
        io.BytesIO(download(client, job_id, "application/zip", "goldtrace-ledger.zip"))
    )
    assert {"organizations.csv", "mass_balance_fine_mg.csv", "bar_weight_list.csv"} <= set(
        archive.namelist()
    )
    assert b"cecomip" in archive.read("organizations.csv")

    job_id = start(client, token, scope="lot", lot=lot_id, fmt="epcis")
    assert finished(client, job_id)["state"] == "done"
    document = json.loads(
        download(client, job_id, "application/ld+json", f"goldtrace-lot-{lot_id}.jsonld")
    )
    assert document["type"] == "EPCISDocument"
    events = document["epcisBody"]["eventList"]
    assert len(events) == 3  # registered, shipped, received
    assert all(lot_id in json.dumps(event) for event in events)

    job_id = start(client, token, scope="org", org="oro-puno", fmt="pdf")
    assert finished(client, job_id)["state"] == "done"
    pdf = download(client, job_id, "application/pdf", "goldtrace-org-oro-puno.pdf")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")

    listing = client.get("/reports").get_data(as_text=True)
    assert listing.count('/download" download=') == 4


def test_a_member_exports_its_own_organization_and_nobody_else_sees_it(
    live: tuple[Flask, str], export_dir: Path
) -> None:
    app, _lot_id = live
    member = app.test_client()
    token = log_in(member, "mine_admin")
    job_id = start(member, token, scope="org", org="cecomip", fmt="csv", start="2020-01-01")
    assert finished(member, job_id)["state"] == "done"
    name = "goldtrace-org-cecomip-from-2020-01-01.zip"
    archive = zipfile.ZipFile(io.BytesIO(download(member, job_id, "application/zip", name)))
    assert b"cecomip" in archive.read("mass_balance_fine_mg.csv")

    for who in ("mine_operator", "auditor"):
        other = app.test_client()
        log_in(other, who)
        assert other.get(f"/reports/jobs/{job_id}").status_code == 403, who
        assert other.get(f"/reports/jobs/{job_id}/download").status_code == 403, who
        assert other.get(f"/reports?job={job_id}").status_code == 403, who
        assert job_id not in other.get("/reports").get_data(as_text=True), who


def test_a_forgotten_export_takes_its_file_with_it(
    live: tuple[Flask, str], export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _lot_id = live
    client = app.test_client()
    token = log_in(client, "standard_body")
    old = start(client, token, scope="ledger", fmt="json")
    assert finished(client, old)["state"] == "done"
    assert len(list(export_dir.iterdir())) == 1
    monkeypatch.setattr(jobs, "KEEP_FINISHED_SECONDS", 0.0)
    new = start(client, token, scope="ledger", fmt="epcis")
    assert client.get(f"/reports/jobs/{old}").status_code == 404
    assert client.get(f"/reports/jobs/{old}/download").status_code == 404
    assert finished(client, new)["state"] == "done"
    [remaining] = export_dir.iterdir()
    assert [p.name for p in remaining.iterdir()] == ["goldtrace-ledger.jsonld"]
