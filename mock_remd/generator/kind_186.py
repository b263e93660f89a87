"""Kind 186 — Протокол лабораторного исследования (CDA) Редакция 5 (templateId generation B).

Body: SPECIMENS (the specimen taken), ANALYSERS (the analyser used) and RESLAB (one battery of
"separate laboratory tests", each with value, units, interpretation and reference range).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from mock_remd.generator import nsi
from mock_remd.generator.body import section, structured_body
from mock_remd.generator.header import HeaderSpec, person_name, ts_minutes
from mock_remd.generator.model import World
from mock_remd.generator.xml import Code, coded, el

KIND = "186"
TEMPLATE_ID = "1.2.643.5.1.13.13.14.7.9.5"
STAFFING = (("lab",),)

# The dictionaries below are not in the cached FNSI exports: values as commonly used, unverified.
BIOMATERIAL = nsi._c("1.2.643.5.1.13.13.99.2.1019", "Виды биоматериала", "1.5")
TEST = nsi._c("1.2.643.5.1.13.13.11.1080", "Федеральный справочник лабораторных исследований. Справочник лабораторных тестов", "3.18")
UNIT = nsi._c("1.2.643.5.1.13.13.11.1358", "Единицы измерения", "3.6")
INTERPRETATION = nsi._c("1.2.643.5.1.13.13.99.2.257", "Референтные интервалы и интерпретация результатов", "1.2")
NORMAL_RESULT = INTERPRETATION("N", "Нормальный")
HIGH_RESULT = INTERPRETATION("H", "Выше нормы")
LOW_RESULT = INTERPRETATION("L", "Ниже нормы")

VENOUS_BLOOD = BIOMATERIAL("1", "Кровь венозная")

#: test, unit (code, UCUM-ish text), reference low, reference high, decimals
PANEL = [
    (TEST("1015807", "Глюкоза в крови"), UNIT("6", "ммоль/л"), Decimal("3.9"), Decimal("6.1"), 1),
    (TEST("1016120", "Холестерин общий в крови"), UNIT("6", "ммоль/л"), Decimal("3.0"), Decimal("5.2"), 1),
    (TEST("1016125", "Креатинин в крови"), UNIT("36", "мкмоль/л"), Decimal("62"), Decimal("115"), 0),
    (TEST("1015950", "Аланинаминотрансфераза (АЛТ) в крови"), UNIT("55", "Ед/л"), Decimal("7"), Decimal("40"), 0),
    (TEST("1015935", "Аспартатаминотрансфераза (АСТ) в крови"), UNIT("55", "Ед/л"), Decimal("10"), Decimal("40"), 0),
    (TEST("1016005", "Мочевина в крови"), UNIT("6", "ммоль/л"), Decimal("2.5"), Decimal("8.3"), 1),
]
ANALYSERS = ["Beckman Coulter AU480", "Mindray BS-240", "Roche Cobas c 311", "Sysmex XN-350"]


def header(world: World) -> HeaderSpec:
    """Header values of kind 186 (generation B templateId, code 7 of NSI 1522)."""
    return HeaderSpec(
        template_id=TEMPLATE_ID,
        code=nsi.DOC_TYPE("7", "Протокол лабораторного исследования"),
        translation=None,
        title="Протокол лабораторного исследования",
        ext_xsi_types=False,
        service_event=nsi.EVENT_TYPE("4", "Лабораторное исследование"),
        event_time_point=True,
        performer_snils=False,
        encounter_doc_type=False,
    )


def _pq(parent: etree._Element, tag: str, value: str, unit: Code, **extra: str) -> etree._Element:
    node = el(parent, tag, {"value": value, "unit": unit.display, **extra})
    el(node, "translation", {"value": value, **unit.attrs()})
    return node


def _performer(parent: etree._Element, world: World) -> None:
    entity = el(el(parent, "performer"), "assignedEntity")
    el(entity, "id", {"root": world.id_root("70"), "extension": world.author.local_id})
    coded(entity, "code", world.author.position)
    person_name(el(entity, "assignedPerson"), world.author, _SPEC)


_SPEC = HeaderSpec("", nsi.NORMAL, None, "", ext_xsi_types=False, service_event=nsi.NORMAL)


def _device(parent: etree._Element, world: World, device_id: str, model: str | None) -> None:
    role = el(el(parent, "participant", {"typeCode": "DEV"}), "participantRole", {"classCode": "ROL"})
    el(role, "id", {"root": world.id_root("67"), "extension": device_id})
    if model is not None:
        el(el(role, "playingDevice"), "manufacturerModelName", text=model)


def body(doc: etree._Element, world: World) -> None:
    """SPECIMENS, ANALYSERS and RESLAB with three to six tests of a biochemistry panel."""
    fake = world.fake
    assert fake is not None
    taken = world.created - dt.timedelta(hours=fake.random_int(3, 26))
    specimen_id = f"{taken:%y%m%d}{fake.random_int(1, 9999):04d}"
    device_id = f"AN-{fake.random_int(1, 99):02d}"
    model = fake.random_element(ANALYSERS)
    tests = fake.random_sample(PANEL, length=fake.random_int(3, len(PANEL)))
    sb = structured_body(doc)

    spec = section(sb, "SPECIMENS")
    el(spec, "text", text=f"Кровь венозная, взята {taken:%d.%m.%Y %H:%M}, образец № {specimen_id}.")
    org = el(el(spec, "entry"), "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"})
    el(org, "statusCode", {"code": "completed"})
    el(org, "effectiveTime", {"value": ts_minutes(taken)})
    proc = el(el(org, "component"), "procedure", {"classCode": "PROC", "moodCode": "EVN"})
    el(proc, "code", {"nullFlavor": "NI"})
    el(proc, "statusCode", {"code": "completed"})
    el(proc, "effectiveTime", {"value": ts_minutes(taken)})
    role = el(el(proc, "specimen"), "specimenRole")
    el(role, "id", {"root": world.id_root("66"), "extension": specimen_id})
    entity = el(role, "specimenPlayingEntity", {"classCode": "ENT", "determinerCode": "INSTANCE"})
    coded(entity, "code", VENOUS_BLOOD)
    _pq(entity, "quantity", "5", UNIT("22", "мл"))

    analysers = section(sb, "ANALYSERS")
    el(analysers, "text", text=f"Анализатор {model} (№ {device_id}).")
    org = el(el(analysers, "entry"), "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"})
    el(org, "statusCode", {"code": "completed"})
    _device(org, world, device_id, model)

    res = section(sb, "RESLAB")
    text = el(res, "text")
    tbody = el(el(text, "table"), "tbody")
    org = el(el(res, "entry"), "organizer", {"classCode": "CLUSTER", "moodCode": "EVN"})
    el(org, "statusCode", {"code": "completed"})
    battery = el(el(org, "component"), "organizer", {"classCode": "BATTERY", "moodCode": "EVN"})
    el(el(battery, "code", {"nullFlavor": "OTH"}), "originalText", text="Отдельные лабораторные тесты")
    el(battery, "statusCode", {"code": "completed"})
    done = world.created - dt.timedelta(minutes=30)
    for test, unit, low, high, decimals in tests:
        step = Decimal(1).scaleb(-decimals)
        span = high - low
        raw = low - span * Decimal("0.15") + span * Decimal(fake.random_int(0, 130)) / 100
        value = raw.quantize(step)
        flag = NORMAL_RESULT if low <= value <= high else (HIGH_RESULT if value > high else LOW_RESULT)
        tr = el(tbody, "tr")
        for cell in (test.display, f"{value} {unit.display}", f"{low}–{high}", flag.display):
            el(tr, "td", text=cell)
        obs = el(el(battery, "component"), "observation", {"classCode": "OBS", "moodCode": "EVN"})
        coded(obs, "code", test)
        el(obs, "statusCode", {"code": "completed"})
        el(obs, "effectiveTime", {"value": ts_minutes(done)})
        _pq(obs, "value", str(value), unit).set("{http://www.w3.org/2001/XMLSchema-instance}type", "PQ")
        coded(obs, "interpretationCode", flag)
        el(el(el(obs, "specimen"), "specimenRole"), "id", {"root": world.id_root("66"), "extension": specimen_id})
        _performer(obs, world)
        _device(obs, world, device_id, None)
        orange = el(el(obs, "referenceRange"), "observationRange")
        el(orange, "text", text=f"{low}–{high} {unit.display}")
        rng = el(orange, "value")
        rng.set("{http://www.w3.org/2001/XMLSchema-instance}type", "IVL_PQ")
        _pq(rng, "low", str(low), unit, inclusive="true")
        _pq(rng, "high", str(high), unit, inclusive="true")
