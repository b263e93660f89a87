"""Kind 119 — Протокол консультации (CDA) Редакция 4 (templateId generation A, code 5 of NSI 1522)."""

from __future__ import annotations

from lxml import etree

from mock_remd.generator import nsi
from mock_remd.generator.body import (
    field,
    observation,
    section,
    structured_body,
    text_paragraph,
    text_table,
    value_cd,
    value_st,
)
from mock_remd.generator.header import HeaderSpec
from mock_remd.generator.model import World

KIND = "119"
TEMPLATE_ID = "1.2.643.5.1.13.2.7.5.1.5.9.4"
STAFFING = (("cardiologist",), ("neurologist",), ("endocrinologist",), ("ophthalmologist",), ("therapist",))

#: specialty → (ICD-10 code, ICD-10 name, anamnesis, objective findings, conclusion)
CASES = {
    "cardiologist": [
        ("I11.9", "Гипертензивная [гипертоническая] болезнь с преимущественным поражением сердца без (застойной) сердечной недостаточности",
         "Около шести лет отмечает подъёмы давления до 170/100 мм рт. ст., принимает периндоприл 5 мг утром.",
         "Тоны сердца ясные, ритм правильный. АД 145/90 мм рт. ст., пульс 74 в минуту.",
         "Гипертоническая болезнь II стадии, контролируемая. Продолжить терапию, контроль АД дважды в день."),
        ("I20.8", "Другие формы стенокардии",
         "Давящие боли за грудиной при подъёме на третий этаж, проходят в покое за 3–5 минут.",
         "Ритм правильный, ЧСС 68 в минуту, АД 130/80 мм рт. ст., отёков нет.",
         "Стабильная стенокардия напряжения, ФК II. Рекомендовано нагрузочное тестирование."),
    ],
    "neurologist": [
        ("G44.2", "Головная боль напряженного типа",
         "Двусторонние сжимающие головные боли к вечеру, связывает с работой за компьютером.",
         "Очаговой неврологической симптоматики нет, напряжение перикраниальных мышц.",
         "Головная боль напряжения, эпизодическая. Режим труда и отдыха, ЛФК шейного отдела."),
    ],
    "endocrinologist": [
        ("E11.9", "Инсулиннезависимый сахарный диабет без осложнений",
         "Сахарный диабет 2 типа выявлен три года назад, принимает метформин 1000 мг дважды в день.",
         "Состояние удовлетворительное, ИМТ 29,4 кг/м2, стопы без изменений.",
         "Сахарный диабет 2 типа, целевой HbA1c менее 7,0 %. Контроль гликемии, диета."),
    ],
    "ophthalmologist": [
        ("H52.1", "Миопия",
         "Снижение зрения вдаль с детства, очки не носит последние два года.",
         "Visus OD 0,3 sph -1,5 = 1,0; OS 0,4 sph -1,25 = 1,0. Глазное дно без патологии.",
         "Миопия слабой степени обоих глаз. Подбор очковой коррекции."),
    ],
    "therapist": [
        ("J06.9", "Острая инфекция верхних дыхательных путей неуточненная",
         "Заболел три дня назад: насморк, першение в горле, температура до 37,8.",
         "Зев гиперемирован, дыхание везикулярное, хрипов нет. Температура 37,2.",
         "ОРВИ, лёгкое течение. Симптоматическая терапия, обильное питьё."),
    ],
}


LIFE = [
    "Перенесённые заболевания: детские инфекции, аппендэктомия в 2009 г. Аллергических реакций не отмечает. Не курит.",
    "Хронический гастрит вне обострения. Аллергоанамнез спокойный. Курит до 10 сигарет в день.",
    "Операций и травм не было. Лекарственной непереносимости нет. Алкоголь эпизодически.",
    "Наследственность отягощена по сердечно-сосудистым заболеваниям. Аллергия на пенициллин.",
]


def header(world: World) -> HeaderSpec:
    """Header values of kind 119."""
    return HeaderSpec(
        template_id=TEMPLATE_ID,
        code=nsi.DOC_TYPE("5", "Протокол консультации"),
        translation=None,
        title=f"Протокол консультации: {world.author.position.display.lower()}",
        ext_xsi_types=True,
        service_event=nsi.EVENT_TYPE("1", "Консультация"),
    )


def _case(world: World) -> tuple[str, str, str, str, str]:
    specialty = next(k for k, (pos, _) in nsi.POSITIONS.items() if pos == world.author.position)
    assert world.fake is not None
    return world.fake.random_element(CASES[specialty])


def body(doc: etree._Element, world: World) -> None:
    """DOCINFO (diagnosis code, visit kind, place), ANAM, LANAM, RESCONS with a nested DGN."""
    icd, icd_name, anamnesis, objective, conclusion = _case(world)
    sb = structured_body(doc)
    info = section(sb, "DOCINFO", "Общие сведения")
    text_table(info, [("Шифр по МКБ-10", f"{icd} {icd_name}"), ("Обращение", "Первичное"),
                      ("Место проведения", "Амбулаторно-поликлиническое учреждение")])
    value_cd(observation(info, field("809", "Шифр по МКБ-10")), nsi.MKB10(icd, icd_name))
    value_cd(observation(info, field("800", "Обращение")), nsi.VISIT_KIND("1", "Первичный"))
    value_cd(observation(info, field("801", "Место проведения")),
             nsi.CARE_PLACE("1", "Амбулаторно-поликлиническое учреждение"))

    anam = section(sb, "ANAM")
    text_paragraph(anam, anamnesis)
    value_st(observation(anam, field("7006", "Текстовое описание")), anamnesis)

    assert world.fake is not None
    life = world.fake.random_element(LIFE)
    lanam = section(sb, "LANAM")
    text_paragraph(lanam, life)
    value_st(observation(lanam, field("7006", "Текстовое описание")), life)

    cons = section(sb, "RESCONS", "Консультация")
    text_table(cons, [("Состояние", "Удовлетворительное"), ("Объективно", objective), ("Заключение", conclusion)])
    value_cd(observation(cons, field("804", "Состояние пациента")), nsi.SEVERITY("1", "Удовлетворительное"))
    value_st(observation(cons, field("805", "Протокол консультации")), objective)
    value_st(observation(cons, field("806", "Заключение консультации")), conclusion)
    dgn = section(cons, "DGN")
    text_paragraph(dgn, f"{conclusion} ({icd})")
    value_st(observation(dgn, field("806", "Заключение консультации")), f"{conclusion} ({icd})")
