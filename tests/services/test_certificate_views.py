"""The cached public view of a certificate: served from the cache while the ledger stands still, and
rebuilt at once when an event, a checkpoint or a cosignature could change it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from builders import Chain, certified_chain, register
from certificate_builders import make_piece
from goldtrace.errors import NotFound
from goldtrace.ledger import note
from goldtrace.services import certificate_views, certificates, lots, transparency, witnesses
from goldtrace.services.certificate_views import ViewCache
from goldtrace.services.context import Context


@dataclass(frozen=True)
class Issued:
    chain: Chain
    ring: str
    cert_id: str


@pytest.fixture
def issued(ledger: Session, ctx: Context) -> Issued:
    chain = certified_chain(ledger, ctx)
    ring = make_piece(ledger, ctx, chain)
    row = certificates.issue(ledger, ctx, actor=chain.jeweler, lot_id=ring)
    return Issued(chain, ring, row.id)


def test_the_second_view_comes_from_the_cache(
    ledger: Session, ctx: Context, issued: Issued
) -> None:
    cache = ViewCache()
    first = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    second = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    assert second is first
    assert first == certificates.public_view(ledger, ctx, issued.cert_id)
    info = cache.info()
    assert (info.hits, info.misses, info.size) == (1, 1, 1)


def test_a_revocation_shows_at_once(ledger: Session, ctx: Context, issued: Issued) -> None:
    cache = ViewCache()
    assert certificate_views.public_view(ledger, ctx, cache, issued.cert_id)["verdict"] == "valid"
    certificates.revoke(
        ledger, ctx, actor=issued.chain.jeweler, cert_id=issued.cert_id, reason="melted down"
    )
    view = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    assert view["verdict"] == "revoked" and view["reasons"] == ["melted down"]
    assert cache.info().misses == 2


def test_a_void_of_an_ancestor_shows_at_once(ledger: Session, ctx: Context, issued: Issued) -> None:
    cache = ViewCache()
    before = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    manufacture = lots.get_lot(ledger, issued.ring).created_seq
    assert manufacture in [e["seq"] for e in before["journey"]]
    lots.void_event(
        ledger, ctx, actor=issued.chain.jeweler, seq=manufacture, reason="wrong alloy recorded"
    )
    after = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    # Voiding the manufacture voided the ring itself, which ends its certificate.
    assert after["verdict"] == "lot_voided"
    assert "wrong alloy recorded" in after["reasons"][0]
    assert manufacture not in [e["seq"] for e in after["journey"]]


def test_a_new_checkpoint_and_a_cosignature_show_at_once(
    ledger: Session, ctx: Context, issued: Issued
) -> None:
    cache = ViewCache()
    anchored = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    register(ledger, ctx, issued.chain.mine)  # an unrelated event: the log grows, no checkpoint
    grown = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    assert grown["proof"]["checkpoint_size"] == anchored["proof"]["checkpoint_size"]
    assert cache.info().misses == 2
    latest = transparency.cut_checkpoint(ledger, ctx)
    checkpointed = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    assert (
        checkpointed["proof"]["checkpoint_size"] == latest.size > grown["proof"]["checkpoint_size"]
    )
    assert checkpointed["proof"]["cosignatures"] == 0

    witness = note.Signer(
        "witness.test/w1", Ed25519PrivateKey.generate(), note.SIG_TYPE_COSIGNATURE
    )
    witnesses.register_witness(ledger, witness.verifier.vkey())
    witnesses.add_cosignature(ledger, witness.cosign(note.parse_note(latest.note).text, 1768478460))
    cosigned = certificate_views.public_view(ledger, ctx, cache, issued.cert_id)
    assert cosigned["proof"]["cosignatures"] == 1
    assert cosigned["proof"]["witnesses"] == [{"name": "witness.test/w1", "status": "verified"}]
    assert cosigned["verdict"] == "valid"
    assert cache.info().misses == 4


def test_an_unknown_certificate_is_not_cached(ledger: Session, ctx: Context) -> None:
    cache = ViewCache()
    with pytest.raises(NotFound):
        certificate_views.public_view(ledger, ctx, cache, "GTC-NONE-XXXX")
    assert cache.info().size == 0


def test_the_cache_keeps_the_most_recently_used_views() -> None:
    cache = ViewCache(capacity=2)
    version = certificate_views.LedgerVersion(10, 10, 0)
    for name in ("a", "b", "a", "c"):
        if cache.get((name, version)) is None:
            cache.put((name, version), {"id": name})
    assert cache.get(("a", version)) == {"id": "a"}
    assert cache.get(("b", version)) is None  # the least recently used went when c came
    assert cache.get(("c", version)) == {"id": "c"}
    info = cache.info()
    assert (info.hits, info.misses, info.size) == (3, 4, 2)


def test_the_ledger_version(ledger: Session, ctx: Context) -> None:
    head = transparency.head(ledger)
    latest = transparency.latest_checkpoint(ledger)
    version = certificate_views.ledger_version(ledger)
    assert version.log_size == head.size
    assert version.checkpoint_size == (latest.size if latest is not None else -1)
    assert version.cosignatures == 0
