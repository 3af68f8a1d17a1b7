"""Setting up, serving and checking the ledger: init-db, demo, serve, verify, checkpoint, proof."""

from __future__ import annotations

import json
import sys

import click

from goldtrace.cli.base import cli, echo_faults, transaction
from goldtrace.config import Settings
from goldtrace.db import migrate
from goldtrace.db.session import read_only
from goldtrace.services import demo as demo_service
from goldtrace.services import organizations, premiums, transparency
from goldtrace.services.verify import verify_ledger
from goldtrace.webapp import create_app


@cli.command("init-db")
def init_db() -> None:
    """Create or migrate the database, the log key and the genesis event (idempotent)."""
    settings = Settings.from_env()
    migrate.upgrade(settings.database_url)
    with transaction() as (session, ctx):
        body = organizations.bootstrap(session, ctx)
        premiums.seed_rates(session, ctx)
    click.echo(f"database ready: {settings.database_url} (standard body: {body.id})")


@cli.command()
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo is already loaded.")
def demo(if_empty: bool) -> None:
    """Load the demo organizations and events, and print the demo accounts."""
    with transaction() as (session, ctx):
        if if_empty and demo_service.is_loaded(session):
            click.echo("demo already loaded")
            return
        summary = demo_service.load(session, ctx)
    for line in summary:
        click.echo(line)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web app (development server; see docs/operations.md for gunicorn)."""
    create_app().run(host=host, port=port, threaded=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Processes (default: cores)."
)
@click.option("--log-key", default=None, help="Trust this verifier key instead of the stored one.")
def verify(as_json: bool, workers: int | None, log_key: str | None) -> None:
    """Check every hash, signature, link, subtree, root and checkpoint; exit 1 on any fault."""
    with transaction() as (session, ctx):
        read_only(session)
        report = verify_ledger(session, ctx, workers=workers, log_key=log_key)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    elif report.ok:
        click.echo(
            f"ok: {report.size} events, {report.signatures} signatures, "
            f"{report.checkpoints} checkpoints, root {report.root.hex()}"
        )
    else:
        echo_faults(report.faults)
    if not report.ok:
        sys.exit(1)


@cli.command()
def checkpoint() -> None:
    """Sign a checkpoint of the log as it stands and print it."""
    with transaction() as (session, ctx):
        row = transparency.cut_checkpoint(session, ctx)
    click.echo(row.note, nl=False)


@cli.group()
def proof() -> None:
    """Print Merkle proofs (hex hashes, one per line)."""


@proof.command("inclusion")
@click.argument("seq", type=click.IntRange(min=0))
@click.option(
    "--size", type=click.IntRange(min=1), default=None, help="Tree size (default: current)."
)
def proof_inclusion(seq: int, size: int | None) -> None:
    """Audit path of entry SEQ."""
    with transaction() as (session, _ctx):
        tree_size = size if size is not None else transparency.head(session).size
        hashes = transparency.inclusion_proof(session, seq, tree_size)
    click.echo(f"seq {seq} size {tree_size}")
    for h in hashes:
        click.echo(h.hex())


@proof.command("consistency")
@click.argument("first", type=click.IntRange(min=1))
@click.argument("second", type=click.IntRange(min=1))
def proof_consistency(first: int, second: int) -> None:
    """Consistency proof between tree sizes FIRST and SECOND."""
    with transaction() as (session, _ctx):
        hashes = transparency.consistency_proof(session, first, second)
    click.echo(f"first {first} second {second}")
    for h in hashes:
        click.echo(h.hex())
