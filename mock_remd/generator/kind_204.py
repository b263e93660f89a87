"""Kind 204 — Медицинское заключение (CDA) Редакция 1 (templateId generation C).

Generation C: ``templateId`` ``1.2.643.5.1.13.13.15.105.1``, ``code`` 105 of NSI 99.2.1079 with a
``translation`` to 204 of NSI 1520 (both asserted by ``204.sch``).
"""

from __future__ import annotations

from lxml import etree

from mock_remd.generator import nsi
from mock_remd.generator.body import (
    field,
    observation,
    section,
    structured_body,
    value_cd,
)
from mock_remd.generator.header import HeaderSpec
from mock_remd.generator.model import World

KIND = "204"
TEMPLATE_ID = "1.2.643.5.1.13.13.15.105.1"
STAFFING = (("therapist",), ("district_therapist",), ("neurologist",), ("ophthalmologist",))

#: NSI 99.2.725 (conclusion results) is not in the cached exports: values as commonly used, unverified
CONCLUSION_RESULT = nsi._c("1.2.643.5.1.13.13.99.2.725", "Результаты медицинских заключений", "1.1")
RESULTS = [
    (CONCLUSION_RESULT("1", "Медицинские противопоказания не выявлены"),
     "Медицинских противопоказаний не выявлено."),
    (CONCLUSION_RESULT("2", "Выявлены медицинские противопоказания"),
     "Выявлены медицинские противопоказания, требуется дообследование."),
]
#: NSI 99.2.368 (roles in the documented event) is not cached either: value as commonly used, unverified
COMMISSION_ROLE = nsi._c("1.2.643.5.1.13.13.99.2.368", "Роли лиц, участвующих в оказании медицинской услуги", "1.1")
#: 1522 document types a medical conclusion is issued as (field 11005 "Вид документа")
CONCLUSION_TYPES = [
    nsi.DOC_TYPE("176", "Медицинское заключение о пригодности или непригодности к выполнению отдельных видов работ"),
    nsi.DOC_TYPE("179", "Медицинское заключение о допуске к участию в физкультурных и спортивных мероприятиях "
                        "(тренировочных мероприятиях и спортивных соревнованиях), мероприятиях по оценке выполнения "
                        "нормативов испытаний (тестов) Всероссийского физкультурно-спортивного комплекса "
                        "\"Готов к труду и обороне\" (ГТО)"),
    nsi.DOC_TYPE("377", "Медицинское заключение об отсутствии медицинских противопоказаний к работе на судне"),
    nsi.DOC_TYPE("467", "Медицинское заключение о состоянии здоровья гражданина, проходящего альтернативную "
                        "гражданскую службу"),
]


def header(world: World) -> HeaderSpec:
    """Header values of kind 204 (generation C code with translation)."""
    return HeaderSpec(
        template_id=TEMPLATE_ID,
        code=nsi.SEMD_KIND("105", "Медицинское заключение"),
        translation=nsi.EMD_KIND("204", "Медицинское заключение (CDA) Редакция 1"),
        title="Медицинское заключение",
        ext_xsi_types=False,
        service_event=nsi.EVENT_TYPE("5", "Врачебная комиссия"),
        performer_function=COMMISSION_ROLE("1", "Председатель врачебной комиссии"),
    )


def body(doc: etree._Element, world: World) -> None:
    """DOCINFO with the conclusion's document type (11005) and result (837).

    The kind's XSD allows no narrative ``text`` in its sections: the entries carry everything.
    """
    assert world.fake is not None
    doc_type = world.fake.random_element(CONCLUSION_TYPES)
    result, _text = world.fake.random_element(RESULTS)
    sb = structured_body(doc)
    info = section(sb, "DOCINFO")
    value_cd(observation(info, field("11005", "Вид документа")), doc_type)
    value_cd(observation(info, field("837", "Заключение")), result)
