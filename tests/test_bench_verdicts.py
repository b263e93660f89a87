"""bench-peer's closing lines: one verdict per goal of issue 16, decided from the figures of the run."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import SHARED

from mock_remd.bench.peer import FullValidation, Paced, Round, full_validation, signed_document, verdicts


def _mine(**kw) -> Round:
    values = {"rate": 600.0, "ok": 9000, "requests": 9000, "callbacks": 9000, "cpu_ms_sync": 1.8, "drain_s": 9.2,
              "within_15s": True, **kw}
    return Round(side="mock-remd", **values)


def test_every_goal_met():
    paced = Paced(rate=100, seconds=10, ok=1000, called_back=1000, lag_p99_ms=334)
    lines = verdicts([_mine(load="2.10 1.90 1.80"), Round(side="WireMock", rate=400, load="3.40 2.00 1.90")], paced)
    assert [line[:14] for line in lines] == ["goal 2 MET    ", "goal 3 MET    ", "goal 4 MET    "]
    assert "×1.50 (600/s against 400/s)" in lines[0] and "load average 2.1–3.4" in lines[0]


def test_what_misses_is_named():
    paced = Paced(rate=100, seconds=10, ok=1000, called_back=990, lag_p99_ms=334)  # 10 callbacks missing
    lines = verdicts([_mine(rate=500, duplicates=1, cpu_ms_sync=2.3), Round(side="WireMock", rate=400)], paced)
    assert all(line.startswith(f"goal {n} NOT MET") for n, line in zip((2, 3, 4), lines, strict=True))
    assert "exactly once: no" in lines[0]


def test_a_partial_run_judges_only_what_ran():
    lines = verdicts([_mine()], None)
    assert lines[0].startswith("goal 2 —") and "not judged" in lines[0]
    assert lines[2].startswith("goal 4 part ok") and "paced phase not run" in lines[2]
    late = verdicts([_mine(drain_s=21.0, within_15s=False)], None)
    assert late[2].startswith("goal 4 NOT MET") and "NOT all in time" in late[2]


def test_goal_5_from_the_full_validation_phase():
    full = FullValidation(per_second=190, cpu_ms_per_document=10.3, crypto_ms_per_signature=0.5, not_passing=[],
                          load="0.4")
    assert verdicts([], None, full)[-1].startswith("goal 5 MET")
    slow = dataclasses.replace(full, per_second=120)
    assert verdicts([], None, slow)[-1].startswith("goal 5 NOT MET")
    broken = dataclasses.replace(full, not_passing=["xsd: not run"])
    assert verdicts([], None, broken)[-1].startswith("goal 5 NOT MET")
    assert "190 documents/s" in full.line() and "0.50 CPU ms per signature" in full.line()


def test_goal_5_measured_on_the_official_pack_and_a_signed_document():
    """The phase itself, briefly: the official pack of kind 186 and the FNSI exports from ../shared."""
    packs, nsi = SHARED / "packs", SHARED / "data" / "nsi"
    if not (packs / "186").is_dir() or not nsi.is_dir():
        pytest.skip("../shared/packs/186 or ../shared/data/nsi is absent")
    full = full_validation(signed_document(), packs=str(packs), nsi=str(nsi), seconds=0.5)
    assert full.per_second > 0 and full.crypto_ms_per_signature > 0
    assert full.not_passing == []
