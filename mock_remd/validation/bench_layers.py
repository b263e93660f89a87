"""Per-layer timings of the validation pipeline, for ``make bench``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mock_remd.validation.context import DocumentContext, ValidationSettings
from mock_remd.validation.pipeline import Validator
from mock_remd.validation.report import LAYER_ORDER

WARM_UP_RUNS = 5


def time_layers(
    content: bytes,
    kind: str,
    packs_dir: Path | str | None,
    iterations: int = 200,
    *,
    include_signatures: bool = False,
) -> dict[str, float]:
    """Mean milliseconds per document for each layer, and ``total`` (wall time of ``validate``).

    Runs in this process with one :class:`Validator` (all layers but ``signatures`` unless asked),
    after a warm-up that builds the layers and compiles the packs.
    """
    layers = frozenset(n for n in LAYER_ORDER if include_signatures or n != "signatures")
    settings = ValidationSettings(layers=layers, packs_dir=Path(packs_dir) if packs_dir else None)
    validator = Validator(settings)
    validator.warm_up()
    for _ in range(WARM_UP_RUNS):
        validator.validate(content, kind=kind)
    sums = dict.fromkeys(LAYER_ORDER, 0.0)
    started = time.perf_counter()
    for _ in range(iterations):
        report = validator.validate(content, kind=kind)
        for lr in report.layers:
            sums[lr.name] += lr.duration_ms
    total = (time.perf_counter() - started) * 1000
    result = {name: round(sums[name] / iterations, 3) for name in LAYER_ORDER if name in layers}
    result["total"] = round(total / iterations, 3)
    return result


def cpu_per_layer(
    validator: Validator, content: bytes, request: Any = None, iterations: int = 100
) -> dict[str, float]:
    """Mean CPU milliseconds of this thread per document for each enabled layer, and ``total``
    (``request``: the document's RegisterRequest, or None).

    CPU time, not wall time: on a shared machine the wall time of a layer mostly measures the
    neighbours. The layers run in order on one context per document, as :meth:`Validator.validate`
    runs them (without its bookkeeping); Saxon runs in the calling thread, so it is counted.
    """
    names = [n for n in LAYER_ORDER if n in validator.settings.layers]
    sums = dict.fromkeys(names, 0.0)
    kind = request.kind if request else ""
    for _ in range(iterations):
        ctx = DocumentContext(content=content, settings=validator.settings, request=request, requested_kind=kind,
                              caches=validator.caches)
        for name in names:
            if name not in ("xml", "signatures") and ctx.root is None:
                continue
            started = time.thread_time()
            validator.layer(name).run(ctx)
            sums[name] += time.thread_time() - started
    result = {name: round(1000 * sums[name] / iterations, 3) for name in names}
    result["total"] = round(sum(result.values()), 3)
    return result


if __name__ == "__main__":  # python -m mock_remd.validation.bench_layers FILE KIND PACKS_DIR
    import json
    import sys

    file_, kind_, packs_ = sys.argv[1:4]
    print(json.dumps(time_layers(Path(file_).read_bytes(), kind_, packs_), indent=2))
