"""Any CDA kind of the catalog: the shared header written for that kind, a short narrative body.

Used for kinds without a hand-made builder. The templateId and ``code`` follow the kind's generation
(semd.md §1.2): generation C writes GIT_LINK with code from NSI 99.2.1079 and a ``translation`` to the
NSI 1520 id, generations A/B write the asserted (or derived) templateId with the 1522 type. With an
installed pack, :mod:`.pack_kind` adds what the pack's Schematron requires of every document.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lxml import etree

from mock_remd.catalog.kinds import Kind
from mock_remd.generator import nsi
from mock_remd.generator.body import section, structured_body, text_paragraph
from mock_remd.generator.header import HeaderSpec
from mock_remd.generator.model import World

STAFFING = (("therapist",), ("district_therapist",), ("neurologist",))


def title_of(kind: Kind) -> str:
    """The document title: the kind's name without "(CDA) Редакция N"."""
    return re.sub(r"\s*\((?:CDA|СDA)\)\s*(Редакция\s*\d+)?\s*$", "", kind.name).strip() or kind.name


def header_for(kind: Kind, template_id: str | None = None, catalog_version: str = "",
               ext_xsi_types: bool = False, packed: bool = False) -> HeaderSpec:
    """Header values of ``kind`` (``template_id`` overrides the catalog's, e.g. the installed pack's;
    ``catalog_version`` is the NSI 1520 version the ``translation`` cites; ``ext_xsi_types`` writes
    ``xsi:type`` on the RU extension elements, as packs built on the generic HL7 XSD need; ``packed``:
    the kind's pack will shape the rest, so optional extensions whose type packs disagree on, such as
    ``medService:DocType``, are left to it)."""
    tid = template_id or kind.document_template_id()
    title = title_of(kind)
    if tid == kind.git_link and kind.semd_type:
        code = nsi.SEMD_KIND(kind.semd_type, kind.semd_type_name or title)
        translation = nsi.EMD_KIND(kind.id, kind.name)
        if catalog_version:
            translation = replace(translation, version=catalog_version)
    else:
        code = nsi.DOC_TYPE(kind.type_1522, kind.type_name or title)
        translation = None
    return HeaderSpec(
        template_id=tid, code=code, translation=translation, title=title, ext_xsi_types=ext_xsi_types, encounter_doc_type=not packed,
        service_event=nsi.EVENT_TYPE("1", "Консультация"),
    )


def body(doc: etree._Element, world: World) -> None:
    """A structured body with one narrative conclusion section."""
    assert world.fake is not None
    sb = structured_body(doc)
    sec = section(sb, "RESINFO")
    text_paragraph(sec, "Состояние удовлетворительное. Рекомендации даны.")
