"""How long and how big each measurement is: the full run (``make bench``) and ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """How long and how big each measurement is."""

    window: float  # seconds of each timed window of single appends / raw inserts
    rounds: int  # baseline/figure alternations per comparison
    crypto_seconds: float
    writers: int
    verify_events: int
    batch: int
    chunk: int  # events appended between two chunks of the raw batched baseline
    orgs: int
    proof_entries: int
    proof_samples: int
    proof_budget: float  # seconds of proofs of each kind per database at most
    cycle_window: float  # seconds of each timed window of API / service cycles and single appends
    provenance_events: int  # size of the ledger the two 100-ancestor pieces are made in
    provenance_samples: int
    provenance_budget: float  # seconds of provenance queries of each kind per piece and database
    bundle_samples: int  # verify_bundle calls (bundle section)
    page_window: float  # seconds of each window of load on the page and the static file
    export_events: int  # size of the ledger one organization's report covers (exports section)
    audit_events: int  # size of the ledger the audit section serves and audits

    def scaled(self, factor: float) -> Sizes:
        """Return these sizes with the ledger and the log ``factor`` times bigger."""
        return Sizes(
            window=self.window,
            rounds=self.rounds,
            crypto_seconds=self.crypto_seconds,
            writers=self.writers,
            verify_events=max(1000, int(self.verify_events * factor)),
            batch=self.batch,
            chunk=self.chunk,
            orgs=self.orgs,
            proof_entries=max(1000, int(self.proof_entries * factor)),
            proof_samples=self.proof_samples,
            proof_budget=self.proof_budget,
            cycle_window=self.cycle_window,
            provenance_events=max(1000, int(self.provenance_events * factor)),
            provenance_samples=self.provenance_samples,
            provenance_budget=self.provenance_budget,
            bundle_samples=self.bundle_samples,
            page_window=self.page_window,
            export_events=max(1000, int(self.export_events * factor)),
            audit_events=max(1000, int(self.audit_events * factor)),
        )


FULL = Sizes(
    window=3.0,
    rounds=3,
    crypto_seconds=1.0,
    writers=8,
    verify_events=50_000,
    batch=1000,
    chunk=10_000,
    orgs=16,
    proof_entries=1_000_000,
    proof_samples=500,
    proof_budget=20.0,
    cycle_window=3.0,
    provenance_events=100_000,
    provenance_samples=100,
    provenance_budget=5.0,
    bundle_samples=200,
    page_window=3.5,
    export_events=100_000,
    audit_events=100_000,
)
# Big enough that verification still uses its worker pool (verifier.PARALLEL_THRESHOLD is 4096).
QUICK = Sizes(
    window=1.0,
    rounds=1,
    crypto_seconds=0.3,
    writers=8,
    verify_events=5_000,
    batch=1000,
    chunk=5_000,
    orgs=8,
    proof_entries=100_000,
    proof_samples=100,
    proof_budget=5.0,
    cycle_window=1.0,
    provenance_events=5_000,
    provenance_samples=20,
    provenance_budget=1.0,
    bundle_samples=30,
    page_window=1.5,
    export_events=5_000,
    audit_events=5_000,
)
