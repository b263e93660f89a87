"""The Faker provider ``mock_remd.generator.faker.RemdProvider``: formats and check digits."""

from __future__ import annotations

import re
import uuid

import pytest
from faker import Faker
from stdnum.ru import inn, ogrn

from mock_remd.generator.faker import (
    RemdProvider,
    enp_check_digit,
    format_snils,
    snils_check_digits,
    snils_is_valid,
)

SNILS_FMT = re.compile(r"^\d{3}-\d{3}-\d{3} \d{2}$")
MO_OID_RE = re.compile(r"^1\.2\.643\.5\.1\.13\.13\.12\.[1-4]\.[0-9]{1,2}\.[0-9]{1,6}$")
EMDR_RE = re.compile(r"^[0-9]{1,3}\.[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{9}$")
GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture()
def fake() -> Faker:
    f = Faker("ru_RU")
    f.add_provider(RemdProvider)
    f.seed_instance(20240315)
    return f


def test_snils_check_digits_known_vectors() -> None:
    assert snils_check_digits("112233445") == "95"
    assert snils_check_digits("148481255") == "85"
    assert snils_is_valid("112-233-445 95")
    assert snils_is_valid("11223344595")
    assert not snils_is_valid("11223344596")
    assert not snils_is_valid("1122334459")
    assert format_snils("11223344595") == "112-233-445 95"


def test_snils_valid_and_formatted_for_1000_draws(fake: Faker) -> None:
    for _ in range(1000):
        value = fake.snils()
        assert SNILS_FMT.fullmatch(value), value
        assert snils_is_valid(value), value
        digits = fake.snils_digits()
        assert re.fullmatch(r"\d{11}", digits) and snils_is_valid(digits), digits
        assert int(digits[:9]) > 1001998  # numbers with defined check digits only


def test_oms_policy_is_16_digits_with_region_and_control_digit(fake: Faker) -> None:
    for _ in range(200):
        enp = fake.oms_policy_number("77")
        assert re.fullmatch(r"77\d{14}", enp), enp
        assert enp_check_digit(enp[:15]) == enp[15]


def test_mo_oid_and_emdr_id_shapes(fake: Faker) -> None:
    for _ in range(200):
        assert MO_OID_RE.fullmatch(fake.mo_oid()), fake.mo_oid()
        assert fake.mo_oid(region="77").startswith("1.2.643.5.1.13.13.12.2.77.")
        assert EMDR_RE.fullmatch(fake.emdr_id()), fake.emdr_id()
    assert fake.emdr_id(region="50", prefix="1", year=2024, month=3).startswith("1.50.24.03.")


def test_guids_and_local_uids_are_uuid4(fake: Faker) -> None:
    for _ in range(100):
        for value in (fake.fias_guid(), fake.local_uid()):
            assert GUID_RE.fullmatch(value), value
            assert uuid.UUID(value).version == 4


def test_inn_and_ogrn_pass_python_stdnum(fake: Faker) -> None:
    for _ in range(300):
        assert inn.is_valid(fake.inn_legal()) and len(fake.inn_legal()) == 10
        assert inn.is_valid(fake.inn_person()) and len(fake.inn_person()) == 12
        assert ogrn.is_valid(fake.ogrn()) and len(fake.ogrn()) == 13
        assert ogrn.is_valid(fake.ogrnip()) and len(fake.ogrnip()) == 15


def test_same_seed_same_values() -> None:
    def draw(seed: int) -> list[str]:
        f = Faker("ru_RU")
        f.add_provider(RemdProvider)
        f.seed_instance(seed)
        return [f.snils(), f.oms_policy_number(), f.mo_oid(), f.emdr_id(), f.fias_guid(), f.local_uid(), f.ogrn()]

    assert draw(5) == draw(5)
    assert draw(5) != draw(6)
