"""Which ``ClinicalDocument`` parts a kind's official pack requires, read from its Schematron.

The header rules that duplicate a pack's asserts (``legalAuthenticator``, ``informationRecipient``,
``custodian``, ``recordTarget`` …) apply exactly where the kind's pack requires the element, so a
document the pack accepts is never refused by our copy of its rule. The requirements come from, in
order: the kind's pack installed in the packs directory; the table generated from the 95 published
packs (:mod:`mock_remd.validation.cda.published_requirements`); else the HL7 CDA R2 schema alone
(the parts every CDA document has, whatever its kind and edition).

"Requires" is read from the asserts of the rules whose context is ``ClinicalDocument``: an assert
whose test is a conjunction containing ``count(X…)=N`` / ``>=N`` / ``>N`` with N ≥ 1, ``exists(X…)``,
or a bare path ``X[…]`` requires the element X.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from mock_remd.catalog.findings import text as finding_text
from mock_remd.validation.cda.published_requirements import PUBLISHED, PUBLISHED_SOURCE
from mock_remd.validation.pack_index import select_pack
from mock_remd.validation.schematron.xpath import split_operands

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
MINZDRAV_OID = "1.2.643.5.1.13"
#: ClinicalDocument children with lower bound 1 in the HL7 CDA R2 schema (POCD_MT000040.ClinicalDocument)
CDA_R2_REQUIRED = frozenset(
    {
        "typeId",
        "id",
        "code",
        "effectiveTime",
        "confidentialityCode",
        "recordTarget",
        "author",
        "custodian",
        "component",
    }
)
CDA_R2_SOURCE = "HL7 CDA R2 (POCD_MT000040.ClinicalDocument): no official pack of this kind is known"

_TIME_CONTEXT = re.compile(r"^/?ClinicalDocument/(author|legalAuthenticator)/time$")
_NI = re.compile(r"^@nullFlavor\s*=\s*['\"]NI['\"]$")
_NAME = r"(?:[A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*"
#: ``X``, ``X[pred]`` or ``X/child…`` (the first step is the required ClinicalDocument child)
_STEP = rf"({_NAME})([\[/].*)?"
_COUNT = re.compile(rf"^count\(\s*{_STEP}\s*\)\s*(=|>=|>)\s*(\d+)$", re.S)
_COUNT_LIST = re.compile(rf"^count\(\s*{_STEP}\s*\)\s*=\s*\[\s*(\d+)", re.S)
_EXISTS = re.compile(rf"^exists\(\s*{_STEP}\s*\)$", re.S)
_PATH = re.compile(rf"^{_STEP}$", re.S)


@dataclass(frozen=True)
class PackRequirements:
    """The ``ClinicalDocument`` children a pack requires, and where that knowledge comes from."""

    required: frozenset[str]
    #: the pack requires an informationRecipient whose organisation is Минздрав России (1.2.643.5.1.13)
    ministry_recipient: bool
    source: str
    #: the kind's pack is installed in the packs directory (its Schematron is there to run)
    installed: bool = False
    #: parts ("author", "legalAuthenticator") whose ``time`` the pack requires as ``nullFlavor="NI"``
    #: (older packs require a ``@value`` instead)
    time_ni: frozenset[str] = frozenset()

    def requires(self, element: str) -> bool:
        return element in self.required


def _strip_parens(atom: str) -> str:
    """``(count(x)=1)`` → ``count(x)=1`` (only when the outer parentheses enclose the whole atom)."""
    atom = atom.strip()
    while atom.startswith("(") and atom.endswith(")"):
        depth = 0
        for i, ch in enumerate(atom):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(atom) - 1:
                return atom
        atom = atom[1:-1].strip()
    return atom


def _required_by(atom: str) -> tuple[str, str] | None:
    """``(element, predicate)`` when the atom alone demands at least one such element."""
    atom = " ".join(_strip_parens(atom).split())
    m = _COUNT.match(atom)
    if m:
        op, n = m.group(3), int(m.group(4))
        if (op in ("=", ">=") and n >= 1) or (op == ">" and n >= 0):
            return m.group(1), m.group(2) or ""
        return None
    m = _COUNT_LIST.match(atom)
    if m and int(m.group(3)) >= 1:
        return m.group(1), m.group(2) or ""
    for pattern in (_EXISTS, _PATH):
        m = pattern.match(atom)
        if m and not m.group(1).startswith(("count", "not", "empty", "true", "false")):
            return m.group(1), m.group(2) or ""
    return None


def parse_requirements(sch: Path, source: str = "") -> PackRequirements:
    """Read the ClinicalDocument-level requirements from a Schematron file."""
    root = etree.parse(
        str(sch), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    ).getroot()
    required: set[str] = set()
    ministry = False
    time_ni: set[str] = set()
    for rule in root.iter(f"{{{SCH_NS}}}rule"):
        context = (rule.get("context") or "").strip()
        timed = _TIME_CONTEXT.match(context)
        if timed and any(_NI.match((a.get("test") or "").strip()) for a in rule.iter(f"{{{SCH_NS}}}assert")):
            time_ni.add(timed.group(1))
        if context.lstrip("/") != "ClinicalDocument":
            continue
        for assertion in rule.iter(f"{{{SCH_NS}}}assert"):
            test = " ".join((assertion.get("test") or "").split())
            try:
                if len(split_operands(test, "or")) > 1:
                    continue  # an alternative is not a requirement of either side
                atoms = split_operands(test, "and")
            except ValueError:  # not an expression we can read: it requires nothing we know of
                continue
            for atom in atoms:
                found = _required_by(atom)
                if found is None:
                    continue
                element, predicate = found
                if "not(" in predicate:
                    continue  # "some recipient other than …" does not require the element as such
                required.add(element)
                if element == "informationRecipient" and re.search(
                    rf"['\"]{re.escape(MINZDRAV_OID)}['\"]", predicate
                ):
                    ministry = True
    return PackRequirements(
        frozenset(required), ministry, source or finding_text("source.pack", schematron=sch), time_ni=frozenset(time_ni)
    )


def installed_requirements(
    packs_dir: Path | None, kind: str, template_roots: tuple[str, ...] = ()
) -> PackRequirements | None:
    """The requirements of ``kind``'s pack installed under ``packs_dir`` (the edition the document's
    ``template_roots`` select, as the schematron layer chooses it), read now (a Validator keeps them:
    :meth:`~mock_remd.validation.caches.ValidationCaches.installed_requirements`)."""
    selected = select_pack(packs_dir, kind, template_roots) if kind else None
    if selected is None or selected[0].schematron is None:
        return None
    path = selected[0].schematron.resolve()
    return parse_requirements(path, finding_text("source.pack_of_kind", kind=kind, name=path.name))


#: how :func:`requirements_for` finds an installed pack's requirements: (packs dir, kind, template roots)
InstalledLookup = Callable[[Path | None, str, tuple[str, ...]], "PackRequirements | None"]


def requirements_for(kind: str, packs_dir: Path | None, template_roots: tuple[str, ...] = (),
                     installed: InstalledLookup = installed_requirements) -> PackRequirements:
    """What the kind's official pack requires: installed pack, else the published table, else CDA R2.

    The parts the CDA R2 schema requires are always included: every official pack's XSD derives
    from ``POCD_MT000040`` and refuses a document without them, whatever its Schematron says.
    """
    found = installed(packs_dir, kind, template_roots)
    if found is not None:
        return PackRequirements(
            found.required | CDA_R2_REQUIRED,
            found.ministry_recipient,
            found.source,
            installed=True,
            time_ni=found.time_ni,
        )
    return _published_requirements(kind)


@functools.lru_cache(maxsize=1024)  # a static table: one (immutable) answer per kind
def _published_requirements(kind: str) -> PackRequirements:
    """:func:`requirements_for` without an installed pack: the published table, else CDA R2."""
    published = PUBLISHED.get(kind)
    if published is not None:
        elements, ministry, time_ni = published
        return PackRequirements(
            frozenset(elements) | CDA_R2_REQUIRED,
            ministry,
            finding_text("source.published", source=PUBLISHED_SOURCE, kind=kind),
            time_ni=frozenset(time_ni),
        )
    return PackRequirements(CDA_R2_REQUIRED, False, CDA_R2_SOURCE)
