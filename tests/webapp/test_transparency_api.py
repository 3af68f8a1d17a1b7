"""The public transparency endpoints, checked with the independent verifiers of the ledger package."""

from __future__ import annotations

import base64
import hashlib

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import ledger_with_events
from goldtrace.ledger import merkle, note
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.services import transparency
from goldtrace.services.context import Context


@pytest.fixture
def published(ledger: Session, ctx: Context) -> Session:
    ledger_with_events(ledger, ctx, 23)
    transparency.cut_checkpoint(ledger, ctx)
    return ledger


def fetch_leaves(client: FlaskClient, start: int, end: int) -> list[bytes]:
    response = client.get(f"/api/v1/log/entries?start={start}&end={end}")
    assert response.status_code == 200
    entries = response.get_json()["entries"]
    assert [e["seq"] for e in entries] == list(range(start, min(end, 23)))
    return [base64.b64decode(e["leaf"]) for e in entries]


def test_a_client_can_check_everything_from_the_public_endpoints(
    published: Session, client: FlaskClient, ctx: Context
) -> None:
    vkey = client.get("/api/v1/log/key").get_data(as_text=True).strip()
    verifier = note.Verifier.parse(vkey)
    response = client.get("/api/v1/log/checkpoint")
    assert response.mimetype == "text/plain"
    checkpoint, _ = note.open_checkpoint(
        response.get_data(as_text=True), verifier, origin=ctx.origin
    )
    assert checkpoint.size == 23
    leaves = fetch_leaves(client, 0, 10) + fetch_leaves(client, 10, 100)
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    assert merkle.root(hashes) == checkpoint.root
    for seq in (0, 7, 22):
        proof = client.get(f"/api/v1/log/proof/inclusion?seq={seq}&size=23").get_json()
        path = [bytes.fromhex(h) for h in proof["hashes"]]
        merkle.verify_inclusion(hashes[seq], seq, 23, path, checkpoint.root)
    proof = client.get("/api/v1/log/proof/consistency?first=9&second=23").get_json()
    merkle.verify_consistency(
        9, 23, merkle.root(hashes[:9]), checkpoint.root, [bytes.fromhex(h) for h in proof["hashes"]]
    )


def test_event_endpoint_returns_the_stored_bytes_that_the_leaf_commits_to(
    published: Session, client: FlaskClient
) -> None:
    data = client.get("/api/v1/events/5").get_json()
    body = data["body"].encode("utf-8")
    assert hashlib.sha256(body).hexdigest() == data["hash"]
    leaf = LeafEnvelope.from_bytes(base64.b64decode(data["leaf"]))
    assert leaf.event_hash.hex() == data["hash"]
    assert leaf.seq == 5


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/log/entries",
        "/api/v1/log/entries?start=-1",
        "/api/v1/log/entries?start=abc",
        "/api/v1/log/entries?start=5&end=5",
        "/api/v1/log/entries?start=0&end=1001",
        "/api/v1/log/entries?start=99999999999999999999999",
        "/api/v1/log/proof/inclusion",
        "/api/v1/log/proof/inclusion?seq=23&size=23",
        "/api/v1/log/proof/inclusion?seq=0&size=24",
        "/api/v1/log/proof/inclusion?seq=1.5",
        "/api/v1/log/proof/consistency?first=0&second=3",
        "/api/v1/log/proof/consistency?first=5&second=3",
        "/api/v1/log/proof/consistency?first=1&second=24",
        "/api/v1/log/proof/consistency?first=%00",
    ],
)
def test_malformed_or_out_of_range_parameters_get_a_400_json_error(
    published: Session, client: FlaskClient, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]


def test_unknown_event_is_404(published: Session, client: FlaskClient) -> None:
    response = client.get("/api/v1/events/4000")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "unknown_event"


def test_no_checkpoint_yet_is_404(ledger: Session, client: FlaskClient) -> None:
    assert client.get("/api/v1/log/checkpoint").status_code == 404


def test_the_last_thousand_entries_page_is_the_limit(
    published: Session, client: FlaskClient
) -> None:
    response = client.get("/api/v1/log/entries?start=20&end=1020")
    assert response.status_code == 200
    assert len(response.get_json()["entries"]) == 3


def test_home_page_shows_the_ledger_and_its_checkpoint(
    published: Session, client: FlaskClient
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Registro público" in page
    assert "goldtrace.test/log\n23\n" in page
