"""GS1 EPCIS 2.0 JSON-LD export of the lot events, streamed in pages so memory stays bounded.

Mapping (issue 7): ``lot.register`` -> ObjectEvent ADD commissioning; ``lot.dispatch`` -> ObjectEvent
OBSERVE shipping with source and destination lists; ``lot.receive`` -> ObjectEvent OBSERVE receiving;
``lot.transform`` -> TransformationEvent with input and output quantity lists in grams (GRM);
``certificate.issue`` -> ObjectEvent OBSERVE inspecting with ``certificationInfo``; a voided event is
exported with an ``errorDeclaration`` (the ``event.void`` itself is not an EPCIS event). Other event
types (organizations, keys, register entries, premiums, assays) are master data or private and are not
exported. Every identifier is an HTTP(S) URI under the configured base URL; the ``eventID`` is the
CBV 2.0 event hash ``ni:///sha-256;<hex>?ver=CBV2.0``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TextIO
from urllib.parse import quote

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Event, LotEvent, Voided
from goldtrace.domain.instants import day_in_period, now_instant
from goldtrace.services.seq_windows import seq_windows

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CBV = "https://ref.gs1.org/cbv/"
EXPORTED_TYPES = (
    "lot.register",
    "lot.dispatch",
    "lot.receive",
    "lot.transform",
    "certificate.issue",
)
PAGE = 2000


@dataclass(frozen=True)
class Scope:
    """Which events an export covers: all, one organization's, or one lot family's; and a period."""

    org: str | None = None
    seqs: frozenset[int] | None = None
    start: date | None = None
    until: date | None = None

    def in_period(self, occurred_at: str) -> bool:
        """True when the day of an instant or date lies in the period."""
        return day_in_period(occurred_at, self.start, self.until)


# What ``quote(text, safe="")`` leaves as it is: RFC 3986 unreserved characters.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _segment(text: str) -> str:
    """``text`` percent-encoded as one path segment (lot ids need no encoding: skip the work)."""
    return text if _UNRESERVED(text) else quote(text, safe="")


class Identifiers:
    """The HTTP(S) URIs goldtrace mints for lots, organizations, events and certificates."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self._orgs: dict[str, str] = {}  # a few organizations name most events

    def lot(self, lot_id: str) -> str:
        """The URI of a lot (an EPC class: a quantity of gold, not a serialized item)."""
        return f"{self.base}/lots/{_segment(lot_id)}"

    def org(self, org_id: str) -> str:
        """The URI of an organization (party and location)."""
        uri = self._orgs.get(org_id)
        if uri is None:
            uri = self._orgs[org_id] = f"{self.base}/orgs/{_segment(org_id)}"
        return uri

    def event(self, seq: int) -> str:
        """The URI of a ledger event."""
        return f"{self.base}/api/v1/events/{seq}"

    def certificate(self, cert_id: str) -> str:
        """The URI of a certificate."""
        return f"{self.base}/certificates/{quote(cert_id, safe='')}"

    def transformation(self, kind: str) -> str:
        """goldtrace's own business step for a transformation kind (CBV has no refining step)."""
        return f"{self.base}/vocab/bizstep/{quote(kind, safe='')}"


def grams(mass_mg: int) -> int | float:
    """Milligrams as a JSON number of grams.

    EPCIS quantities are JSON numbers; masses are below 10^11 mg, i.e. at most 12 significant digits,
    so the shortest float representation is exactly the decimal value.
    """
    if mass_mg % 1000 == 0:
        return mass_mg // 1000
    # Integer true division rounds correctly: the float nearest to the exact decimal value.
    return mass_mg / 1000


def _quantity(ids: Identifiers, lot_id: str, mass_mg: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": ids.lot(lot_id)}
    if mass_mg is not None:
        element["quantity"] = grams(mass_mg)
        element["uom"] = "GRM"
    return element


def epcis_event(
    ids: Identifiers,
    *,
    seq: int,
    body: dict[str, Any],
    logged_at: str,
    before_mass: dict[str, int],
    voided_by: tuple[str, str] | None = None,
) -> dict[str, Any] | None:
    """Return the EPCIS event for one ledger event, or None for a type that is not exported.

    ``before_mass`` holds each touched lot's mass (mg) just before the event (for dispatches and
    transformation inputs); ``voided_by`` is (declaration instant, reason) when the event was voided.
    """
    kind = body.get("type")
    actor = str(body.get("actor"))
    here = {"id": ids.org(actor)}
    event: dict[str, Any]
    if kind == "lot.register":
        lot = body["lot"]
        event = {
            "type": "ObjectEvent",
            "quantityList": [_quantity(ids, str(lot["id"]), int(lot["mass_mg"]))],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
        }
    elif kind == "lot.dispatch":
        lot_id = str(body["lot"])
        event = {
            "type": "ObjectEvent",
            "quantityList": [_quantity(ids, lot_id, before_mass.get(lot_id))],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "sourceList": [{"type": "owning_party", "source": ids.org(actor)}],
            "destinationList": [{"type": "owning_party", "destination": ids.org(str(body["to"]))}],
        }
    elif kind == "lot.receive":
        event = {
            "type": "ObjectEvent",
            "quantityList": [_quantity(ids, str(body["lot"]), int(body["mass_mg"]))],
            "action": "OBSERVE",
            "bizStep": "receiving",
            "disposition": "in_progress",
        }
    elif kind == "lot.transform":
        inputs = [str(i) for i in body["inputs"]]
        event = {
            "type": "TransformationEvent",
            "inputQuantityList": [_quantity(ids, i, before_mass.get(i)) for i in inputs],
            "outputQuantityList": [
                _quantity(ids, str(o["id"]), int(o["mass_mg"])) for o in body["outputs"]
            ],
            "transformationID": ids.event(seq),
            "bizStep": ids.transformation(str(body["kind"])),
        }
    elif kind == "certificate.issue":
        event = {
            "type": "ObjectEvent",
            "certificationInfo": ids.certificate(str(body["certificate"])),
            "quantityList": [_quantity(ids, str(body["lot"]), None)],
            "action": "OBSERVE",
            "bizStep": "inspecting",
        }
    else:
        return None
    event["readPoint"] = here
    event["bizLocation"] = here
    full: dict[str, Any] = {
        "type": event.pop("type"),
        "eventTime": str(body["occurred_at"]),
        "recordTime": logged_at,
        "eventTimeZoneOffset": "+00:00",
        **event,
    }
    if voided_by is not None:
        full["errorDeclaration"] = {"declarationTime": voided_by[0], "reason": "incorrect_data"}
    full["eventID"] = event_hash(full)
    # eventID first reads best; JSON object order carries no meaning.
    return {"type": full.pop("type"), "eventID": full.pop("eventID"), **full}


# --- CBV 2.0 event hash -----------------------------------------------------------------------

_VOCAB_PREFIX = {
    "bizStep": "BizStep-",
    "disposition": "Disp-",
    "type": "SDT-",  # only source and destination types occur in what goldtrace writes
    "reason": "ER-",
}
_QUANTITY_ORDER = ("epcClass", "quantity", "uom")
# CBV 2.0 §8.9 canonical property order, restricted to the properties goldtrace writes; any other
# property would need the generic rules for extensions, so ``prehash`` refuses it.
_ORDER = (
    "eventTime",
    "eventTimeZoneOffset",
    "certificationInfo",
    "quantityList",
    "inputQuantityList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "sourceList",
    "destinationList",
)
_IGNORED = {"type", "eventID", "recordTime", "errorDeclaration"}
_KNOWN = frozenset(_ORDER) | _IGNORED
_EXACT_INT = 10**28  # the default decimal context's precision


def _vocab(name: str, value: str) -> str:
    """Bare CBV values become their GS1 Web Vocabulary URIs; URIs are kept as they are."""
    if ":" in value:
        return value
    return CBV + _VOCAB_PREFIX[name] + value


def _number(value: int | float) -> str:
    """Numbers without trailing zeros or a trailing '.0' (CBV 2.0 numeric normalisation)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a quantity")
    if type(value) is int and -_EXACT_INT < value < _EXACT_INT:
        return str(value)  # what the Decimal route gives for an integer within its precision
    return format(Decimal(repr(value)).normalize(), "f")


def _quantity_list(name: str, elements: list[dict[str, Any]]) -> str:
    parts = []
    for element in elements:
        text = "quantityElement"
        for key in _QUANTITY_ORDER:
            if key in element:
                value = element[key]
                text += f"{key}={_number(value) if key == 'quantity' else str(value).strip()}"
        parts.append(text)
    return name + "".join(sorted(parts))


def _source_dest_list(name: str, member: str, elements: list[dict[str, Any]]) -> str:
    # Type first, then the value; the list keeps the order of the document (CBV 2.0).
    return name + "".join(
        f"type={_vocab('type', str(e['type']))}{member}={str(e[member]).strip()}" for e in elements
    )


def prehash(event: dict[str, Any]) -> str:
    """Return the CBV 2.0 pre-hash string of an EPCIS event as ``epcis_event`` builds it.

    Raises ValueError for a property outside the subset goldtrace writes (extensions, EPC lists,
    sensor data), whose canonical form is not implemented here.
    """
    unknown = event.keys() - _KNOWN
    if unknown:
        raise ValueError(f"no canonical form implemented for {sorted(unknown)}")
    out = "eventType=" + str(event["type"])
    for name in _ORDER:
        if name not in event:
            continue
        value = event[name]
        if name in ("quantityList", "inputQuantityList", "outputQuantityList"):
            out += _quantity_list(name, value)
        elif name in ("readPoint", "bizLocation"):
            out += f"{name}id={str(value['id']).strip()}"
        elif name == "sourceList":
            out += _source_dest_list(name, "source", value)
        elif name == "destinationList":
            out += _source_dest_list(name, "destination", value)
        elif name == "certificationInfo":
            values = value if isinstance(value, list) else [value]
            out += "".join(sorted(f"{name}={str(v).strip()}" for v in values))
        elif name in _VOCAB_PREFIX:
            out += f"{name}={_vocab(name, str(value).strip())}"
        else:
            # eventTime is already UTC with milliseconds; the offset and IDs are kept as written.
            out += f"{name}={str(value).strip()}"
    return out


def event_hash(event: dict[str, Any]) -> str:
    """Return the CBV 2.0 event hash ``ni:///sha-256;<hex>?ver=CBV2.0`` of an EPCIS event."""
    digest = hashlib.sha256(prehash(event).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


# --- streaming --------------------------------------------------------------------------------


def _pages(session: Session, scope: Scope) -> Iterator[Sequence[Row[int, bytes, str, str]]]:
    """Pages of (seq, body, logged_at, type) of exportable events, in seq order."""
    query = select(Event.seq, Event.body, Event.logged_at, Event.type).where(
        Event.type.in_(EXPORTED_TYPES)
    )
    if scope.org is not None:
        # What ``_in_scope`` keeps: the organization's own events and the dispatches (whose body
        # alone names the recipient).
        query = query.where(or_(Event.actor == scope.org, Event.type == "lot.dispatch"))
    for first, last in seq_windows(session, PAGE):
        rows = session.execute(query.where(Event.seq.between(first, last)).order_by(Event.seq))
        page = rows.all()
        if page:
            yield page


def _in_scope(scope: Scope, seq: int, body: dict[str, Any]) -> bool:
    if scope.seqs is not None and seq not in scope.seqs:
        return False
    if not scope.in_period(str(body.get("occurred_at", ""))):
        return False
    if scope.org is None:
        return True
    return body.get("actor") == scope.org or body.get("to") == scope.org


# The events whose EPCIS form states a lot's mass before the event (the dispatched lot, the inputs).
_MASS_BEFORE = ("lot.dispatch", "lot.transform")


def _masses_before(
    session: Session, first: int, last: int, seqs: set[int]
) -> dict[int, dict[str, int]]:
    """The mass (mg) of each lot just before each event of ``seqs``, all between first and last.

    A range of seqs rather than a list of them: a 2,000-value IN list cost more to build, send
    and plan than the rows it selects (a third of the export's time on PostgreSQL).
    """
    masses: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(LotEvent.seq, LotEvent.lot_id, LotEvent.before).where(
            LotEvent.seq.between(first, last), LotEvent.before.is_not(None)
        )
    )
    for seq, lot_id, before in rows:
        if seq in seqs and before is not None:
            masses.setdefault(seq, {})[lot_id] = int(json.loads(before)["mass_mg"])
    return masses


def _voids(session: Session, first: int, last: int) -> dict[int, tuple[str, str]]:
    """(declaration instant, reason) of every voided event between first and last."""
    rows = session.execute(
        select(Voided.seq, Event.occurred_at, Voided.reason)
        .join(Event, Event.seq == Voided.void_seq)
        .where(Voided.seq.between(first, last))
    )
    return {seq: (occurred_at, reason) for seq, occurred_at, reason in rows}


def events(session: Session, base_url: str, scope: Scope) -> Iterator[dict[str, Any]]:
    """Yield the EPCIS events of ``scope`` in ledger order, reading the ledger page by page."""
    ids = Identifiers(base_url)
    for page in _pages(session, scope):
        chosen = []
        for seq, raw, logged_at, kind in page:
            body = json.loads(raw)
            if _in_scope(scope, seq, body):
                chosen.append((seq, body, logged_at, kind))
        if not chosen:
            continue
        first, last = chosen[0][0], chosen[-1][0]
        needs_mass = {seq for seq, _, _, kind in chosen if kind in _MASS_BEFORE}
        masses = _masses_before(session, first, last, needs_mass) if needs_mass else {}
        voids = _voids(session, first, last)
        for seq, body, logged_at, _kind in chosen:
            converted = epcis_event(
                ids,
                seq=seq,
                body=body,
                logged_at=logged_at,
                before_mass=masses.get(seq, {}),
                voided_by=voids.get(seq),
            )
            if converted is not None:
                yield converted


def write_document(
    session: Session,
    out: TextIO,
    *,
    base_url: str,
    scope: Scope,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write an EPCIS 2.0 JSON-LD document for ``scope`` to ``out``; return the number of events.

    The document is written event by event, so its size does not bound the memory used.
    ``progress`` receives the running count every ``PROGRESS_EVERY`` events and at the end.
    """
    header = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": now_instant(),
    }
    # One encoder for the whole document: json.dumps with arguments builds one per call.
    encode = json.JSONEncoder(ensure_ascii=False).encode
    head = encode(header)
    out.write(head[:-1] + ', "epcisBody": {"eventList": [')
    count = 0
    for event in events(session, base_url, scope):
        out.write(("\n" if count == 0 else ",\n") + encode(event))
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    out.write("\n]}}\n")
    if progress is not None:
        progress(count)
    return count


PROGRESS_EVERY = 1000


def seqs_touching(session: Session, lots: set[str]) -> set[int]:
    """Return the seqs of every event that touched one of ``lots`` (and certificates of them)."""
    found = set(
        session.execute(select(LotEvent.seq).where(LotEvent.lot_id.in_(sorted(lots)))).scalars()
    )
    for seq, body in session.execute(
        select(Event.seq, Event.body).where(Event.type == "certificate.issue")
    ):
        if json.loads(body).get("lot") in lots:
            found.add(seq)
    return found
