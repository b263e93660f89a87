"""Types of links between registered documents (``associations/association/type``).

The registry's own dictionary of link types (NSI 1.2.643.5.1.13.13.99.2.122 per the issue) is not
public here, so no numeric code is built in: any type is accepted and recorded as sent. Known by
name are the HL7 CDA R2 document relationships (``x_ActRelationshipDocument``, the same codes as
``relatedDocument/@typeCode``); more names come from the ``association_types`` setting.
"""

from __future__ import annotations

#: HL7 CDA R2 ``x_ActRelationshipDocument``: code -> name
CDA_RELATIONSHIPS: dict[str, str] = {
    "RPLC": "Замещает (новая версия документа)",
    "APND": "Дополняет документ",
    "XFRM": "Преобразование документа",
}


def type_name(code: str, extra: dict[str, str] | None = None) -> str:
    """The name of a link type: from ``extra`` (settings) first, then the CDA relationships; "" when unknown."""
    code = (code or "").strip()
    if extra and code in extra:
        return extra[code]
    return CDA_RELATIONSHIPS.get(code.upper(), "")
