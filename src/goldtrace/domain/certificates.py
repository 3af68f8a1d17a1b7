"""What keeps an issued certificate valid: one live certificate per lot, and a certificate lives only
as long as its lot (issue 14, laundering resistance).

A certificate vouches for one lot. If several could be live at once, one bar would back three
certificates; if a certificate outlived its lot, the gold of a melted bar would still be "certified"
while it is sold again as something else. So issuing needs the lot to have no unrevoked certificate,
and a certificate ends with the first of: its revocation, the transformation that consumed its lot, or
the void that voided its lot. Dispatching the lot to another organization ends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from goldtrace.errors import Conflict

STATES = ("valid", "revoked", "lot_consumed", "lot_voided")


def check_single_live(lot_id: str, live: str | None) -> None:
    """Refuse a certificate for ``lot_id`` while ``live`` (its unrevoked certificate, if any) stands."""
    if live is not None:
        raise Conflict(
            f"lot {lot_id} already has certificate {live}: revoke it before issuing another",
            code="lot_already_certified",
        )


@dataclass(frozen=True)
class Ending:
    """An event that ended a certificate's validity: its ``state`` afterwards (``revoked``,
    ``lot_consumed`` or ``lot_voided``), the event's seq, log time and actor; the reason of a
    revocation or void, the kind of the transformation that consumed the lot, the seq a void voided."""

    state: str
    seq: int
    at: str
    by: str
    reason: str | None = None
    kind: str | None = None
    target: int | None = None


def status(endings: Iterable[Ending | None], *, revoked: bool) -> dict[str, Any]:
    """The status of a certificate whose validity ``endings`` may have ended: ``valid``, or the
    earliest ending (the moment it stopped being valid) with its seq, time and reason.

    ``revoked`` says whether a revocation exists at all, also when an earlier end of the lot decides
    the state (an issuer may revoke a certificate of a melted piece to tidy up)."""
    found = sorted((e for e in endings if e is not None), key=lambda e: e.seq)
    if not found:
        return {"state": "valid", "valid": True, "revoked": False}
    first = found[0]
    out: dict[str, Any] = {
        "state": first.state,
        "valid": False,
        "revoked": revoked,
        "seq": first.seq,
        "at": first.at,
        "by": first.by,
    }
    for name in ("reason", "kind", "target"):
        value = getattr(first, name)
        if value is not None:
            out[name] = value
    return out
