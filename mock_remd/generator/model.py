"""The fictitious world one generated document lives in: organisation, patient, doctors, dates.

Everything is drawn from one seeded ``Faker('ru_RU')`` with :class:`RemdProvider`, so the same seed
gives the same world. "Now" is taken from the seed too (a day in 2024–2025), never from the clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from faker import Faker

from mock_remd.generator import nsi
from mock_remd.generator.faker import RemdProvider
from mock_remd.generator.xml import Code

DEMO_ORGANIZATION = "1.2.643.5.1.13.13.12.2.50.99999"
DEMO_CLIENT_ENTITY_ID = "00000000-0000-4000-8000-000000000001"
DEMO_SYSTEM = "demo"
MSK = dt.timezone(dt.timedelta(hours=3))
#: the first day generated documents may be dated (after the start dates of every generated kind)
BASE_DATE = dt.date(2024, 1, 15)


@dataclass(frozen=True)
class Address:
    """A postal address with FIAS GUIDs (``house_guid`` None = unknown, written as nullFlavor)."""

    line: str
    postal_code: str
    region: Code
    ao_guid: str
    house_guid: str | None


@dataclass(frozen=True)
class Organisation:
    """A medical organisation (MO) identified by its FRMO OID."""

    oid: str
    name: str
    ogrn: str
    inn: str
    phone: str
    address: Address
    license: str


@dataclass(frozen=True)
class Person:
    """A natural person: SNILS digits, name parts and gender (``1`` male, ``2`` female)."""

    local_id: str
    snils: str
    family: str
    given: str
    patronymic: str
    gender: str


@dataclass(frozen=True)
class Staff(Person):
    """A medical worker with a position (NSI 1002) and a speciality code (NSI 1066)."""

    position: Code = field(default=nsi.POSITIONS["therapist"][0])
    speciality: str = "27"
    role: str = "1"


@dataclass(frozen=True)
class Patient(Person):
    """A patient with the data the header needs."""

    birth_date: dt.date = dt.date(1980, 1, 1)
    address: Address | None = None
    phone: str = ""
    passport_series: str = ""
    passport_number: str = ""
    passport_issuer: str = ""
    passport_issuer_code: str = ""
    passport_date: dt.date = dt.date(2000, 1, 1)
    policy_number: str = ""
    policy_since: dt.date = dt.date(2011, 5, 1)


@dataclass(frozen=True)
class Insurer:
    """The insurance company (СМО) paying under the OMS policy."""

    code: str
    name: str
    phone: str
    address: Address


@dataclass(frozen=True)
class World:
    """Everything a kind builder needs to write one document and its request."""

    seed: int
    kind: str
    local_uid: str
    document_number: str
    created: dt.datetime
    organisation: Organisation
    patient: Patient
    doctors: tuple[Staff, ...]
    insurer: Insurer
    mis: str = "1"
    mis_instance: str = "1"
    case_id: str = ""
    card_id: str = ""
    fake: Faker | None = field(default=None, compare=False, repr=False)

    def id_root(self, suffix: str) -> str:
        """``<MO OID>.100.<MIS>.<instance>.<suffix>`` (51 document, 50 set, 10 patient, 70 staff …)."""
        return f"{self.organisation.oid}.100.{self.mis}.{self.mis_instance}.{suffix}"

    @property
    def author(self) -> Staff:
        """The first doctor writes and legally authenticates the document."""
        return self.doctors[0]


def make_faker(seed: int) -> Faker:
    """A seeded ``Faker('ru_RU')`` with the REMD provider."""
    fake = Faker("ru_RU")
    fake.add_provider(RemdProvider)
    fake.seed_instance(seed)
    return fake


def _phone(fake: Faker, mobile: bool = False) -> str:
    prefix = "+79" if mobile else "+7495"
    digits = 9 if mobile else 7
    return prefix + "".join(str(fake.random_digit()) for _ in range(digits))


def make_address(fake: Faker, region: str = "50", house_known: bool = True, flat: bool = True) -> Address:
    """A plausible address in ``region`` with a FIAS AOGUID (and HOUSEGUID when ``house_known``)."""
    region_code = nsi.REGIONS[region]
    postal = f"{fake.random_int(140000, 144999)}" if region == "50" else fake.postcode()
    line = f"{postal}, {region_code.display}, г. {fake.city_name()}, {fake.street_name()}, д. {fake.random_int(1, 120)}"
    if flat:
        line += f", кв. {fake.random_int(1, 300)}"
    return Address(line, postal, region_code, fake.fias_guid(), fake.fias_guid() if house_known else None)


def make_person(fake: Faker, local_prefix: str) -> Person:
    """A person with consistent gender across family name, given name and patronymic."""
    male = fake.boolean()
    if male:
        family, given, patronymic = fake.last_name_male(), fake.first_name_male(), fake.middle_name_male()
    else:
        family, given, patronymic = fake.last_name_female(), fake.first_name_female(), fake.middle_name_female()
    return Person(
        local_id=f"{local_prefix}-{fake.random_int(1000, 9999999):07d}",
        snils=fake.snils_digits(),
        family=family,
        given=given,
        patronymic=patronymic,
        gender="1" if male else "2",
    )


def make_staff(fake: Faker, specialty: str, role: str = "1") -> Staff:
    """A doctor of ``specialty`` (a key of :data:`nsi.POSITIONS`)."""
    p = make_person(fake, "DOC")
    position, speciality = nsi.POSITIONS[specialty]
    return Staff(**vars(p), position=position, speciality=speciality, role=role)


def make_patient(fake: Faker, today: dt.date) -> Patient:
    """An adult patient with passport, ЕНП policy and an address in Moscow region."""
    p = make_person(fake, "PAT")
    birth = fake.date_between(today - dt.timedelta(days=85 * 365), today - dt.timedelta(days=19 * 365))
    passport_date = birth + dt.timedelta(days=20 * 365 + fake.random_int(0, 900))
    return Patient(
        **vars(p),
        birth_date=birth,
        address=make_address(fake, "50"),
        phone=_phone(fake, mobile=True),
        passport_series=f"46{fake.random_int(0, 99):02d}",
        passport_number=f"{fake.random_int(100000, 999999)}",
        passport_issuer="ГУ МВД России по Московской области",
        passport_issuer_code=f"500-{fake.random_int(1, 199):03d}",
        passport_date=min(passport_date, today - dt.timedelta(days=30)),
        policy_number=fake.oms_policy_number("50"),
        policy_since=dt.date(2011, 5, 1) + dt.timedelta(days=fake.random_int(0, 3000)),
    )


def make_organisation(fake: Faker, oid: str) -> Organisation:
    """The medical organisation with FRMO OID ``oid`` (demo name for the demo OID)."""
    town = fake.city_name()
    name = f'ГБУЗ МО "{town} городская больница"'
    if oid == DEMO_ORGANIZATION:
        name = 'ГБУЗ МО "Демонстрационная областная больница"'
    return Organisation(
        oid=oid,
        name=name,
        ogrn=fake.ogrn(),
        inn=fake.inn_legal(),
        phone=_phone(fake),
        address=make_address(fake, "50", house_known=False, flat=False),
        license=f"Л041-01162-50/{fake.random_int(100000, 999999):08d}",
    )


def make_created(fake: Faker, window: tuple[dt.date, int] | None = None) -> dt.datetime:
    """A working-hours moment between :data:`BASE_DATE` and a year and a half later (+03:00), or
    within ``window`` = (first day, number of days)."""
    first, days = window or (BASE_DATE, 540)
    day = first + dt.timedelta(days=fake.random_int(0, max(days, 0)))
    return dt.datetime(day.year, day.month, day.day, fake.random_int(8, 17), fake.random_int(0, 5) * 10, tzinfo=MSK)


def build_world(
    kind: str, seed: int, staffing: tuple[tuple[str, ...], ...], organization: str = DEMO_ORGANIZATION,
    window: tuple[dt.date, int] | None = None,
) -> World:
    """The world of document ``seed`` of ``kind``.

    ``staffing`` lists the possible teams (one specialty per doctor, the first signs as author and
    legal authenticator); the seed picks one.
    """
    fake = make_faker(seed * 1000 + int(kind))
    specialties = fake.random_element(staffing)
    created = make_created(fake, window)
    org = make_organisation(fake, organization)
    patient = make_patient(fake, created.date())
    doctors = tuple(make_staff(fake, s) for s in specialties)
    insurer = Insurer(
        code=f"50{fake.random_int(0, 999):03d}",
        name=f'АО "Страховая компания "{fake.last_name_male()}-Мед"',
        phone="+78001234567",
        address=make_address(fake, "50", flat=False),
    )
    return World(
        seed=seed,
        kind=kind,
        local_uid=fake.local_uid(),
        document_number=f"{kind}-{created:%Y}-{fake.random_int(1, 999999):06d}",
        created=created,
        organisation=org,
        patient=patient,
        doctors=doctors,
        insurer=insurer,
        case_id=f"CASE-{created:%Y}-{fake.random_int(1, 99999):05d}",
        card_id=f"AMB-{created:%Y}-{fake.random_int(1, 99999):05d}",
        fake=fake,
    )
