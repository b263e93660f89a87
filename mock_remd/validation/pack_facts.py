"""Facts read from an official pack's files: the templateId roots its Schematron and XSD demand.

The official Schematrons assert the document's ``templateId/@root`` in a rule on
``ClinicalDocument/templateId`` (sometimes with a predicate, ``ClinicalDocument[code[@code='5']]/templateId``),
or in an assert on ``ClinicalDocument`` (``templateId/@root='…'``). The kind's own XSD fixes it with
``<xs:attribute name="root" … fixed="…"/>`` inside the ``templateId`` element; the generic HL7 CDA
XSD set does not.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from lxml import etree

from mock_remd.xmlsafe import UnsafeXmlError, XmlTooLargeError, parse_bytes

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
XS_NS = "http://www.w3.org/2001/XMLSchema"
_OID = re.compile(r"['\"](1\.2\.643\.[0-9.]*[0-9])['\"]")
_TEMPLATE_CONTEXT = re.compile(r"^/?ClinicalDocument(\[.*\])?/templateId$")
_TEMPLATE_TEST = re.compile(r"templateId(?:\[[^\]]*\])?/@root\s*=\s*\(?\s*((?:['\"][0-9.]+['\"]\s*,?\s*)+)")


def _parse(data: bytes) -> etree._Element | None:
    try:
        return parse_bytes(data)
    except (etree.XMLSyntaxError, UnsafeXmlError, XmlTooLargeError):
        return None


def _substitute(test: str, lets: dict[str, str]) -> str:
    """``test`` with ``$name`` replaced by the value of the ``let`` of that name (where known)."""
    return re.sub(r"\$([\w.-]+)", lambda m: lets.get(m.group(1), m.group(0)), test)


#: sha256 of a .sch -> its templateId roots: a memo of a pure function of the bytes (no setting, no
#: file), so that reading a folder of 95 packs without ``packs.json`` parses each Schematron once
_SCH_TEMPLATE_IDS: dict[bytes, tuple[str, ...]] = {}


def schematron_template_ids(data: bytes) -> tuple[str, ...]:
    """templateId roots a Schematron (bytes of a ``.sch``) asserts for ``ClinicalDocument``, in order."""
    digest = hashlib.sha256(data).digest()
    found = _SCH_TEMPLATE_IDS.get(digest)
    if found is None:
        found = _SCH_TEMPLATE_IDS[digest] = _schematron_template_ids(data)
    return found


def _schematron_template_ids(data: bytes) -> tuple[str, ...]:
    root = _parse(data)
    if root is None:
        return ()
    out: list[str] = []
    globals_ = {let.get("name"): let.get("value") or "" for let in root.findall(f"{{{SCH_NS}}}let")}
    for rule in root.iter(f"{{{SCH_NS}}}rule"):
        context = re.sub(r"\s+", "", rule.get("context") or "")
        lets = dict(globals_)
        lets.update({let.get("name"): let.get("value") or "" for let in rule.findall(f"{{{SCH_NS}}}let")})
        for check in rule.iter(f"{{{SCH_NS}}}assert"):
            test = _substitute(check.get("test") or "", lets)
            if _TEMPLATE_CONTEXT.match(context) and "@root" in test:
                out.extend(_OID.findall(test))
            elif context in ("ClinicalDocument", "/ClinicalDocument"):
                for group in _TEMPLATE_TEST.findall(test):
                    out.extend(_OID.findall(group))
    return tuple(dict.fromkeys(t for t in out if t != "2.16.840.1.113883.1.3"))


def xsd_template_ids(path: Path) -> tuple[str, ...]:
    """templateId roots fixed by an XSD file (the kind's own ``CDA.xsd``); empty for the generic CDA set."""
    try:
        root = _parse(path.read_bytes())
    except OSError:
        return ()
    if root is None:
        return ()
    out = []
    for element in root.iter(f"{{{XS_NS}}}element"):
        if element.get("name") != "templateId":
            continue
        for attr in element.iter(f"{{{XS_NS}}}attribute"):
            if attr.get("name") == "root" and attr.get("fixed"):
                out.append(attr.get("fixed"))
    return tuple(dict.fromkeys(out))
