"""The demo ledger: the first fully Peruvian Fairmined chain (DESIGN.md §7, DOMAIN.md), built through
the same services as real use, never by writing rows.

Mines, the pallaqueras and Divinas en Brillo de Oro are real organizations named from public sources;
their figures here (miners, capacities, lots, prices) are illustrative. The trader, the refiner, the Lima
jeweler and the auditor are fictional.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from goldtrace.db.models import Organization
from goldtrace.domain.instants import local_date, now_instant
from goldtrace.domain.lots import OutputSpec
from goldtrace.domain.organizations import OrgProfile
from goldtrace.services import (
    accounts,
    certificates,
    lots,
    organizations,
    premiums,
    registry,
    transparency,
)
from goldtrace.services.context import Context

DEMO_PASSWORD = "oro-justo-2026"  # noqa: S105 - printed on purpose: demo accounts only

ORGANIZATIONS = (
    OrgProfile(
        id="cecomip",
        name="Central de Cooperativas Minero Metalúrgicas de Puno (CECOMIP)",
        kind="mine",
        region="Puno",
        ruc="20448812341",
        reinfo="REINFO-PU-0001",
        miners=120,
        capacity_mg_month=9_000_000,
        committee="Comité del Premio Fairmined de CECOMIP",
    ),
    OrgProfile(
        id="oro-puno",
        name="Minera Oro Puno",
        kind="mine",
        region="Puno",
        ruc="20448823459",
        reinfo="REINFO-PU-0002",
        miners=60,
        capacity_mg_month=5_000_000,
        committee="Comité del Premio de Oro Puno",
    ),
    OrgProfile(
        id="cruz-pata",
        name="Cruz Pata Chaquiminas",
        kind="mine",
        region="Puno",
        ruc="20448834566",
        reinfo="REINFO-PU-0003",
        miners=45,
        capacity_mg_month=4_000_000,
        committee="Comité del Premio de Cruz Pata",
    ),
    OrgProfile(
        id="macdesa",
        name="Minera Aurífera Cuatro de Enero (MACDESA)",
        kind="mine",
        region="Arequipa",
        ruc="20455512345",
        reinfo="REINFO-AR-0001",
        miners=420,
        capacity_mg_month=22_000_000,
        committee="Comité del Premio de MACDESA",
    ),
    OrgProfile(
        id="pallaqueras-cerro-lunar",
        name="Asociación de Pallaqueras de San Francisco de Cerro Lunar",
        kind="mine",
        region="Puno",
        miners=40,
        # 40 members at the 66 g ceiling of gold-bearing ore each.
        capacity_mg_month=2_640_000,
        pickers=True,
    ),
    OrgProfile(
        id="andes-trading",
        name="Andes Gold Trading S.A.C. (ficticia)",
        kind="trader",
        region="Juliaca",
        ruc="20600011112",
    ),
    OrgProfile(
        id="refineria-sur",
        name="Refinería del Sur S.A. (ficticia)",
        kind="refiner",
        region="Lima",
        ruc="20600022220",
    ),
    OrgProfile(
        id="divinas",
        name="Asociación Divinas en Brillo de Oro",
        kind="jeweler",
        region="Puno",
    ),
    OrgProfile(
        id="joyeria-lima",
        name="Joyería Miraflores E.I.R.L. (ficticia)",
        kind="jeweler",
        region="Lima",
        ruc="20600033337",
    ),
    OrgProfile(
        id="auditora-andina",
        name="Auditora Andina S.A.C. (ficticia)",
        kind="auditor",
        region="Lima",
    ),
)

CERTIFICATIONS = (
    ("cecomip", "fairmined", "FM-PE-2016-001", date(2016, 8, 1)),
    ("oro-puno", "fairmined_ecological", "FME-PE-2018-002", date(2018, 6, 1)),
    ("cruz-pata", "fairmined", "FM-PE-2020-003", date(2020, 3, 1)),
    ("macdesa", "fairmined", "FM-PE-2017-004", date(2017, 9, 1)),
)
AUTHORIZATIONS = (
    ("andes-trading", "supplier"),
    ("refineria-sur", "supplier"),
    ("divinas", "licensee"),
    ("joyeria-lima", "licensee"),
)
VALID_UNTIL = date(2028, 12, 31)
# Members of the pallaqueras' association (illustrative names and DNIs).
PICKERS = (
    ("40112233", "Juana Quispe Mamani"),
    ("40112234", "Rosa Condori Apaza"),
    ("40112235", "Lucía Huanca Ccama"),
)
# Reference price, USD per gram of fine gold (illustrative; the 95 % rule applies to it).
REFERENCE_MICRO = 85_000_000


def is_loaded(session: Session) -> bool:
    """Return True when organizations beyond the standard body exist."""
    count = session.execute(select(func.count()).select_from(Organization)).scalar_one()
    return count > 1


def load(session: Session, ctx: Context, *, today: date | None = None) -> list[str]:
    """Build the demo chain end to end; return the lines to print (accounts and checkpoint)."""
    # Dates as a Peruvian mine's calendar has them (the registration rules read them so).
    today = today or local_date(now_instant(), "PE")
    body = organizations.bootstrap(session, ctx).id
    premiums.seed_rates(session, ctx)
    for profile in ORGANIZATIONS:
        organizations.register_org(session, ctx, actor=body, profile=profile)
    for org, category, number, since in CERTIFICATIONS:
        registry.record_certification(
            session,
            ctx,
            actor=body,
            org_id=org,
            category=category,
            number=number,
            valid_from=since,
            valid_until=VALID_UNTIL,
            certifier="IMO Swiss AG" if org != "oro-puno" else "NaturaCert",
        )
    for org, role in AUTHORIZATIONS:
        registry.record_authorization(
            session,
            ctx,
            actor=body,
            org_id=org,
            role=role,
            valid_from=date(2019, 1, 1),
            valid_until=VALID_UNTIL,
        )
    for number, name in PICKERS:
        registry.register_picker(
            session,
            ctx,
            actor=body,
            id_type="DNI",
            number=number,
            name=name,
            association="pallaqueras-cerro-lunar",
            valid_from=date(2024, 1, 1),
        )
    premiums.record_reference_price(
        session, ctx, actor=body, day=today - timedelta(days=30), cents_per_troy_oz=264_000
    )
    pieces = _chain(session, ctx, today)
    _premiums(session, ctx, today)
    certified = [
        certificates.issue(session, ctx, actor=jeweler, lot_id=lot_id, description=description)
        for jeweler, lot_id, description in pieces
    ]
    organizations.rotate_key(session, ctx, org_id="andes-trading")
    accounts_lines = _accounts(session, body)
    checkpoint = transparency.cut_checkpoint(session, ctx)
    return [
        f"demo loaded: {len(ORGANIZATIONS) + 1} organizations, {checkpoint.size} events",
        "",
        f"demo accounts (password for all: {DEMO_PASSWORD}):",
        *accounts_lines,
        "",
        "certificates (the QR codes lead here):",
        *(f"  {certificates.verify_url(ctx, cert.id)}" for cert in certified),
        "",
        "latest checkpoint:",
        checkpoint.note.rstrip("\n"),
    ]


def _register(
    session: Session,
    ctx: Context,
    mine: str,
    grams: int,
    fineness: int,
    category: str,
    day: date,
    ref: str,
) -> str:
    written = lots.register_lot(
        session,
        ctx,
        actor=mine,
        form="dore",
        mass_mg=grams * 1000,
        fineness=fineness,
        category=category,
        produced_on=day,
        reference=ref,
    )
    return written.lots[0].id


def _ship(
    session: Session,
    ctx: Context,
    lot_id: str,
    sender: str,
    to: str,
    *,
    received_mg: int | None = None,
    sale: bool = False,
) -> None:
    price = REFERENCE_MICRO - 1_000_000 if sale else None
    lots.dispatch_lot(
        session,
        ctx,
        actor=sender,
        lot_id=lot_id,
        to=to,
        price=price,
        reference_price=REFERENCE_MICRO if sale else None,
    )
    mass = received_mg if received_mg is not None else lots.get_lot(session, lot_id).mass_mg
    lots.receive_lot(session, ctx, actor=to, lot_id=lot_id, mass_mg=mass)


def _chain(session: Session, ctx: Context, today: date) -> list[tuple[str, str, str]]:
    """Produce, sell, refine and manufacture; return (jeweler, piece lot, description) to certify."""
    day = today - timedelta(days=6)
    cecomip = _register(session, ctx, "cecomip", 1250, 8800, "fairmined", day, "CEC-2026-117")
    cruz = _register(session, ctx, "cruz-pata", 640, 8700, "fairmined", day, "CP-2026-041")
    macdesa = _register(session, ctx, "macdesa", 2400, 9100, "fairmined", day, "MAC-2026-233")
    eco = _register(session, ctx, "oro-puno", 820, 9050, "fairmined_ecological", day, "OP-2026-058")
    # A typo caught at once: registered, voided, registered again.
    typo = lots.register_lot(
        session,
        ctx,
        actor="cecomip",
        form="dore",
        mass_mg=2_150_000,
        fineness=8800,
        category="fairmined",
        produced_on=day,
        reference="CEC-2026-118",
    )
    lots.void_event(
        session, ctx, actor="cecomip", seq=typo.seq, reason="2 150 g tecleado por 1 250 g"
    )
    cecomip2 = _register(session, ctx, "cecomip", 1250, 8800, "fairmined", day, "CEC-2026-118")
    picker = (
        lots.register_lot(
            session,
            ctx,
            actor="pallaqueras-cerro-lunar",
            form="ore",
            mass_mg=45_000,
            fineness=8500,
            category="none",
            produced_on=day,
            reference="PAL-2026-009",
            picker="DNI 40112233",
        )
        .lots[0]
        .id
    )

    for lot_id, mine in (
        (cecomip, "cecomip"),
        (cruz, "cruz-pata"),
        (macdesa, "macdesa"),
        (eco, "oro-puno"),
        (cecomip2, "cecomip"),
    ):
        _ship(session, ctx, lot_id, mine, "andes-trading", sale=True)
    _ship(session, ctx, picker, "pallaqueras-cerro-lunar", "andes-trading", sale=True)
    # The trader weighs one lot 2 g light: a weight discrepancy for the auditor.
    for lot_id in (cecomip, cruz, eco, cecomip2):
        _ship(session, ctx, lot_id, "andes-trading", "refineria-sur")
    _ship(session, ctx, macdesa, "andes-trading", "refineria-sur", received_mg=2_398_000)

    lots.assay_lot(
        session,
        ctx,
        actor="refineria-sur",
        lot_id=macdesa,
        fineness=9080,
        lab="Laboratorio Refinería del Sur",
    )
    grain = (
        lots.transform(
            session,
            ctx,
            actor="refineria-sur",
            kind="refine",
            inputs=[cecomip, cruz, macdesa, cecomip2],
            outputs=[
                OutputSpec(
                    id="", form="grain", mass_mg=4_930_000, fineness=9999, reference="RS-G-2026-77"
                )
            ],
        )
        .lots[0]
        .id
    )
    eco_grain = (
        lots.transform(
            session,
            ctx,
            actor="refineria-sur",
            kind="refine",
            inputs=[eco],
            outputs=[
                OutputSpec(
                    id="", form="grain", mass_mg=737_000, fineness=9999, reference="RS-GE-2026-12"
                )
            ],
        )
        .lots[0]
        .id
    )
    parts = lots.transform(
        session,
        ctx,
        actor="refineria-sur",
        kind="split",
        inputs=[grain],
        outputs=[
            OutputSpec(
                id="", form="grain", mass_mg=500_000, fineness=9999, reference="RS-G-2026-77a"
            ),
            OutputSpec(
                id="", form="bar", mass_mg=4_430_000, fineness=9999, reference="RS-B-2026-0031"
            ),
        ],
    ).lots
    _ship(session, ctx, parts[0].id, "refineria-sur", "divinas")
    _ship(session, ctx, eco_grain, "refineria-sur", "joyeria-lima")
    rings = lots.transform(
        session,
        ctx,
        actor="divinas",
        kind="manufacture",
        inputs=[parts[0].id],
        outputs=[
            OutputSpec(
                id="",
                form="jewelry_item",
                mass_mg=8_000,
                fineness=7500,
                reference="Anillo Illimani 18k",
            ),
            OutputSpec(
                id="",
                form="jewelry_item",
                mass_mg=12_000,
                fineness=7500,
                reference="Aretes Titicaca 18k",
            ),
            OutputSpec(
                id="", form="semi_finished", mass_mg=645_000, fineness=7500, reference="Lámina 18k"
            ),
        ],
        alloy_mass_mg=167_000,
    ).lots
    pendants = lots.transform(
        session,
        ctx,
        actor="joyeria-lima",
        kind="manufacture",
        inputs=[eco_grain],
        outputs=[
            OutputSpec(
                id="",
                form="jewelry_item",
                mass_mg=15_000,
                fineness=7500,
                category="fairmined_ecological",
                reference="Colgante Ananea 18k",
            ),
            OutputSpec(
                id="",
                form="semi_finished",
                mass_mg=965_000,
                fineness=7500,
                reference="Grano aleado 18k",
            ),
        ],
        alloy_mass_mg=245_000,
    ).lots
    return [
        ("divinas", rings[0].id, "Anillo Illimani, oro Fairmined 18k"),
        ("joyeria-lima", pendants[0].id, "Colgante Ananea, oro Fairmined Ecológico 18k"),
    ]


# What the committees spent premium on (DOMAIN.md: ARM's reports on Peru).
INVESTMENTS = (
    ("oro-puno", "community", "Ampliación del comedor y duchas con terma solar", 150_000),
    ("cecomip", "workers_welfare", "Equipos de protección personal para socios", 120_000),
    (
        "macdesa",
        "workers_welfare",
        "Campaña médica para trabajadores y la comunidad de Cháparra",
        250_000,
    ),
    ("cruz-pata", "environment", "Revegetación de áreas trabajadas", 40_000),
)


def _premiums(session: Session, ctx: Context, today: date) -> None:
    """The trader pays what it owes (one committee only in part); committees invest some of it."""
    paid_on = today - timedelta(days=3)
    for mine in ("cecomip", "oro-puno", "cruz-pata", "macdesa"):
        owed = premiums.open_obligations(session, buyer="andes-trading", committee=mine)
        total = sum(o.amount_cents - o.paid_cents for o in owed)
        amount = total if mine != "cruz-pata" else total // 2
        premiums.pay(
            session,
            ctx,
            actor="andes-trading",
            committee=mine,
            amount_cents=amount,
            paid_on=paid_on,
            method="transferencia bancaria",
            reference=f"TRF-{mine.upper()}-2026",
        )
    for mine, category, description, cents in INVESTMENTS:
        premiums.invest(
            session,
            ctx,
            actor=mine,
            committee=mine,
            amount_cents=cents,
            spent_on=today - timedelta(days=1),
            category=category,
            description=description,
        )


def _accounts(session: Session, body: str) -> list[str]:
    users = [("admin@arm.example", body, "standard_body")]
    users += [("auditoria@auditora-andina.example", "auditora-andina", "auditor")]
    for profile in ORGANIZATIONS:
        if profile.kind != "auditor":
            users.append((f"operador@{profile.id}.example", profile.id, "operator"))
    lines = []
    for email, org, role in users:
        accounts.add_user(session, email=email, org_id=org, role=role, password=DEMO_PASSWORD)
        lines.append(f"  {email:42} {role:14} {org}")
    return lines
