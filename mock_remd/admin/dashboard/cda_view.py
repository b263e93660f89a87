"""The document as people read it: CDA → HTML with the bundled XSLT, and XML with highlighted lines."""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from markupsafe import Markup

from mock_remd.admin.dashboard import i18n
from mock_remd.xmlsafe import parse_bytes

_XSL_PATH = Path(__file__).with_name("cda.xsl")
_local = threading.local()
MAX_XML_LINES = 20000

_COMMENT = re.compile(r"(&lt;!--.*?--&gt;)")
_TAG = re.compile(r"(&lt;/?|&lt;\?)([\w:.-]+)")
_ATTR = re.compile(r"([\w:.-]+)=(&quot;.*?&quot;|&#x27;.*?&#x27;)")


def _transform() -> etree.XSLT:
    # XSLT objects are not shared between threads; one per thread, no file or network access
    xslt = getattr(_local, "xslt", None)
    if xslt is None:
        xslt = etree.XSLT(etree.parse(str(_XSL_PATH)), access_control=etree.XSLTAccessControl.DENY_ALL)
        _local.xslt = xslt
    return xslt


#: the stylesheet's label parameters (``$l-date`` …), each the i18n key ``cda.<name>``
_LABEL_PARAMS = ("l-date", "l-patient", "l-snils", "l-author", "l-signed", "l-org", "l-not-cda")


def render_cda(content: bytes | None, lang: str = i18n.DEFAULT_LANG) -> Markup | None:
    """The readable HTML of a CDA document with its labels in ``lang``, or None when it cannot be parsed."""
    if not content:
        return None
    t = i18n.translator(lang)
    labels = {name: etree.XSLT.strparam(t(f"cda.{name}")) for name in _LABEL_PARAMS}
    try:
        tree = parse_bytes(content)
        result = _transform()(etree.ElementTree(tree), **labels)
    except Exception:
        return None
    return Markup(str(result))


@dataclass
class XmlLine:
    """One line of the highlighted source."""

    number: int
    html: Markup
    failing: bool
    notes: str


def _highlight(line: str) -> str:
    text = html.escape(line, quote=True)
    pieces = _COMMENT.split(text)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            out.append(f'<span class="x-c">{piece}</span>')
            continue
        piece = _ATTR.sub(r'<span class="x-a">\1</span>=<span class="x-v">\2</span>', piece)
        piece = _TAG.sub(r'\1<span class="x-t">\2</span>', piece)
        out.append(piece)
    return "".join(out)


def xml_lines(content: bytes | None, notes: dict[int, list[str]]) -> list[XmlLine]:
    """The source split into highlighted lines; lines named in ``notes`` are marked as failing."""
    if not content:
        return []
    text = content.decode("utf-8", errors="replace")
    lines = text.splitlines()[:MAX_XML_LINES]
    return [
        XmlLine(n, Markup(_highlight(line)), n in notes, "\n".join(notes.get(n, [])))
        for n, line in enumerate(lines, 1)
    ]


def notes_by_line(layers: list[dict]) -> dict[int, list[str]]:
    """``line -> ["CODE: message", …]`` from the findings of stored layers."""
    out: dict[int, list[str]] = {}
    for layer in layers or []:
        for f in layer.get("findings") or []:
            if f.get("line"):
                out.setdefault(int(f["line"]), []).append(f"{f.get('code')}: {f.get('message')}")
    return out
