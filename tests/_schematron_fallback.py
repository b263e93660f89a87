"""TEMPORARY test helper: run an official ISO Schematron pack with saxonche directly.

Used by ``test_generator.py`` only while the project's Schematron layer is still a placeholder
(``mock_remd/validation/layers/schematron_layer.py``). Once that layer runs, the tests switch to the
project's :class:`~mock_remd.validation.pipeline.Validator` and this module can be deleted.

It understands the subset the official packs use (``schema``/``ns``/``pattern``/``rule``/``assert``/
``report``), with ISO semantics "first matching rule of a pattern wins", and runs the rules on the
document with the default HL7 namespace removed, as the official validator does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree
from saxonche import PySaxonProcessor

SCH = "http://purl.oclc.org/dsdl/schematron"
_PROC = PySaxonProcessor(license=False)


def _compile(sch_path: Path) -> str:
    tree = etree.parse(str(sch_path))
    nss = {n.get("prefix"): n.get("uri") for n in tree.iter(f"{{{SCH}}}ns")}
    decl = " ".join(f"xmlns:{p}={quoteattr(u)}" for p, u in nss.items())
    out = [
        '<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" ' + decl + ">",
        '<xsl:output method="xml" indent="no"/>',
    ]
    patterns = list(tree.iter(f"{{{SCH}}}pattern"))
    out.append('<xsl:template match="/"><r>')
    for i in range(len(patterns)):
        out.append(f'<xsl:apply-templates select="/" mode="M{i}"/>')
    out.append("</r></xsl:template>")
    for i, pattern in enumerate(patterns):
        rules = list(pattern.iter(f"{{{SCH}}}rule"))
        for j, rule in enumerate(rules):
            out.append(f"<xsl:template match={quoteattr(rule.get('context'))} priority=\"{1000 - j}\" mode=\"M{i}\">")
            for check in rule:
                if not isinstance(check.tag, str):
                    continue
                name = etree.QName(check).localname
                text = " ".join("".join(check.itertext()).split())
                test = check.get("test")
                cond = f"not({test})" if name == "assert" else test
                out.append(
                    f"<xsl:if test={quoteattr(cond)}><f loc=\"{{path()}}\">{_esc(text)}</f></xsl:if>"
                )
            out.append(f'<xsl:apply-templates select="@*|node()" mode="M{i}"/></xsl:template>')
        out.append(f'<xsl:template match="text()" priority="-1" mode="M{i}"/>')
        out.append(
            f'<xsl:template match="@*|node()" priority="-2" mode="M{i}">'
            f'<xsl:apply-templates select="@*|node()" mode="M{i}"/></xsl:template>'
        )
    out.append("</xsl:stylesheet>")
    return "\n".join(out)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("{", "{{").replace("}", "}}")


@functools.lru_cache(maxsize=8)
def _executable(sch_path: str):
    xslt = _PROC.new_xslt30_processor()
    return xslt.compile_stylesheet(stylesheet_text=_compile(Path(sch_path)))


def failures(sch_path: Path, document: bytes) -> list[str]:
    """Failed asserts and fired reports of the pack for ``document`` (``"<text> @ <path>"``)."""
    text = document.decode("utf-8").replace('xmlns="urn:hl7-org:v3"', "")
    node = _PROC.parse_xml(xml_text=text)
    result = _executable(str(sch_path)).transform_to_string(xdm_node=node)
    root = etree.fromstring(result.encode("utf-8"))
    return [f"{f.text} @ {f.get('loc').replace('Q{}', '')}" for f in root]


class _BackslashResolver(etree.Resolver):
    """The official packs write ``schemaLocation="coreschemas\\x.xsd"``: read them as ``/``."""

    def resolve(self, url, pubid, context):
        fixed = url.replace("%5C", "/").replace("%5c", "/").replace("\\", "/")
        if fixed != url:
            return self.resolve_filename(fixed.removeprefix("file://"), context)
        return None


@functools.lru_cache(maxsize=8)
def _schema(xsd_path: str) -> etree.XMLSchema:
    parser = etree.XMLParser()
    parser.resolvers.add(_BackslashResolver())
    return etree.XMLSchema(etree.parse(xsd_path, parser))


def xsd_errors(xsd_path: Path, document: bytes) -> list[str]:
    """XSD errors of ``document`` against the pack's ``CDA.xsd`` (lxml, libxml2 messages)."""
    schema = _schema(str(xsd_path))
    ok = schema.validate(etree.fromstring(document))
    return [] if ok else [f"{e.line}: {e.message}" for e in schema.error_log]
