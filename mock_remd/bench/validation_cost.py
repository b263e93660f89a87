"""Work a validation thread of the background does per document (``python -m mock_remd.bench.validation_cost``).

The bench's signed laboratory report (kind 186, :func:`mock_remd.bench.peer.signed_document`) is
accepted once into a SQLite file with the defaults (no packs, no NSI: what ``make bench-peer``
runs), claimed, and then prepared N times by a processor's pool-thread path
(:meth:`~mock_remd.core.processing.Processor.prepare`: the request from its stored form, every
default layer, the outcome), then validated N times alone (``Validator.validate``). Nothing is
written. It prints CPU ms per document of both.

The machine's speed drifts, so compare checkouts by instructions: ``--callgrind`` runs the same
under valgrind's callgrind (one counting run per figure, zeroed and dumped around the loop with
``callgrind_control``) and prints instructions per document. Pass ``--profile`` to keep the dump
files for ``callgrind_annotate``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _setup(workdir: Path) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """The two measured calls: one pool-thread prepare of the claimed job, one validation alone."""
    from mock_remd.bench.peer import signed_document
    from mock_remd.config import Settings
    from mock_remd.core.processing import Processor
    from mock_remd.runtime import Runtime
    from mock_remd.soap.builders import attachment

    signed = signed_document()
    systems = [{"mnemonic": "demo", "client_entity_id": signed.request.client_entity_id,
                "callback_url": "http://127.0.0.1:9/cb", "organizations": [signed.request.organization]}]
    os.chdir(workdir)  # no .mock-remd/packs or nsi here: the defaults of bench-peer
    settings = Settings.load({"db_url": f"sqlite:///{workdir / 'cost.db'}", "port": 0, "systems": systems,
                              "backlog_limit": 0}, environ={})
    rt = Runtime(settings, role="all")
    req = dataclasses.replace(signed.request, message_id=f"urn:uuid:{uuid.uuid4()}")  # its own localUid: it registers
    req.document = attachment(signed.content)
    if rt.service.register(req).status != "success":
        raise SystemExit("the registration was not accepted")
    processor = Processor(rt.store, rt.validator, rt.options)
    jobs = rt.store.documents.claim_jobs(processor.owner, limit=1)
    if len(jobs) != 1:
        raise SystemExit("the accepted document was not claimed")
    job = jobs[0]
    if job.request is None:
        job.request, job.content = rt.store.documents.payload(job.id)
    request = copy.deepcopy(job.request)

    def prepare() -> Any:
        outcome = processor.prepare(dataclasses.replace(job, request=dict(request)))  # a claim's fresh dict
        if outcome.errors or outcome.failed:
            raise SystemExit(f"the bench document did not register: {outcome.errors}")
        return outcome

    content, plain = signed.content, signed.request

    def validate() -> Any:
        return rt.validator.validate(content, plain)

    return prepare, validate


def _callgrind_mark(action: str) -> None:
    """Zero (``-z``) or dump (``-d``) the callgrind counters of this process (run under callgrind)."""
    subprocess.run(["callgrind_control", action, str(os.getpid())], check=True, capture_output=True)


def run(count: int, warm: int = 5, *, marks: bool = False) -> dict[str, float]:
    """Prepare and validate ``count`` times each (after ``warm`` runs); CPU ms per document of each.
    ``marks``: zero and dump callgrind's counters around each loop."""
    with tempfile.TemporaryDirectory(prefix="mock-remd-validation-cost-") as tmp:
        prepare, validate = _setup(Path(tmp))
        figures = {}
        for name, call in (("prepare", prepare), ("validate", validate)):
            for _ in range(warm):
                call()
            if marks:
                _callgrind_mark("-z")
            start = time.thread_time()
            for _ in range(count):
                call()
            figures[name] = (time.thread_time() - start) * 1000 / count
            if marks:
                _callgrind_mark("-d")
        os.chdir("/")
    return figures


def _totals(path: Path) -> int:
    text = path.read_text(errors="replace")
    m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if not m:
        raise SystemExit(f"no totals in {path}")
    return int(m.group(1))


def under_callgrind(count: int, keep: Path | None) -> dict[str, float]:
    """Run this module under callgrind; instructions per document of prepare and validate."""
    with tempfile.TemporaryDirectory(prefix="mock-remd-validation-cost-cg-") as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
                        sys.executable, "-m", "mock_remd.bench.validation_cost", "-n", str(count), "--marks"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=3600)
        dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
        if len(dumps) < 2:
            raise SystemExit(f"expected two dumps from callgrind, found {[p.name for p in dumps]}")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for name, dump in zip(("prepare", "validate"), dumps[:2], strict=True):
                shutil.copy(dump, keep / f"callgrind.{name}")
        return {name: _totals(dump) / count for name, dump in zip(("prepare", "validate"), dumps[:2], strict=True)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mock_remd.bench.validation_cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--count", type=int, default=300, help="documents per figure (callgrind: 20 is plenty)")
    ap.add_argument("--callgrind", action="store_true", help="count instructions under valgrind's callgrind")
    ap.add_argument("--profile", type=Path, help="with --callgrind: keep the dumps in this folder")
    ap.add_argument("--marks", action="store_true", help=argparse.SUPPRESS)  # the run under callgrind
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    if args.callgrind:
        figures = under_callgrind(args.count, args.profile)
        print(f"{args.count} documents under callgrind, load {load:.1f}/{os.getloadavg()[0]:.1f}: instructions per "
              f"document: pool-thread prepare {figures['prepare'] / 1e6:.2f} M, "
              f"validation alone {figures['validate'] / 1e6:.2f} M")
        return 0
    figures = run(args.count, marks=args.marks)
    if not args.marks:
        print(f"{args.count} documents, load {load:.1f}/{os.getloadavg()[0]:.1f}: CPU per document: pool-thread "
              f"prepare {figures['prepare']:.3f} ms, validation alone {figures['validate']:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
