"""``GET /api/v1/events?start=&end=``: the stored events by range, exactly as the single-event endpoint
serves each of them."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from builders import ledger_with_events
from goldtrace.db.models import Event
from goldtrace.services import transparency
from goldtrace.services.context import Context

SIZE = 23


@pytest.fixture
def published(ledger: Session, ctx: Context) -> Session:
    ledger_with_events(ledger, ctx, SIZE)
    transparency.cut_checkpoint(ledger, ctx)
    return ledger


def page(client: FlaskClient, query: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    events: list[dict[str, Any]] = response.get_json()["events"]
    return events


def test_each_item_is_what_the_single_event_endpoint_serves(
    published: Session, client: FlaskClient
) -> None:
    items = page(client, f"start=0&end={SIZE}")
    assert [item["seq"] for item in items] == list(range(SIZE))
    for item in items:
        single = client.get(f"/api/v1/events/{item['seq']}").get_json()
        assert item == single
        stored = published.get(Event, item["seq"])
        assert stored is not None
        assert item["body"].encode("utf-8") == stored.body, "the stored bytes, not re-serialised"
        assert hashlib.sha256(stored.body).hexdigest() == item["hash"]


@pytest.mark.parametrize(
    ("query", "seqs"),
    [
        ("start=0", range(SIZE)),  # end defaults to start + 1000
        ("start=5&end=9", range(5, 9)),
        ("start=22&end=23", [22]),
        ("start=20&end=1020", range(20, SIZE)),  # a full-width page past the end of the log
        (f"start={SIZE}", []),
        ("start=4000&end=4001", []),
    ],
)
def test_ranges_are_half_open_and_stop_at_the_end_of_the_log(
    published: Session, client: FlaskClient, query: str, seqs: range | list[int]
) -> None:
    assert [item["seq"] for item in page(client, query)] == list(seqs)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "end=5",
        "start=-1",
        "start=abc",
        "start=1.5",
        "start=%00",
        "start=5&end=5",
        "start=6&end=5",
        "start=0&end=1001",
        "start=10&end=x",
        "start=99999999999999999999999",
    ],
)
def test_bad_ranges_get_a_400_json_error(
    published: Session, client: FlaskClient, query: str
) -> None:
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and error["message"]
