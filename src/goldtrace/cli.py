"""The ``goldtrace`` command. Every subcommand owns its transaction; services only flush.

Any refusal prints one line ``goldtrace: <message>`` on stderr and exits 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TextIO

import click
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from goldtrace.config import Settings
from goldtrace.db import migrate
from goldtrace.db.models import Organization
from goldtrace.db.session import make_engine, read_only
from goldtrace.domain.instants import parse_date
from goldtrace.domain.organizations import KINDS, OrgProfile
from goldtrace.domain.quantities import parse_mass, parse_money
from goldtrace.errors import GoldtraceError, InvalidInput
from goldtrace.ledger import bundle_verifier
from goldtrace.services import accounts, exports, organizations, premiums, registry, transparency
from goldtrace.services import demo as demo_service
from goldtrace.services.context import Context
from goldtrace.services.reports import ReportScope
from goldtrace.services.verify import verify_ledger
from goldtrace.webapp import create_app


@contextmanager
def _transaction() -> Iterator[tuple[Session, Context]]:
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            yield session, Context(settings)
    finally:
        engine.dispose()


@click.group()
def cli() -> None:
    """goldtrace: a verifiable chain-of-custody ledger for Fairmined gold."""


@cli.command("init-db")
def init_db() -> None:
    """Create or migrate the database, the log key and the genesis event (idempotent)."""
    settings = Settings.from_env()
    migrate.upgrade(settings.database_url)
    with _transaction() as (session, ctx):
        body = organizations.bootstrap(session, ctx)
        premiums.seed_rates(session, ctx)
    click.echo(f"database ready: {settings.database_url} (standard body: {body.id})")


@cli.command()
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo is already loaded.")
def demo(if_empty: bool) -> None:
    """Load the demo organizations and events, and print the demo accounts."""
    with _transaction() as (session, ctx):
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
    with _transaction() as (session, ctx):
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
        first = report.first
        assert first is not None
        click.echo(f"FAULT: first bad seq {first.seq}: {first.message} [{first.code}]", err=True)
        for fault in sorted(report.faults)[1:20]:
            click.echo(f"  also {fault}", err=True)
    if not report.ok:
        sys.exit(1)


@cli.command()
def checkpoint() -> None:
    """Sign a checkpoint of the log as it stands and print it."""
    with _transaction() as (session, ctx):
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
    with _transaction() as (session, _ctx):
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
    with _transaction() as (session, _ctx):
        hashes = transparency.consistency_proof(session, first, second)
    click.echo(f"first {first} second {second}")
    for h in hashes:
        click.echo(h.hex())


@cli.group()
def user() -> None:
    """Manage the people who log in."""


@user.command("add")
@click.option("--email", required=True)
@click.option("--org", "org_id", required=True, help="Organization id.")
@click.option("--role", required=True, help="operator, admin, auditor or standard_body.")
@click.option("--password", default=None, help="Default: read one line from stdin.")
def user_add(email: str, org_id: str, role: str, password: str | None) -> None:
    """Create a user of an organization."""
    if password is None:
        password = _read_password()
    with _transaction() as (session, _ctx):
        added = accounts.add_user(session, email=email, org_id=org_id, role=role, password=password)
    click.echo(f"user {added.id} {added.email} ({added.role} of {added.org_id})")


@user.command("list")
def user_list() -> None:
    """Print every user: id, email, organization, role, state."""
    with _transaction() as (session, _ctx):
        for row in accounts.list_users(session):
            state = "active" if row.active else "inactive"
            click.echo(f"{row.id}\t{row.email}\t{row.org_id}\t{row.role}\t{state}")


@cli.group()
def token() -> None:
    """Manage API bearer tokens."""


@token.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--label", default=None, help="What the token is for.")
def token_create(email: str, label: str | None) -> None:
    """Issue a token and print it once, on the last line."""
    with _transaction() as (session, _ctx):
        row, plaintext = accounts.create_token(session, email=email, label=label)
    # Printed only once the transaction committed: a token shown for a rolled-back row would fail.
    click.echo(f"token {row.id} created; it is shown only this once:")
    click.echo(plaintext)


@token.command("revoke")
@click.option("--id", "token_id", required=True, type=click.IntRange(min=1))
def token_revoke(token_id: int) -> None:
    """Revoke a token: requests bearing it are refused from now on."""
    with _transaction() as (session, _ctx):
        accounts.revoke_token(session, token_id=token_id, by_user=None)
    click.echo(f"token {token_id} revoked")


@cli.group()
def org() -> None:
    """Organizations, certifications and authorizations (as the standard body)."""


def _date(value: str, name: str) -> date:
    try:
        return parse_date(value, name)
    except GoldtraceError as exc:
        raise click.BadParameter(exc.message) from None


def _grams(value: str | None, name: str) -> int | None:
    return None if value is None else parse_mass(value, name)


@org.command("add")
@click.option("--id", "org_id", required=True, help="Short lowercase id, e.g. cecomip.")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--region", default=None)
@click.option("--country", default="PE", show_default=True)
@click.option("--ruc", default=None, help="Peruvian tax number (11 digits).")
@click.option("--reinfo", default=None, help="REINFO formalization registration (miners).")
@click.option("--miners", type=click.IntRange(min=1), default=None)
@click.option(
    "--capacity-g-month", default=None, help="Declared capacity, grams of fine gold a month."
)
@click.option("--committee", default=None, help="Name of the mine's premium committee.")
def org_add(
    org_id: str,
    name: str,
    kind: str,
    region: str | None,
    country: str,
    ruc: str | None,
    reinfo: str | None,
    miners: int | None,
    capacity_g_month: str | None,
    committee: str | None,
) -> None:
    """Register an organization (a ledger event by the standard body) with a custodial key."""
    if kind == "mine" and committee is None:
        committee = f"Comité del Premio de {name}"
    profile = OrgProfile(
        id=org_id,
        name=name,
        kind=kind,
        country=country,
        region=region,
        ruc=ruc,
        reinfo=reinfo,
        miners=miners,
        capacity_mg_month=_grams(capacity_g_month, "capacity_g_month"),
        committee=committee if kind == "mine" else None,
    )
    with _transaction() as (session, ctx):
        added = organizations.register_org(
            session, ctx, actor=organizations.standard_body_id(session), profile=profile
        )
        seq = added.registered_seq
    click.echo(f"organization {org_id} registered (event {seq})")


@org.command("certify")
@click.option("--id", "org_id", required=True)
@click.option("--category", required=True, type=click.Choice(["fairmined", "fairmined_ecological"]))
@click.option("--from", "valid_from", required=True, help="YYYY-MM-DD")
@click.option("--until", "valid_until", required=True, help="YYYY-MM-DD")
@click.option("--number", required=True, help="Certificate number.")
@click.option("--certifier", default=None)
def org_certify(
    org_id: str,
    category: str,
    valid_from: str,
    valid_until: str,
    number: str,
    certifier: str | None,
) -> None:
    """Record a mine's Fairmined certification."""
    with _transaction() as (session, ctx):
        cert = registry.record_certification(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            org_id=org_id,
            category=category,
            number=number,
            valid_from=_date(valid_from, "from"),
            valid_until=_date(valid_until, "until"),
            certifier=certifier,
        )
        seq = cert.recorded_seq
    click.echo(f"certification {number} recorded for {org_id} (event {seq})")


@org.command("certification-status")
@click.option("--number", required=True)
@click.option("--status", required=True, type=click.Choice(["active", "suspended", "withdrawn"]))
@click.option("--from", "effective_on", required=True, help="YYYY-MM-DD")
def org_cert_status(number: str, status: str, effective_on: str) -> None:
    """Suspend, withdraw or reinstate a certification from a date on."""
    with _transaction() as (session, ctx):
        row = registry.change_certification_status(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            number=number,
            status=status,
            effective_on=_date(effective_on, "from"),
        )
        seq = row.seq
    click.echo(f"certification {number} is {status} from {effective_on} (event {seq})")


@org.command("authorize")
@click.option("--id", "org_id", required=True)
@click.option("--as", "role", required=True, type=click.Choice(["supplier", "licensee"]))
@click.option("--from", "valid_from", required=True, help="YYYY-MM-DD")
@click.option("--until", "valid_until", required=True, help="YYYY-MM-DD")
def org_authorize(org_id: str, role: str, valid_from: str, valid_until: str) -> None:
    """Authorize a trader, refiner or jeweler as Fairmined supplier or licensee."""
    with _transaction() as (session, ctx):
        row = registry.record_authorization(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            org_id=org_id,
            role=role,
            valid_from=_date(valid_from, "from"),
            valid_until=_date(valid_until, "until"),
        )
        seq = row.seq
    click.echo(f"{org_id} authorized as {role} (event {seq})")


@org.command("list")
def org_list() -> None:
    """List organizations."""
    with _transaction() as (session, _ctx):
        rows = session.execute(select(Organization).order_by(Organization.kind, Organization.id))
        for (row,) in rows:
            click.echo(f"{row.id:28} {row.kind:14} {row.name}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput("no password given (pass --password or one line on stdin)")
    return password


def _witness_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(bundle_verifier.witness_key_arg(key) for key in keys)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--witness-key") from None


@cli.command("verify-bundle")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--log-key", default=None, help="The log's verifier key, obtained independently.")
@click.option(
    "--witness-key",
    "witness_keys",
    multiple=True,
    metavar="VKEY",
    callback=lambda _ctx, _param, keys: _witness_keys(keys),
    help="A witness's cosignature verifier key (repeatable): that witness must have cosigned.",
)
def verify_bundle(file: str, log_key: str | None, witness_keys: tuple[str, ...]) -> None:
    """Verify a certificate proof bundle offline (no database, no network); exit 0 only if valid."""
    args = [file] + (["--log-key", log_key] if log_key else [])
    args += [arg for key in witness_keys for arg in ("--witness-key", key)]
    sys.exit(bundle_verifier.main(args))


@cli.command("export")
@click.option("--scope", "scope_text", required=True, help="ledger, org:ID or lot:ID")
@click.option("--from", "start", default=None, help="YYYY-MM-DD (inclusive)")
@click.option("--until", default=None, help="YYYY-MM-DD (inclusive)")
@click.option("--format", "fmt", required=True, type=click.Choice(exports.FORMATS))
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
@click.option(
    "--lang",
    default="es",
    show_default=True,
    type=click.Choice(exports.LANGUAGES),
    help="Language of the PDF.",
)
def export_report(
    scope_text: str, start: str | None, until: str | None, fmt: str, out: str, lang: str
) -> None:
    """Write a chain-of-custody report (PDF, CSV zip, JSON) or a GS1 EPCIS 2.0 document.

    On a terminal a progress bar shows the events written out of the scope's total.
    """
    kind, _, key = scope_text.partition(":")
    if kind not in ("ledger", "org", "lot") or (kind == "ledger") != (key == ""):
        raise click.BadParameter("use ledger, org:ID or lot:ID", param_hint="--scope")
    scope = ReportScope(
        kind=kind,
        key=key or None,
        start=_date(start, "from") if start else None,
        until=_date(until, "until") if until else None,
    )
    # Only a person watching a terminal gets the bar (and pays for counting the scope first).
    show = sys.stderr.isatty()
    with _transaction() as (session, ctx):
        total = exports.count_events(session, scope=scope, fmt=fmt) if show else 0
        with click.progressbar(
            length=total,
            label=f"{fmt} export",
            show_pos=True,
            show_percent=True,
            file=sys.stderr,
            hidden=not show,
        ) as bar:

            def progress(written: int) -> None:
                bar.update(written - bar.pos)

            count = exports.export(
                session,
                scope=scope,
                fmt=fmt,
                out=Path(out),
                base_url=ctx.settings.base_url,
                lang=lang,
                progress=progress,
            )
            # The report formats build the whole report at once; this also ends the bar at 100 %.
            bar.update(count - bar.pos)
            bar.finish()
            bar.render_progress()
    click.echo(f"{fmt} export of {scope_text}: {count} events written to {out}")


@cli.group()
def premium() -> None:
    """Premium rates and reference gold prices (as the standard body)."""


@premium.command("rate")
@click.option("--category", required=True, type=click.Choice(["fairmined", "fairmined_ecological"]))
@click.option(
    "--from", "effective_from", required=True, help="YYYY-MM-DD: applies to sales from then on"
)
@click.option("--usd-per-kg", required=True, help="USD per kg of fine gold, e.g. 4000.00")
def premium_rate(category: str, effective_from: str, usd_per_kg: str) -> None:
    """Record a premium rate from a date on."""
    with _transaction() as (session, ctx):
        row = premiums.record_rate(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            category=category,
            effective_from=_date(effective_from, "from"),
            cents_per_kg=parse_money(usd_per_kg, "usd_per_kg"),
        )
        seq = row.seq
    click.echo(f"premium rate for {category} from {effective_from} recorded (event {seq})")


@premium.command("reference-price")
@click.option("--date", "day", required=True, help="YYYY-MM-DD")
@click.option("--usd-per-troy-oz", required=True, help="e.g. 2640.00")
def premium_reference_price(day: str, usd_per_troy_oz: str) -> None:
    """Record the international gold price of a day (USD per troy ounce)."""
    with _transaction() as (session, ctx):
        row = premiums.record_reference_price(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            day=_date(day, "date"),
            cents_per_troy_oz=parse_money(usd_per_troy_oz, "usd_per_troy_oz"),
        )
        seq = row.seq
    click.echo(f"reference price for {day} recorded (event {seq})")


@premium.command("import-prices")
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
def premium_import_prices(csv_file: TextIO) -> None:
    """Import reference prices from a CSV file of `date,usd_per_troy_oz` lines (all or nothing)."""
    with _transaction() as (session, ctx):
        count = premiums.import_reference_prices(
            session, ctx, actor=organizations.standard_body_id(session), text=csv_file.read()
        )
    click.echo(f"{count} reference prices imported")


@cli.command("audit")
@click.option("--url", required=True, help="Base URL of the goldtrace server to audit.")
@click.option(
    "--state", "state_file", default=None, help="JSON state file (pinned key, last checkpoint)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def audit_command(url: str, state_file: str | None, as_json: bool) -> None:
    """Check a remote ledger through its public endpoints only; exit 1 on any fault."""
    from goldtrace.audit import audit

    report = audit(url, Path(state_file) if state_file else None)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    elif report.ok:
        click.echo(
            f"ok: {report.log_size} events, {report.signatures} signatures, checkpoint "
            f"{report.checkpoint_size} root {report.root.hex()}"
            + (f", consistent with {report.previous_size}" if report.previous_size else "")
        )
    else:
        first = report.first
        assert first is not None
        click.echo(f"FAULT: first bad seq {first.seq}: {first.message} [{first.code}]", err=True)
        for fault in sorted(report.faults)[1:20]:
            click.echo(f"  also {fault}", err=True)
    if not report.ok:
        sys.exit(1)


@cli.group("witness-key")
def witness_key() -> None:
    """Witness keys whose cosignatures the log accepts (server side)."""


@witness_key.command("add")
@click.argument("vkey")
def witness_key_add(vkey: str) -> None:
    """Register a witness's cosignature verifier key."""
    from goldtrace.services import witnesses

    with _transaction() as (session, _ctx):
        row = witnesses.register_witness(session, vkey)
    click.echo(f"witness {row.name} registered")


@cli.command("witness")
@click.option("--url", required=True, help="Base URL of the log to witness.")
@click.option(
    "--state", "state_file", required=True, help="JSON state: the last cosigned checkpoint."
)
@click.option("--key", "key_file", required=True, help="Ed25519 seed (hex); created if missing.")
@click.option("--name", default="goldtrace-witness", show_default=True, help="Witness key name.")
def witness_command(url: str, state_file: str, key_file: str, name: str) -> None:
    """Cosign the log's latest checkpoint once it is proved consistent with the last one cosigned."""
    from goldtrace.witness import load_or_create_key, witness_once

    signer, created = load_or_create_key(Path(key_file), name)
    if created:
        click.echo(
            f"new witness key; register it with: goldtrace witness-key add {signer.verifier.vkey()}"
        )
    result = witness_once(url, Path(state_file), signer)
    if not result.ok:
        click.echo(f"REFUSED: {result.message}; evidence in {result.evidence}", err=True)
        sys.exit(1)
    click.echo(result.message)


def main() -> None:
    """Entry point: run the CLI, turning goldtrace errors into one line and exit status 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("goldtrace: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"goldtrace: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code or 1)
    except GoldtraceError as exc:
        click.echo(f"goldtrace: {exc.message}", err=True)
        sys.exit(1)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        click.echo(f"goldtrace: database error: {reason} (has `goldtrace init-db` run?)", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
