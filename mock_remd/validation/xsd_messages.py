"""Xerces-style (``cvc-…``) texts for XSD errors, as the registry reports them.

lxml (libxml2) is the fast path; it stops checking an element's remaining children after the
first content-model error there, while Xerces (the registry's validator) keeps going. So when lxml
finds a document invalid we ask ``xmlschema`` for the complete list and word it like Xerces; the
lxml log is the fallback when xmlschema cannot load the pack.
"""

from __future__ import annotations

import re
from typing import Any

from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.report import Finding

_CLARK = re.compile(r"\{[^}]*\}")
_ATTR_IN_REASON = re.compile(r"attribute ([\w:.\-{}]+)=")


def _local(name: str | None) -> str:
    return _CLARK.sub("", name or "")


def _xerces_qname(name: str | None) -> str:
    """``{urn:hl7-org:v3}code`` → ``"urn:hl7-org:v3":code`` (Xerces' spelling in expected lists)."""
    m = re.match(r"\{([^}]*)\}(.*)", name or "")
    return f'"{m.group(1)}":{m.group(2)}' if m else (name or "")


def _particle_name(particle: Any) -> str:
    """An expected particle as Xerces names it: the element's qualified name, a wildcard as ``WC[##any]``
    (never the schema object's repr)."""
    name = getattr(particle, "name", None)
    if name:
        return _xerces_qname(name)
    namespaces = getattr(particle, "namespace", None) or ["##any"]
    names = [namespaces] if isinstance(namespaces, str) else sorted(str(n) for n in namespaces)
    return "WC[" + ",".join(names) + "]"


def finding(code: str, text: str, line: int | None, path: str = "") -> Finding:
    """A ``VALIDATION_ERROR`` finding for one Xerces-style message (the line is appended)."""
    where = finding_text("xsd.line", line=line) if line else ""
    message = finding_text("xsd.finding", code=code, text=text, where=where)
    return Finding("VALIDATION_ERROR", message, rule=code, path=path, line=line)


def _element_path(elem: Any) -> str:
    """``/ClinicalDocument[1]/recordTarget[1]`` for an lxml element (no namespaces)."""
    steps = []
    node = elem
    while node is not None and isinstance(getattr(node, "tag", None), str):
        parent = node.getparent()
        if parent is None:
            steps.append(f"{_local(node.tag)}[1]")
        else:
            same = [c for c in parent if c.tag == node.tag]
            steps.append(f"{_local(node.tag)}[{same.index(node) + 1}]")
        node = parent
    return "/" + "/".join(reversed(steps))


def _type_name(validator: Any) -> str:
    for cand in (getattr(validator, "parent", None), validator):
        name = getattr(cand, "local_name", None) or _local(getattr(cand, "name", None))
        if name:
            return name
    return "anonymous"


#: the reason of an xmlschema error that gives none (xmlschema always does for validation errors)
_NO_REASON = "The value is not valid."


def from_xmlschema(error: Any) -> list[Finding]:
    """Findings for one ``xmlschema`` validation error, worded like Xerces."""
    cls = type(error).__name__
    elem = getattr(error, "elem", None)
    line = getattr(elem, "sourceline", None)
    path = _element_path(elem) if elem is not None else ""
    elem_name = _local(getattr(elem, "tag", ""))
    reason = error.reason or _NO_REASON  # never the error's str(): xmlschema's whole multi-line dump
    if cls == "XMLSchemaChildrenValidationError":
        expected = [_particle_name(particle) for particle in (error.expected or [])]
        one_of = f" One of '{{{', '.join(expected)}}}' is expected." if expected else ""
        if error.invalid_tag is not None:
            index = getattr(error, "index", None)
            child = elem[index] if elem is not None and index is not None and 0 <= index < len(elem) else None
            child_line = getattr(child, "sourceline", None) or line
            child_path = _element_path(child) if child is not None else path
            tail = one_of or " No child element is expected at this point."
            code = "cvc-complex-type.2.4.a" if one_of else "cvc-complex-type.2.4.d"
            text = f"Invalid content was found starting with element '{_local(error.invalid_tag)}'.{tail}"
            return [finding(code, text, child_line, child_path)]
        return [
            finding(
                "cvc-complex-type.2.4.b",
                f"The content of element '{elem_name}' is not complete.{one_of}",
                line,
                path,
            )
        ]
    validator_cls = type(getattr(error, "validator", None)).__name__
    attr_match = _ATTR_IN_REASON.search(reason)
    attr = _local(attr_match.group(1)) if attr_match else ""
    value = error.obj if isinstance(error.obj, str) else ""
    type_name = _type_name(error.validator)
    out: list[Finding] = []
    if "Pattern" in validator_cls:
        patterns = getattr(error.validator, "regexps", None) or []
        pattern = patterns[0] if patterns else ""
        out.append(
            finding(
                "cvc-pattern-valid",
                f"Value '{value}' is not facet-valid with respect to pattern '{pattern}' for type '{type_name}'.",
                line,
                path,
            )
        )
    elif "Enumeration" in validator_cls:
        options = ", ".join(str(v) for v in (getattr(error.validator, "enumeration", None) or []))
        out.append(
            finding(
                "cvc-enumeration-valid",
                f"Value '{value}' is not facet-valid with respect to enumeration '[{options}]'. "
                "It must be a value from the enumeration.",
                line,
                path,
            )
        )
    elif "not allowed" in reason and "attribute" in reason:
        name = re.search(r"'([^']+)'", reason)
        attr_name = _local(name.group(1)) if name else attr
        return [
            finding(
                "cvc-complex-type.3.2.2",
                f"Attribute '{attr_name}' is not allowed to appear in element '{elem_name}'.",
                line,
                path,
            )
        ]
    elif "missing required attribute" in reason:
        name = re.search(r"'([^']+)'", reason)
        attr_name = _local(name.group(1)) if name else ""
        return [
            finding(
                "cvc-complex-type.4",
                f"Attribute '{attr_name}' must appear on element '{elem_name}'.",
                line,
                path,
            )
        ]
    elif "Facet" in validator_cls:
        facet = validator_cls.replace("Xsd", "").replace("Facets", "").replace("Facet", "")
        code = "cvc-" + re.sub(r"(?<!^)([A-Z])", r"-\1", facet).lower() + "-valid"
        out.append(
            finding(
                code,
                f"Value '{value}' is not facet-valid for type '{type_name}': {_local(reason)}",
                line,
                path,
            )
        )
    else:
        out.append(
            finding(
                "cvc-datatype-valid.1.2.1",
                f"'{value}' is not a valid value for '{type_name}'. {_local(reason)}",
                line,
                path,
            )
        )
    if attr:
        out.append(
            finding(
                "cvc-attribute.3",
                f"The value '{value}' of attribute '{attr}' on element '{elem_name}' is not valid with respect to its type, "
                f"'{type_name}'.",
                line,
                path,
            )
        )
    else:
        out.append(
            finding(
                "cvc-type.3.1.3", f"The value '{value}' of element '{elem_name}' is not valid.", line, path
            )
        )
    return out


_LIBXML_CODES = {
    "SCHEMAV_ELEMENT_CONTENT": "cvc-complex-type.2.4.a",
    "SCHEMAV_CVC_PATTERN_VALID": "cvc-pattern-valid",
    "SCHEMAV_CVC_ENUMERATION_VALID": "cvc-enumeration-valid",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_1": "cvc-complex-type.3.2.1",
    "SCHEMAV_CVC_COMPLEX_TYPE_3_2_2": "cvc-complex-type.3.2.2",
    "SCHEMAV_CVC_COMPLEX_TYPE_4": "cvc-complex-type.4",
    "SCHEMAV_CVC_DATATYPE_VALID_1_2_1": "cvc-datatype-valid.1.2.1",
    "SCHEMAV_CVC_ELT_1": "cvc-elt.1",
    "SCHEMAV_CVC_TYPE_3_1_1": "cvc-type.3.1.1",
    "SCHEMAV_CVC_TYPE_3_1_2": "cvc-type.3.1.2",
    "SCHEMAV_CVC_LENGTH_VALID": "cvc-length-valid",
    "SCHEMAV_CVC_MINLENGTH_VALID": "cvc-minLength-valid",
    "SCHEMAV_CVC_MAXLENGTH_VALID": "cvc-maxLength-valid",
}


def from_lxml(entry: Any) -> Finding:
    """A finding for one libxml2 schema error (``lxml.etree._LogEntry``)."""
    code = _LIBXML_CODES.get(
        entry.type_name, "cvc-" + entry.type_name.removeprefix("SCHEMAV_").lower().replace("_", "-")
    )
    message = _local(entry.message)
    if entry.type_name == "SCHEMAV_ELEMENT_CONTENT" and "Missing child element" in message:
        code = "cvc-complex-type.2.4.b"
    return finding(code, message, entry.line or None, "")
