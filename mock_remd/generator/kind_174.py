"""Kind 174 — Протокол инструментального исследования (CDA) Редакция 4 (templateId generation B)."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from mock_remd.generator import nsi
from mock_remd.generator.body import (
    field,
    observation,
    section,
    structured_body,
    text_table,
    value_cd,
    value_st,
)
from mock_remd.generator.header import HeaderSpec, ts_minutes
from mock_remd.generator.model import World
from mock_remd.generator.xml import coded, el

KIND = "174"
TEMPLATE_ID = "1.2.643.5.1.13.13.14.6.9.4"
STAFFING = (("functional",), ("ultrasound",), ("radiologist",))

#: NSI 1.2.643.5.1.13.13.11.1471 (medical services nomenclature) is not cached: codes of the
#: Минздрав nomenclature, version unverified
SERVICE = nsi._c("1.2.643.5.1.13.13.11.1471", "Номенклатура медицинских услуг", "2.1")

#: specialty → [(service, ICD-10 code, ICD-10 name, protocol, conclusion)]
STUDIES = {
    "functional": [
        (SERVICE("A05.10.006", "Регистрация электрокардиограммы"), "I10", "Эссенциальная [первичная] гипертензия",
         "Ритм синусовый, ЧСС 72 в минуту. Электрическая ось сердца отклонена влево. PQ 0,16 с, QRS 0,09 с, QT 0,38 с.",
         "Синусовый ритм. Признаки гипертрофии левого желудочка."),
        (SERVICE("A05.10.006", "Регистрация электрокардиограммы"), "R00.0", "Тахикардия неуточненная",
         "Ритм синусовый, ЧСС 104 в минуту. Нормальное положение ЭОС. Интервалы в пределах нормы.",
         "Синусовая тахикардия."),
    ],
    "ultrasound": [
        (SERVICE("A04.10.002", "Эхокардиография"), "I11.9",
         "Гипертензивная [гипертоническая] болезнь с преимущественным поражением сердца без (застойной) сердечной недостаточности",
         "Аорта не расширена. ЛП 39 мм. КДР ЛЖ 50 мм, ФВ 62 %. МЖП 12 мм, ЗСЛЖ 11 мм. Клапаны без особенностей.",
         "Умеренная гипертрофия миокарда левого желудочка. Систолическая функция сохранена."),
        (SERVICE("A04.16.001", "Ультразвуковое исследование органов брюшной полости (комплексное)"), "K76.0",
         "Жировая дегенерация печени, не классифицированная в других рубриках",
         "Печень увеличена, КВР правой доли 162 мм, эхогенность повышена. Желчный пузырь без конкрементов.",
         "Эхопризнаки диффузных изменений печени по типу жирового гепатоза."),
    ],
    "radiologist": [
        (SERVICE("A06.09.007", "Рентгенография легких"), "J18.9", "Пневмония неуточненная",
         "В нижней доле правого лёгкого участок инфильтрации лёгочной ткани. Корни структурны. Синусы свободны.",
         "Рентгенологические признаки правосторонней нижнедолевой пневмонии."),
    ],
}


def header(world: World) -> HeaderSpec:
    """Header values of kind 174 (generation B templateId, code 6 of NSI 1522)."""
    return HeaderSpec(
        template_id=TEMPLATE_ID,
        code=nsi.DOC_TYPE("6", "Протокол инструментального исследования"),
        translation=None,
        title="Протокол инструментального исследования",
        ext_xsi_types=False,
        service_event=nsi.EVENT_TYPE("3", "Инструментальное исследование"),
    )


def _specialty(world: World) -> str:
    return next(k for k, (pos, _) in nsi.POSITIONS.items() if pos == world.author.position)


def body(doc: etree._Element, world: World) -> None:
    """DOCINFO (visit kind, diagnosis, place, the service performed) and RESINFO (number, protocol, conclusion)."""
    assert world.fake is not None
    service, icd, icd_name, protocol, conclusion = world.fake.random_element(STUDIES[_specialty(world)])
    number = f"{world.created:%y}-{world.fake.random_int(1, 99999):05d}"
    sb = structured_body(doc)
    info = section(sb, "DOCINFO")
    text_table(info, [("Исследование", service.display), ("Диагноз", f"{icd} {icd_name}"),
                      ("Обращение", "Первичное"), ("Место проведения", "Амбулаторно-поликлиническое учреждение")])
    value_cd(observation(info, field("800", "Обращение")), nsi.VISIT_KIND("1", "Первичный"))
    value_cd(observation(info, field("838", "Диагноз")), nsi.MKB10(icd, icd_name))
    value_cd(observation(info, field("801", "Место проведения")),
             nsi.CARE_PLACE("1", "Амбулаторно-поликлиническое учреждение"))
    act = el(el(info, "entry"), "act", {"classCode": "ACT", "moodCode": "EVN"})
    coded(act, "code", service)
    period = el(act, "effectiveTime")
    el(period, "low", {"value": ts_minutes(world.created - dt.timedelta(minutes=40))})
    el(period, "high", {"value": ts_minutes(world.created - dt.timedelta(minutes=20))})

    res = section(sb, "RESINFO")
    text_table(res, [("Номер протокола", number), ("Протокол", protocol), ("Заключение", conclusion)])
    value_st(observation(res, field("8024", "Номер протокола инструментального исследования")), number)
    value_st(observation(res, field("1805", "Протокол инструментального исследования")), protocol)
    value_st(observation(res, field("1806", "Заключение инструментального исследования")), conclusion)
