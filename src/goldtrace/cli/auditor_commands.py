"""For auditors and customers: verify-bundle, export, audit, witness-key and witness."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from goldtrace.cli.base import cli, day_option, echo_faults, transaction
from goldtrace.config import Settings
from goldtrace.ledger import bundle_verifier
from goldtrace.services import exports
from goldtrace.services.reports import ReportScope


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
        start=day_option(start, "from") if start else None,
        until=day_option(until, "until") if until else None,
    )
    # Only a person watching a terminal gets the bar (and pays for counting the scope first).
    show = sys.stderr.isatty()
    with transaction() as (session, ctx):
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


@cli.command("audit")
@click.option("--url", required=True, help="Base URL of the goldtrace server to audit.")
@click.option(
    "--state", "state_file", default=None, help="JSON state file (pinned key, last checkpoint)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--max-age-days",
    type=click.IntRange(0, 366),
    default=None,
    help="The registration delay the ledger was written under "
    "(default: GOLDTRACE_REGISTRATION_MAX_AGE_DAYS, else 31).",
)
def audit_command(
    url: str, state_file: str | None, as_json: bool, max_age_days: int | None
) -> None:
    """Check a remote ledger through its public endpoints only; exit 1 on any fault."""
    from goldtrace.audit import audit

    if max_age_days is None:
        max_age_days = Settings.from_env().registration_max_age_days
    report = audit(url, Path(state_file) if state_file else None, max_age_days=max_age_days)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    elif report.ok:
        click.echo(
            f"ok: {report.log_size} events, {report.signatures} signatures, checkpoint "
            f"{report.checkpoint_size} root {report.root.hex()}"
            + (f", consistent with {report.previous_size}" if report.previous_size else "")
        )
    else:
        echo_faults(report.faults)
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

    with transaction() as (session, _ctx):
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
