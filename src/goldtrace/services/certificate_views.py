"""The public view of a certificate, cached per process and keyed by the ledger state it depends on.

Building the view (``certificates.public_view``) assembles the whole proof bundle and verifies it:
one Ed25519 verification, one inclusion proof and a few queries per event of the piece's ancestry.
The public page ``/v/<id>`` and ``GET /api/v1/certificates/<id>`` are what a QR code leads to, so they
are read far more often than the ledger changes. The view is therefore cached, keyed by the
certificate id and a ``LedgerVersion``:

- every fact the view shows comes from the ledger, and every change of it is an event: the
  revocation of the certificate, the void of an ancestor (``voided`` rows are written with the void
  event), a key rotation or revocation. Each event grows the log, so the **log size** changes with it;
  certificate rows, organization names and lots change only together with an event;
- the checkpoint the bundle is proved against is the latest one, and checkpoints are cut without a new
  event (``goldtrace checkpoint``), so the **latest checkpoint size** is in the key;
- witnesses add cosignatures to the latest checkpoint at any time; they are only ever added, one per
  witness, so their **count** on that checkpoint is in the key.

All three are read with one statement (a primary-key row, a ``max`` on a primary key and an indexed
count), which costs far less than one signature check. A finer key, "the latest event touching this
certificate's ancestry", would be correct too and would survive unrelated appends, but finding it
means walking the ancestry, which is most of the cost being saved; on a ledger that appends a few
events a second, the coarse key still serves nearly every request from the cache.

The key is read *before* the view is built: under READ COMMITTED an event committed meanwhile can
only make a view newer than its key (harmless; the next request misses and rebuilds), never older.

The cache is a small LRU per process (each gunicorn worker has its own; nothing is shared, so nothing
needs invalidating across processes: a worker sees a new event through the key on its next request).
Cached views are shared between requests and must be treated as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Checkpoint, Cosignature, LogHead
from goldtrace.services import certificates
from goldtrace.services.context import Context

DEFAULT_CAPACITY = 256


@dataclass(frozen=True)
class LedgerVersion:
    """What a certificate's public view can change with: log size, latest checkpoint, its cosignatures."""

    log_size: int
    checkpoint_size: int
    cosignatures: int


def ledger_version(session: Session) -> LedgerVersion:
    """Return the ledger's current version, in one statement."""
    latest = select(func.coalesce(func.max(Checkpoint.size), -1)).scalar_subquery()
    row = session.execute(
        select(
            select(LogHead.size).where(LogHead.id == 1).scalar_subquery(),
            latest,
            select(func.count())
            .select_from(Cosignature)
            .where(Cosignature.checkpoint_size == latest)
            .scalar_subquery(),
        )
    ).one()
    return LedgerVersion(int(row[0] or 0), int(row[1]), int(row[2]))


ViewKey = tuple[str, LedgerVersion]


@dataclass(frozen=True)
class CacheInfo:
    """Hits, misses, entries held and the most entries held."""

    hits: int
    misses: int
    size: int
    capacity: int


class ViewCache:
    """A thread-safe LRU of built views (gunicorn threads share one per worker process)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._views: OrderedDict[ViewKey, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get(self, key: ViewKey) -> dict[str, Any] | None:
        """Return the view cached under ``key`` (now the most recently used), or None."""
        with self._lock:
            view = self._views.get(key)
            if view is None:
                self._misses += 1
                return None
            self._views.move_to_end(key)
            self._hits += 1
            return view

    def put(self, key: ViewKey, view: dict[str, Any]) -> dict[str, Any]:
        """Keep ``view`` under ``key``, dropping the least recently used beyond capacity; return it.

        Two threads that missed at once both build and put; the views are equal, either may stay.
        """
        with self._lock:
            self._views[key] = view
            self._views.move_to_end(key)
            while len(self._views) > self.capacity:
                self._views.popitem(last=False)
        return view

    def info(self) -> CacheInfo:
        """Return the counters (for tests and the benchmark)."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._views), self.capacity)


def view_key(session: Session, cert_id: str) -> ViewKey:
    """The cache key of a certificate's view: its id and the ledger's version now."""
    return cert_id, ledger_version(session)


def public_view(session: Session, ctx: Context, cache: ViewCache, cert_id: str) -> dict[str, Any]:
    """``certificates.public_view``, from ``cache`` when the ledger has not changed since it was built.

    Raises NotFound for an unknown certificate (never cached)."""
    key = view_key(session, cert_id)
    view = cache.get(key)
    if view is None:
        view = cache.put(key, certificates.public_view(session, ctx, cert_id))
    return view
