"""How far the generator reaches: ``generate --kind N`` + ``validate --kind N`` for every installed pack.

``python -m mock_remd.generator.survey --packs DIR`` prints one line per installed pack: kind,
edition folder, whether the generated document passes the kind's XSD and its Schematron, and the
failing asserts. The kind of each pack is generated once (seed given) and validated with the same
layers the registry runs (``xml``, ``kind``, ``xsd``, ``schematron``); a further edition of a kind
(``<kind>_<n>``) is checked with its own XSD and Schematron directly, since a document's templateId
selects only one edition. The slow test ``test_generator_packs`` keeps the numbers from dropping.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from mock_remd.catalog.incidents import record_incident
from mock_remd.generator.kinds import SUPPORTED_KINDS
from mock_remd.validation.context import ValidationSettings
from mock_remd.validation.pack_index import InstalledPack, document_template_roots, installed_packs
from mock_remd.validation.pipeline import Validator

LAYERS = frozenset({"xml", "kind", "xsd", "schematron"})


@dataclass
class SurveyRow:
    """The outcome for one installed pack."""

    kind: str
    directory: str
    xsd: bool = False
    schematron: bool = False
    #: why nothing could be checked (the generator refused the kind, a layer did not run)
    error: str = ""
    xsd_findings: list[str] = field(default_factory=list)
    schematron_findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.xsd and self.schematron and not self.error


def _pack_check(pack: InstalledPack, packs_dir: Path, content: bytes) -> tuple[bool, list[str], bool, list[str]]:
    """XSD and Schematron of one edition directly (for ``<kind>_<n>`` editions)."""
    from mock_remd.validation.packs import load_schema
    from mock_remd.validation.schematron.runner import get_validator

    p = pack.pack(packs_dir)
    xsd_ok, xsd_msgs = True, []
    if p.xsd is not None:
        schema = load_schema(p.xsd)
        doc = etree.fromstring(content)
        if schema.lxml is not None:
            xsd_ok = schema.lxml.validate(doc)
            xsd_msgs = [e.message for e in schema.lxml.error_log]
        else:
            xsd_msgs = [str(e.reason) for e in schema.xmlschema.iter_errors(doc)]
            xsd_ok = not xsd_msgs
    sch_ok, sch_msgs = True, []
    if p.schematron is not None:
        result = get_validator(p.schematron).validate(content)
        sch_ok = not result.findings
        sch_msgs = [f.message for f in result.findings]
    return xsd_ok, xsd_msgs, sch_ok, sch_msgs


def survey(packs_dir: Path, kinds: Iterable[str] | None = None, seed: int = 1,
           progress: Callable[[SurveyRow], None] | None = None) -> list[SurveyRow]:
    """One :class:`SurveyRow` per installed pack (of ``kinds``, default all); ``progress`` sees each."""
    from mock_remd.generator import UnsupportedKindError, generate

    index = installed_packs(packs_dir)
    wanted = set(kinds) if kinds is not None else None
    validator = Validator(ValidationSettings(layers=LAYERS, packs_dir=packs_dir))
    rows: list[SurveyRow] = []
    made: dict[str, bytes] = {}
    for pack in index.packs:
        if wanted is not None and pack.kind not in wanted and pack.directory not in wanted:
            continue
        row = SurveyRow(pack.kind, pack.directory)
        started = time.perf_counter()
        try:
            if pack.kind not in made:
                made[pack.kind] = generate(pack.kind, seed, signer=None, packs_dir=packs_dir).content
            content = made[pack.kind]
        except UnsupportedKindError as exc:
            row.error = exc.sentence
            rows.append(row)
            continue
        except Exception:  # a generator bug: its incident id in the table (the log has the traceback), the survey goes on
            row.error = "generator failed: " + record_incident(f"survey: generate kind {pack.kind}").reason
            rows.append(row)
            continue
        chosen = index.select(pack.kind, document_template_roots(etree.fromstring(content)))
        if chosen is not None and chosen.directory == pack.directory:
            report = validator.validate(content, kind=pack.kind)
            layers = {layer.name: layer for layer in report.layers}
            for name in ("xsd", "schematron"):
                if not layers[name].ran:
                    row.error = row.error or f"{name}: {layers[name].reason}"
            row.xsd = layers["xsd"].ran and layers["xsd"].passed
            row.schematron = layers["schematron"].ran and layers["schematron"].passed
            row.xsd_findings = [f.message for f in layers["xsd"].findings]
            row.schematron_findings = [f.message for f in layers["schematron"].findings]
        else:
            row.xsd, row.xsd_findings, row.schematron, row.schematron_findings = _pack_check(pack, packs_dir, content)
        row.seconds = time.perf_counter() - started
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


def _table(rows: list[SurveyRow], details: int) -> str:
    lines = []
    for r in rows:
        mark = "hand-made" if r.kind in SUPPORTED_KINDS else ""
        lines.append(f"{r.directory:<7} xsd {'ok ' if r.xsd else 'BAD'} sch {'ok ' if r.schematron else 'BAD'} "
                     f"{len(r.xsd_findings):>3}/{len(r.schematron_findings):>3} {r.seconds:6.1f}s {mark} {r.error}")
        for msg in (r.xsd_findings[:details] + r.schematron_findings[:details]):
            lines.append(f"        {msg[:300]}")
    passed_xsd = [r.directory for r in rows if r.xsd and not r.error]
    passed = [r.directory for r in rows if r.passed]
    lines.append(f"xsd: {len(passed_xsd)} of {len(rows)}; xsd + schematron: {len(passed)} of {len(rows)}")
    lines.append("passing: " + " ".join(passed))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the survey table."""
    ap = argparse.ArgumentParser(prog="python -m mock_remd.generator.survey", description=__doc__)
    ap.add_argument("--packs", required=True, type=Path, help="installed packs (mock-remd packs import)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--details", type=int, default=3, help="findings shown per failing pack")
    ap.add_argument("kinds", nargs="*", help="kinds or edition folders (default: every installed pack)")
    args = ap.parse_args(argv)
    rows = survey(args.packs, args.kinds or None, seed=args.seed,
                  progress=lambda r: print(_table([r], 0).splitlines()[0], file=sys.stderr, flush=True))
    print(_table(rows, args.details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
