"""National identifiers: one spelling per person or company, everything else refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goldtrace.domain.identities import parse_person_id, parse_ruc
from goldtrace.domain.organizations import OrgProfile
from goldtrace.errors import InvalidInput


@pytest.mark.parametrize(
    "typed", ["41000002", "41000002 ", " DNI41000002", "dni-41000002", "DNI 41000002", "41000002-0"]
)
def test_spellings_of_one_dni_are_one_person(typed: str) -> None:
    assert parse_person_id(typed) == "DNI:41000002"


@pytest.mark.parametrize("typed", ["", "DNI", "4100000", "4100000X", "41000002-5", "CE 1234"])
def test_malformed_person_ids_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_person_id(typed)
    assert caught.value.code in ("bad_person_id", "invalid_input")


def test_a_ce_follows_its_configured_pattern() -> None:
    assert parse_person_id("CE 001234567") == "CE:001234567"
    assert parse_person_id("AB12345", "CE", ce_pattern=r"[A-Z]{2}\d{5}") == "CE:AB12345"
    with pytest.raises(InvalidInput):
        parse_person_id("DNI 41000002", "CE")


@given(st.text(max_size=14))
def test_any_typed_id_is_refused_or_normalized_to_one_form(typed: str) -> None:
    try:
        person = parse_person_id(typed)
    except InvalidInput:
        return
    assert person.startswith(("DNI:", "CE:"))
    assert parse_person_id(person) == person


def test_rucs_carry_sunats_check_digit() -> None:
    assert parse_ruc("20100047218") == "20100047218"
    for bad in ("20100047219", "2010004721", "30100047218", "abc"):
        with pytest.raises(InvalidInput) as caught:
            parse_ruc(bad)
        assert caught.value.fields == {"ruc": "bad RUC"}


def test_a_mine_is_onboarded_with_miners_and_capacity() -> None:
    with pytest.raises(InvalidInput) as caught:
        OrgProfile(id="mina", name="Mina", kind="mine")
    assert caught.value.code == "capacity_required"
    with pytest.raises(InvalidInput):
        OrgProfile(id="mina", name="Mina", kind="mine", miners=10)
    with pytest.raises(InvalidInput):
        OrgProfile(id="t", name="Trader", kind="trader", miners=10, capacity_mg_month=1)
    OrgProfile(id="mina", name="Mina", kind="mine", miners=10, capacity_mg_month=1_000_000)
