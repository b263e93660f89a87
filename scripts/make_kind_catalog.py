"""Generate the built-in kind catalog (``mock_remd/catalog/kinds_1520.json``) once, from FNSI exports.

    python scripts/make_kind_catalog.py [--shared ../shared] [--out mock_remd/catalog/kinds_1520.json]

Reads the newest NSI 1.2.643.5.1.13.13.11.1520 export in ``<shared>/data/nsi`` (the FNSI CSV as
downloaded: ``;``-separated, quoted; or the TSV form), the 1522 and 99.2.1079 exports for display
names, and the templateId roots each kind's official Schematron asserts (read from the published
packs in ``<shared>/packs-published`` and ``<shared>/packs``, else ``<shared>/data/kind-templates.tsv``;
the packs the 1C repository files under another kind's number are skipped). Writes facts only (codes, names, flags, dates, OIDs); nothing else of the exports is copied.
The server reads the JSON at start; ``mock-remd nsi import`` of a newer export replaces it at run time.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path

from mock_remd.validation.pack_facts import schematron_template_ids

ROOT = Path(__file__).resolve().parent.parent
KINDS_OID = "1.2.643.5.1.13.13.11.1520"
DOC_TYPES_OID = "1.2.643.5.1.13.13.11.1522"
SEMD_TYPES_OID = "1.2.643.5.1.13.13.99.2.1079"
FIELDS = ("ID", "TYPE", "NAME", "PATIENT_INFO", "MO_SIGN", "FORMAT", "SERIES_REQUIRED", "START_DATE", "END_DATE",
          "IMPLEMENTATION_GUIDE", "GIT_LINK")


def _version_key(path: Path) -> tuple[int, ...]:
    m = re.search(r"_v(\d+(?:\.\d+)*)", path.name)
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


def read_table(path: Path) -> list[dict[str, str]]:
    """Rows of an FNSI export (TSV or ``;`` CSV, ``#`` comment lines skipped)."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    delimiter = "\t" if "\t" in lines[0] else ";"
    return list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter))


def newest(nsi_dir: Path, oid: str) -> Path:
    """The export of ``oid`` with the highest version in ``nsi_dir``."""
    found = [p for p in nsi_dir.iterdir() if p.name.startswith(oid + "_v")]
    if not found:
        raise SystemExit(f"no export of {oid} in {nsi_dir}")
    return max(found, key=_version_key)


def asserted_templates(path: Path) -> tuple[dict[str, str], set[str]]:
    """(kind id → the templateId root its Schematron asserts, ids whose 1C file is another kind's)."""
    out: dict[str, str] = {}
    mismatched: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or line.startswith("file\t"):
            continue
        cols = line.split("\t")
        if len(cols) >= 10 and cols[9] != "ok":
            mismatched.add(cols[0])
        elif len(cols) >= 10 and re.fullmatch(r"[\d.]+", cols[1]):
            out[cols[0]] = cols[1]
    return out, mismatched


def pack_templates(shared: Path, kind: str, type_1522: str, git_link: str) -> list[str]:
    """templateId roots the kind's own published Schematron asserts (those of its 1522 type first)."""
    for folder in (shared / "packs" / kind, shared / "packs-published" / kind):
        for sch in (folder / f"{kind}.sch", folder.parent / f"{kind}.sch"):
            if sch.is_file():
                roots = list(schematron_template_ids(sch.read_bytes()))
                own = [r for r in roots if r == git_link or re.search(rf"\.(14|2\.7\.5\.1)\.{type_1522}\.", r)]
                return own or roots
    return []


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=ROOT / "mock_remd" / "catalog" / "kinds_1520.json")
    args = ap.parse_args()
    nsi_dir = args.shared / "data" / "nsi"
    export = newest(nsi_dir, KINDS_OID)
    version = ".".join(str(p) for p in _version_key(export))
    doc_types = {r["RECID"]: r["Name"] for r in read_table(newest(nsi_dir, DOC_TYPES_OID))}
    semd_types = {r["ID"]: r["NAME"] for r in read_table(newest(nsi_dir, SEMD_TYPES_OID))}
    templates, mismatched = asserted_templates(args.shared / "data" / "kind-templates.tsv")
    kinds = []
    for row in read_table(export):
        fact = {f.lower(): (row.get(f) or "").strip() for f in FIELDS}
        git = re.fullmatch(r"1\.2\.643\.5\.1\.13\.13\.15\.(\d+)\.\d+", fact["git_link"])
        fact["type_name"] = doc_types.get(fact["type"], "")
        fact["semd_type"] = git.group(1) if git else ""
        fact["semd_type_name"] = semd_types.get(fact["semd_type"], "") if git else ""
        asserted = [] if fact["id"] in mismatched else pack_templates(args.shared, fact["id"], fact["type"], fact["git_link"])
        if not asserted and fact["id"] in templates:
            asserted = [templates[fact["id"]]]
        fact["template_ids"] = asserted
        kinds.append(fact)
    kinds.sort(key=lambda k: int(k["id"]))
    lines = [json.dumps(k, ensure_ascii=False) for k in kinds]
    head = {"oid": KINDS_OID, "version": version, "source": export.name, "generator": "scripts/make_kind_catalog.py"}
    text = json.dumps(head, ensure_ascii=False)[:-1] + ', "kinds": [\n' + ",\n".join(lines) + "\n]}\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(kinds)} kinds of {KINDS_OID} v{version} ({export.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
