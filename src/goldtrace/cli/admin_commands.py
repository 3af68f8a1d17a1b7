"""Administration by the standard body: organizations, certifications, authorizations, users and tokens."""

from __future__ import annotations

import hashlib
import sys
from typing import BinaryIO

import click
from sqlalchemy import select

from goldtrace.cli.base import cli, day_option, transaction
from goldtrace.db.models import Organization
from goldtrace.domain.organizations import KINDS, OrgProfile
from goldtrace.domain.quantities import parse_mass
from goldtrace.errors import InvalidInput
from goldtrace.services import accounts, organizations, registry


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
    with transaction() as (session, _ctx):
        added = accounts.add_user(session, email=email, org_id=org_id, role=role, password=password)
    click.echo(f"user {added.id} {added.email} ({added.role} of {added.org_id})")


@user.command("list")
def user_list() -> None:
    """Print every user: id, email, organization, role, state."""
    with transaction() as (session, _ctx):
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
    with transaction() as (session, _ctx):
        row, plaintext = accounts.create_token(session, email=email, label=label)
    # Printed only once the transaction committed: a token shown for a rolled-back row would fail.
    click.echo(f"token {row.id} created; it is shown only this once:")
    click.echo(plaintext)


@token.command("revoke")
@click.option("--id", "token_id", required=True, type=click.IntRange(min=1))
def token_revoke(token_id: int) -> None:
    """Revoke a token: requests bearing it are refused from now on."""
    with transaction() as (session, _ctx):
        accounts.revoke_token(session, token_id=token_id, by_user=None)
    click.echo(f"token {token_id} revoked")


@cli.group()
def org() -> None:
    """Organizations, certifications and authorizations (as the standard body)."""


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
@click.option(
    "--pickers",
    is_flag=True,
    default=False,
    help="The mine is an association of ore pickers: every lot names a registered member.",
)
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
    pickers: bool,
) -> None:
    """Register an organization (a ledger event by the standard body) with a custodial key.

    A mine needs --miners and --capacity-g-month: they bound what it may register."""
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
        pickers=pickers,
    )
    with transaction() as (session, ctx):
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
    with transaction() as (session, ctx):
        cert = registry.record_certification(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            org_id=org_id,
            category=category,
            number=number,
            valid_from=day_option(valid_from, "from"),
            valid_until=day_option(valid_until, "until"),
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
    with transaction() as (session, ctx):
        row = registry.change_certification_status(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            number=number,
            status=status,
            effective_on=day_option(effective_on, "from"),
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
    with transaction() as (session, ctx):
        row = registry.record_authorization(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            org_id=org_id,
            role=role,
            valid_from=day_option(valid_from, "from"),
            valid_until=day_option(valid_until, "until"),
        )
        seq = row.seq
    click.echo(f"{org_id} authorized as {role} (event {seq})")


@org.command("capacity")
@click.option("--id", "org_id", required=True, help="The mine.")
@click.option("--miners", required=True, type=click.IntRange(min=1))
@click.option(
    "--capacity-g-month", required=True, help="Declared capacity, grams of fine gold a month."
)
@click.option("--from", "effective_from", required=True, help="YYYY-MM-DD: in force from.")
@click.option("--reason", required=True, help="Why (an audit, a REINFO declaration...).")
@click.option(
    "--evidence",
    "evidence",
    type=click.File("rb"),
    default=None,
    help="The document that backs the change: its SHA-256 goes into the ledger event.",
)
def org_capacity(
    org_id: str,
    miners: int,
    capacity_g_month: str,
    effective_from: str,
    reason: str,
    evidence: BinaryIO | None,
) -> None:
    """Change a mine's miners and monthly capacity from a date on (a standard-body ledger event)."""
    digest = hashlib.sha256(evidence.read()).hexdigest() if evidence is not None else None
    with transaction() as (session, ctx):
        row = registry.change_capacity(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            org_id=org_id,
            miners=miners,
            capacity_mg_month=parse_mass(capacity_g_month, "capacity_g_month"),
            effective_from=day_option(effective_from, "from"),
            reason=reason,
            evidence_sha256=digest,
        )
        seq = row.seq
    click.echo(f"capacity of {org_id} from {effective_from}: {miners} miners (event {seq})")


@org.command("late-registration")
@click.option("--id", "org_id", required=True, help="The mine.")
@click.option("--produced-from", required=True, help="YYYY-MM-DD")
@click.option("--produced-until", required=True, help="YYYY-MM-DD")
@click.option("--register-until", required=True, help="YYYY-MM-DD: last day to register it.")
@click.option("--reason", required=True)
def org_late_registration(
    org_id: str, produced_from: str, produced_until: str, register_until: str, reason: str
) -> None:
    """Allow a mine, after review, to register the production of a period later than usual."""
    with transaction() as (session, ctx):
        row = registry.grant_late_registration(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            org_id=org_id,
            produced_from=day_option(produced_from, "produced-from"),
            produced_until=day_option(produced_until, "produced-until"),
            register_until=day_option(register_until, "register-until"),
            reason=reason,
        )
        seq = row.seq
    click.echo(f"late registration allowed for {org_id} (event {seq})")


@org.command("group")
@click.option("--name", required=True, help="The group (e.g. the owner's name).")
@click.option("--member", "members", multiple=True, required=True, help="An organization id.")
@click.option("--reason", required=True, help="How the relation is known.")
def org_group(name: str, members: tuple[str, ...], reason: str) -> None:
    """Record that organizations belong to one group (the same owner)."""
    with transaction() as (session, ctx):
        rows = registry.record_group(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            name=name,
            members=list(members),
            reason=reason,
        )
    click.echo(f"group {name}: {len(rows)} member(s) added")


@cli.group()
def picker() -> None:
    """The registry of ore pickers (pallaqueras) who sell through associations."""


@picker.command("add")
@click.option(
    "--type", "id_type", default="DNI", show_default=True, type=click.Choice(["DNI", "CE"])
)
@click.option("--number", required=True, help="The national id number.")
@click.option("--name", required=True)
@click.option("--association", required=True, help="The association's organization id.")
@click.option("--from", "valid_from", required=True, help="YYYY-MM-DD")
@click.option("--until", "valid_until", default=None, help="YYYY-MM-DD (open if omitted)")
def picker_add(
    id_type: str,
    number: str,
    name: str,
    association: str,
    valid_from: str,
    valid_until: str | None,
) -> None:
    """Register a picker as a member of an association of pickers."""
    with transaction() as (session, ctx):
        row = registry.register_picker(
            session,
            ctx,
            actor=organizations.standard_body_id(session),
            id_type=id_type,
            number=number,
            name=name,
            association=association,
            valid_from=day_option(valid_from, "from"),
            valid_until=day_option(valid_until, "until") if valid_until else None,
        )
        person, seq = row.person_id, row.seq
    click.echo(f"picker {person} registered with {association} (event {seq})")


@picker.command("list")
@click.option("--association", default=None)
def picker_list(association: str | None) -> None:
    """Print registered pickers: id, association, from, until, name."""
    with transaction() as (session, _ctx):
        for row in registry.list_pickers(session, association):
            until = row.valid_until.isoformat() if row.valid_until else "-"
            click.echo(
                f"{row.person_id}\t{row.association_id}\t{row.valid_from}\t{until}\t{row.name}"
            )


@org.command("list")
def org_list() -> None:
    """List organizations."""
    with transaction() as (session, _ctx):
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
