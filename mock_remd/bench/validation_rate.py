"""Full validation rate of the 51 KB laboratory document (kind 186): every layer with the official
packs, signatures at ``digest``, in one process per core (``python -m mock_remd.bench.validation_rate``)."""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

from mock_remd.validation.bench_layers import cpu_per_layer
from mock_remd.validation.pipeline import Validator
from mock_remd.validation.report import LAYER_ORDER

#: documents per timed batch (the cheapest batch is reported beside the mean)
_BATCH = 5


def _worker(args: tuple[str, str, str, float]) -> tuple[int, float, dict[str, float], list[str]]:
    from mock_remd.config import Settings
    from mock_remd.generator import generate

    packs, nsi, cache, seconds = args
    doc = generate("186", seed=1)
    settings = Settings(packs_dir=packs, nsi_dir=nsi, cache_dir=cache, validation="all", signatures="digest")
    validator = Validator(settings.validation_settings())
    validator.warm_up()
    for _ in range(5):
        report = validator.validate(doc.content, doc.request)
    failed = [f"{lr.name}: {'not run (' + lr.reason + ')' if not lr.ran else [str(f)[:80] for f in lr.findings][:2]}"
              for lr in report.layers if not lr.ran or not lr.passed]
    sums = dict.fromkeys(LAYER_ORDER, 0.0)
    n = 0
    best = float("inf")  # CPU ms per document of the cheapest batch: the figure least disturbed by neighbours
    cpu0 = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        batch0 = time.process_time()
        for _ in range(_BATCH):
            for lr in validator.validate(doc.content, doc.request).layers:
                sums[lr.name] += lr.duration_ms
        best = min(best, (time.process_time() - batch0) * 1000 / _BATCH)
        n += _BATCH
    cpu = time.process_time() - cpu0
    return n, cpu, {**{k: v / max(n, 1) for k, v in sums.items()}, "best": best, **{
        "cpu:" + k: v for k, v in cpu_per_layer(validator, doc.content, doc.request, 50).items()}}, failed


@dataclasses.dataclass
class Rate:
    """One full-validation rate measurement (``processes`` processes for ``seconds`` each)."""

    documents: int
    seconds: float
    processes: int
    cpu_ms_per_document: float
    best_ms: float
    per_layer: dict[str, float]
    not_passing: list[str]

    @property
    def per_second(self) -> float:
        """Documents validated per second of wall time, all processes together."""
        return self.documents / self.seconds


def measure(packs: str, nsi: str, *, seconds: float = 10.0, processes: int = 0) -> Rate:
    """Validate the laboratory request in ``processes`` processes (one per core by default) for ``seconds``."""
    from mock_remd.validation.precompile import precompile

    processes = processes or os.cpu_count() or 2
    cache = tempfile.mkdtemp(prefix="mock-remd-vrate-")
    try:
        precompile(Path(packs), cache_dir=Path(cache))
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = pool.map(_worker, [(packs, nsi, cache, seconds)] * processes)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    total = sum(n for n, _, _, _ in results)
    cpu = sum(c for _, c, _, _ in results)
    return Rate(documents=total, seconds=seconds, processes=processes, cpu_ms_per_document=cpu * 1000 / max(total, 1),
                best_ms=min(r[2]["best"] for r in results), per_layer=results[0][2], not_passing=results[0][3])


def main(argv: list[str] | None = None) -> int:
    from mock_remd.bench.__main__ import _default_packs

    ap = argparse.ArgumentParser(prog="python -m mock_remd.bench.validation_rate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--packs", default=_default_packs())
    ap.add_argument("--nsi", default=str(Path(__file__).resolve().parents[3] / "shared" / "data" / "nsi"),
                    help="NSI exports dir (the nsi layer)")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args(argv)
    if not args.packs:
        print("needs packs: --packs DIR or MOCK_REMD_PACKS_DIR")
        return 2
    rate = measure(args.packs, args.nsi, seconds=args.seconds, processes=args.processes)
    cores = os.cpu_count() or 1
    print(f"full validation of the 51 KB laboratory request (kind 186, all layers, signatures at digest), "
          f"{rate.processes} processes: {rate.per_second:.0f} documents/s measured; {rate.cpu_ms_per_document:.1f} "
          f"CPU ms per document = {1000 * cores / rate.cpu_ms_per_document:.0f} documents/s on {cores} free cores; "
          f"load {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print(f"cheapest batch of {_BATCH}: {rate.best_ms:.1f} CPU ms per document = {1000 * cores / rate.best_ms:.0f} "
          "documents/s on free cores (the mean above includes what the neighbours cost these processes)")
    per = rate.per_layer
    print("per layer (CPU ms, process 1): "
          + ", ".join(f"{k[4:]} {v:.2f}" for k, v in per.items() if k.startswith("cpu:")))
    print("per layer (wall ms, process 1): "
          + ", ".join(f"{k} {v:.2f}" for k, v in per.items() if v and k != "best" and not k.startswith("cpu:")))
    if rate.not_passing:
        print("layers not passing on the document: " + "; ".join(rate.not_passing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
