"""`goldtrace audit`: check a remote goldtrace through its public transparency endpoints only.

The auditor fetches the log key, the latest checkpoint, and the log 1000 entries at a time: the leaves
(``/log/entries``) and the stored events (``/events?start=&end=``), the next page downloading while
this one is checked. It rebuilds the stored rows, runs them through the same ``LedgerVerifier`` as
``goldtrace verify`` (signatures in worker processes) with the public replay (``Book()``, which checks
sale-term commitments but not prices), and checks the checkpoint's signature and root. With a state
file it also pins the log key and proves the served log an extension of the one seen last: a smaller
checkpoint or fewer entries is a truncation, a different root at the old size is a fork, and the
server's consistency proof must verify. No database is needed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goldtrace.domain.book import Book
from goldtrace.domain.registration import MAX_AGE_DAYS
from goldtrace.errors import GoldtraceError
from goldtrace.ledger import merkle, note
from goldtrace.ledger.envelope import LeafEnvelope
from goldtrace.ledger.verifier import Fault, LedgerVerifier, StoredCheckpoint, StoredEvent

TIMEOUT = 30.0
PAGE = 1000
MAX_REPORTED_FAULTS = 50


class RemoteError(GoldtraceError):
    """The remote server could not be reached or answered something unusable."""

    code = "remote_error"


def fetch(base_url: str, path: str, params: dict[str, int] | None = None) -> bytes:
    """GET ``base_url + path`` and return the body; RemoteError on any network or HTTP failure."""
    url = base_url.rstrip("/") + path
    if params:
        url += "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp:  # noqa: S310 (http(s) only)
            body: bytes = resp.read()
            return body
    except urllib.error.HTTPError as exc:
        detail = exc.read(500).decode("utf-8", "replace").strip()
        raise RemoteError(f"GET {url}: HTTP {exc.code} {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RemoteError(f"GET {url}: {reason}") from exc


def fetch_json(base_url: str, path: str, params: dict[str, int] | None = None) -> Any:
    """GET and decode JSON; RemoteError if the body is not JSON."""
    raw = fetch(base_url, path, params)
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise RemoteError(f"GET {path}: the answer is not JSON") from exc


def check_url(base_url: str) -> str:
    """Return the base URL if it is http(s); RemoteError otherwise."""
    if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
        raise RemoteError(f"not an http(s) URL: {base_url!r}")
    return base_url.rstrip("/")


@dataclass(frozen=True)
class State:
    """What an auditor or witness saw last: the log's origin and key, and a checkpoint's size and root."""

    origin: str
    vkey: str
    size: int
    root: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "vkey": self.vkey,
            "size": self.size,
            "root": self.root.hex(),
        }


def load_state(path: Path) -> State | None:
    """Return the state in ``path``, None if the file does not exist; RemoteError if unreadable."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return State(
            origin=str(data["origin"]),
            vkey=str(data["vkey"]),
            size=int(data["size"]),
            root=bytes.fromhex(data["root"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RemoteError(f"state file {path} is not a goldtrace state: {exc}") from exc


def save_state(path: Path, state: State, extra: dict[str, Any] | None = None) -> None:
    """Write the state atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({**state.as_json(), **(extra or {})}, indent=2) + "\n", "utf-8")
    os.replace(tmp, path)


@dataclass
class AuditReport:
    """What the audit checked and found."""

    url: str
    origin: str = ""
    vkey: str = ""
    log_size: int = 0
    checkpoint_size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    signatures: int = 0
    previous_size: int | None = None
    state_written: bool = False
    faults: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def first(self) -> Fault | None:
        return min(self.faults) if self.faults else None

    def as_json(self) -> dict[str, Any]:
        first = self.first
        return {
            "ok": self.ok,
            "url": self.url,
            "origin": self.origin,
            "vkey": self.vkey,
            "log_size": self.log_size,
            "checkpoint_size": self.checkpoint_size,
            "root": self.root.hex(),
            "signatures_checked": self.signatures,
            "previous_size": self.previous_size,
            "state_written": self.state_written,
            "first_bad_seq": first.seq if first else None,
            "faults": [
                {"seq": f.seq, "code": f.code, "message": f.message}
                for f in sorted(self.faults)[:MAX_REPORTED_FAULTS]
            ],
        }


@dataclass(frozen=True)
class Page:
    """Leaves and events ``start <= seq < start + PAGE`` as the server sent them."""

    start: int
    leaves: list[tuple[int, bytes]]
    events: dict[int, dict[str, Any]]


def _fetch_page(base_url: str, start: int) -> Page:
    params = {"start": start, "end": start + PAGE}
    page = fetch_json(base_url, "/api/v1/log/entries", params)
    try:
        leaves = [
            (int(e["seq"]), base64.b64decode(e["leaf"], validate=True)) for e in page["entries"]
        ]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise RemoteError(f"/log/entries?start={start} is malformed: {exc}") from exc
    items = fetch_json(base_url, "/api/v1/events", params)
    try:
        events = {int(item["seq"]): item for item in items["events"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise RemoteError(f"/events?start={start} is malformed: {exc}") from exc
    return Page(start, leaves, events)


def pages(base_url: str) -> Iterator[Page]:
    """Yield the served log (leaves and events) page by page until a short page; the next page
    downloads meanwhile. Raises RemoteError on a network failure or a malformed page."""
    with ThreadPoolExecutor(1, thread_name_prefix="audit-fetch") as pool:
        upcoming = pool.submit(_fetch_page, base_url, 0)
        while True:
            page = upcoming.result()
            full = len(page.leaves) == PAGE
            if full:
                upcoming = pool.submit(_fetch_page, base_url, page.start + PAGE)
            yield page
            if not full:
                return


def _event_row(seq: int, leaf: bytes, data: dict[str, Any], report: AuditReport) -> StoredEvent:
    """Rebuild the stored row from an ``/events`` item; oddities become faults (the verifier
    then reports whatever else is wrong with the row)."""
    logged_at = ""
    try:
        logged_at = LeafEnvelope.from_bytes(leaf).time
    except GoldtraceError as exc:
        report.faults.append(Fault(seq, "bad_leaf", f"the leaf is not an envelope: {exc.message}"))
    try:
        body_text = data["body"]
        event_hash = bytes.fromhex(data["hash"])
        sig = base64.b64decode(data["sig"], validate=True)
        kid = str(data["kid"])
        served_leaf = base64.b64decode(data["leaf"], validate=True)
        if not isinstance(body_text, str):
            raise ValueError("the body is not a string")
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise RemoteError(f"/events item {seq} is malformed: {exc}") from exc
    if served_leaf != leaf:
        report.faults.append(
            Fault(seq, "leaf_mismatch", "/events and /log/entries serve different leaves")
        )
    body = body_text.encode("utf-8")
    columns: dict[str, Any] = {}
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            columns = parsed
    except ValueError:
        pass  # the verifier reports the body
    return StoredEvent(
        seq=seq,
        hash=event_hash,
        type=str(columns.get("type", "")),
        actor=str(columns.get("actor", "")),
        occurred_at=str(columns.get("occurred_at", "")),
        body=body,
        kid=kid,
        sig=sig,
        leaf=leaf,
        logged_at=logged_at,
    )


def audit(
    base_url: str,
    state_path: Path | str | None = None,
    *,
    workers: int | None = None,
    max_age_days: int = MAX_AGE_DAYS,
) -> AuditReport:
    """Mirror and check the remote log; write the new state when everything verifies.

    ``workers`` is the number of signature-checking processes (default: the cores);
    ``max_age_days`` the registration delay the ledger was written under. Raises
    RemoteError when the server cannot be reached or answers malformed data; every verification
    failure is a fault in the report instead.
    """
    base_url = check_url(base_url)
    report = AuditReport(url=base_url)
    path = Path(state_path) if state_path is not None else None
    previous = load_state(path) if path is not None else None

    served_vkey = fetch(base_url, "/api/v1/log/key").decode("utf-8", "replace").strip()
    try:
        served = note.Verifier.parse(served_vkey)
    except GoldtraceError as exc:
        raise RemoteError(f"the served log key is malformed: {exc.message}") from exc
    trusted = served
    if previous is not None:
        report.previous_size = previous.size
        trusted = note.Verifier.parse(previous.vkey)
        if served_vkey != previous.vkey:
            report.faults.append(
                Fault(0, "log_key_changed", f"the log key changed from the pinned {previous.vkey}")
            )
    origin = trusted.name
    report.origin, report.vkey = origin, trusted.vkey()

    note_text = fetch(base_url, "/api/v1/log/checkpoint").decode("utf-8", "replace")
    try:
        unverified = note.parse_checkpoint(note.parse_note(note_text).text)
    except GoldtraceError as exc:
        report.faults.append(Fault(0, "bad_checkpoint", f"malformed checkpoint: {exc.message}"))
        return report
    size, signed_root = unverified.size, unverified.root
    report.checkpoint_size = size

    rules = Book(max_age_days=max_age_days)
    verifier = LedgerVerifier(origin=origin, rules=rules, expected_size=size, workers=workers)
    verifier.want_root_at([size])
    frontier: list[bytes] = []
    count = 0
    # The root of the mirrored leaves at the size seen last: a fork shows here without any proof.
    root_at_previous = merkle.EMPTY_ROOT if previous is not None and previous.size == 0 else None
    for page in pages(base_url):
        events: list[StoredEvent] = []
        nodes: dict[merkle.NodeKey, bytes] = {}
        complete = True
        for seq, leaf in page.leaves:
            if seq != count:
                report.faults.append(
                    Fault(count, "gap", f"entry {count} is missing (the server sent {seq})")
                )
                complete = False
                break
            item = page.events.get(seq)
            if item is None:
                report.faults.append(
                    Fault(seq, "missing_event", f"the log has entry {seq} but /events has no event")
                )
                complete = False
                break
            # The remote's subtree hashes are not published: the tree is recomputed from the leaves.
            frontier, finished = merkle.append(frontier, count, merkle.leaf_hash(leaf))
            nodes.update(finished)
            events.append(_event_row(seq, leaf, item, report))
            count += 1
            if previous is not None and count == previous.size:
                root_at_previous = merkle.frontier_root(frontier)
        verifier.feed(events, nodes)
        if not complete:
            break
    root = merkle.frontier_root(frontier)
    result = verifier.finish(
        head_size=count,
        head_root=root,
        head_frontier=frontier,
        node_count=2 * count - count.bit_count(),
        checkpoints=[StoredCheckpoint(size=size, root=signed_root, note=note_text)],
        log_verifier=trusted,
    )
    report.faults.extend(result.faults)
    report.log_size, report.root, report.signatures = count, root, result.signatures

    if previous is not None:
        _check_extends(previous, count, root_at_previous, report)
        _check_consistency(base_url, previous, size, signed_root, report)
    if report.ok and path is not None:
        save_state(path, State(origin=origin, vkey=report.vkey, size=size, root=signed_root))
        report.state_written = True
    return report


def _check_extends(
    previous: State, count: int, root_at_previous: bytes | None, report: AuditReport
) -> None:
    """The mirrored leaves must include the log seen last, unchanged."""
    if count < previous.size:
        report.faults.append(
            Fault(
                count,
                "truncated",
                f"the log was truncated: the server serves {count} entries, fewer than the "
                f"{previous.size} of the checkpoint this auditor saw last",
            )
        )
    elif root_at_previous is not None and root_at_previous != previous.root:
        report.faults.append(
            Fault(
                max(previous.size - 1, 0),
                "forked",
                f"the log is not consistent with the state: its first {previous.size} entries "
                f"hash to root {root_at_previous.hex()}, not the root {previous.root.hex()} "
                f"of the checkpoint of size {previous.size} this auditor saw last",
            )
        )


def _check_consistency(
    base_url: str, previous: State, size: int, root: bytes, report: AuditReport
) -> None:
    """The new checkpoint must extend the previous one: a consistency proof from the server."""
    at = max(previous.size - 1, 0)
    if size < previous.size:
        report.faults.append(
            Fault(
                size,
                "rolled_back",
                f"the log was truncated: the served checkpoint has size {size}, below the size "
                f"{previous.size} of the checkpoint this auditor saw last",
            )
        )
        return
    if size == previous.size and root != previous.root:
        report.faults.append(
            Fault(
                at,
                "inconsistent",
                f"the log is not consistent with the state: the served checkpoint of size {size} "
                f"has root {root.hex()}, the one this auditor saw at that size {previous.root.hex()}",
            )
        )
        return
    proof: list[bytes] = []
    if 0 < previous.size < size:
        data = fetch_json(
            base_url, "/api/v1/log/proof/consistency", {"first": previous.size, "second": size}
        )
        try:
            proof = [bytes.fromhex(h) for h in data["hashes"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteError(f"the consistency proof is malformed: {exc}") from exc
    try:
        merkle.verify_consistency(previous.size, size, previous.root, root, proof)
    except GoldtraceError as exc:
        report.faults.append(
            Fault(
                at,
                "inconsistent",
                f"the log is not consistent with the state: the consistency proof from size "
                f"{previous.size} (seen last) to the served checkpoint of size {size} fails: "
                f"{exc.message}",
            )
        )
