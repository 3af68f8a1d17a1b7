"""National identifiers as the rules need them: a RUC (SUNAT's taxpayer number) and a person's id.

Identifiers are normalized before anything compares them, so that one person or one company has exactly
one spelling in the ledger: ``"41000002 "``, ``"DNI 41000002"`` and ``"dni-41000002"`` are all
``DNI:41000002``. A number of 9 characters is a DNI with its printed check character, which must be
right: ``"41000002-0"`` is ``DNI:41000002`` and ``"41000002-5"`` is refused (``"041000002"`` reads as
``DNI:04100000`` with check character 2: another person, who must be registered to sell).
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.pe import cui as stdnum_cui
from stdnum.pe import ruc as stdnum_ruc

from goldtrace.errors import InvalidInput

ID_TYPES = ("DNI", "CE")
# A DNI (its number is the CUI) has exactly 8 digits, printed with an optional check character that
# python-stdnum verifies. The format of a carnet de extranjería is not settled (DOMAIN.md): 9 digits
# by default, configurable through Settings.ce_pattern.
DEFAULT_CE_PATTERN = r"\d{9}"
_PREFIXED = re.compile(r"(?i)^\s*(DNI|CE)\s*[:\-\s]?\s*(.*?)\s*$")


def parse_ruc(value: object, field: str = "ruc") -> str:
    """Return an 11-digit RUC whose SUNAT check digit holds; InvalidInput naming ``field`` otherwise."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", fields={field: "not text"})
    try:
        return str(stdnum_ruc.validate(value.strip()))
    except ValidationError:
        raise InvalidInput(
            f"{field} {value.strip()!r} is not a valid RUC: 11 digits, starting 10, 15, 17 or 20, "
            "whose last digit is SUNAT's check digit",
            code="bad_ruc",
            fields={field: "bad RUC"},
        ) from None


def parse_person_id(
    value: object,
    id_type: str | None = None,
    *,
    ce_pattern: str = DEFAULT_CE_PATTERN,
    field: str = "picker",
) -> str:
    """Return a person's id in its one form, ``TYPE:NUMBER`` (``DNI:41000002``, ``CE:001234567``).

    ``value`` may carry its type as a prefix (``DNI 41000002``); otherwise ``id_type`` says it, and
    a bare number of 8 digits is read as a DNI. Anything else is InvalidInput (code ``bad_person_id``).
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} must be a national id", fields={field: "missing"})
    text = value.strip()
    prefixed = _PREFIXED.match(text)
    if prefixed and (prefixed.group(2) or not text.isdigit()):
        stated, number = prefixed.group(1).upper(), prefixed.group(2)
        if id_type is not None and id_type.upper() != stated:
            raise _bad(field, text, f"it says {stated} but the id type is {id_type}")
        id_type = stated
    else:
        number = text
    kind = (id_type or "DNI").upper()
    if kind not in ID_TYPES:
        raise InvalidInput(
            f"id type must be one of {', '.join(ID_TYPES)}", fields={"id_type": "unknown"}
        )
    number = number.upper()
    if kind == "DNI":
        try:
            number = str(stdnum_cui.validate(number))[:8]
        except ValidationError:
            raise _bad(
                field, text, "a DNI has exactly 8 digits (and, if printed, its check character)"
            ) from None
        if not number.isdigit():
            raise _bad(field, text, "a DNI has exactly 8 digits")
    elif not re.fullmatch(ce_pattern, number):
        raise _bad(field, text, f"a CE number matches {ce_pattern}")
    return f"{kind}:{number}"


def _bad(field: str, text: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"{field} {text!r} is not a valid national id: {why}",
        code="bad_person_id",
        fields={field: "bad national id"},
    )


_NORMALIZED = re.compile(r"(DNI:\d{8}|CE:[0-9A-Z]{1,20})")


def is_normalized(person: object) -> bool:
    """True when ``person`` is a person's id in its one stored form (``DNI:41000002``, ``CE:...``),
    whatever CE pattern it was registered under; a DNI's number must also be one a DNI can have."""
    if not isinstance(person, str) or not _NORMALIZED.fullmatch(person):
        return False
    return not person.startswith("DNI:") or parse_person_id(person) == person
