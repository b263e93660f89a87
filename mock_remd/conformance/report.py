"""Reports of a conformance run: JUnit XML (one testcase per step) built from the run's JSON view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lxml import etree

from mock_remd.catalog.user_messages import DEFAULT_LANG, say


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return 0.0
    try:
        return max((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds(), 0.0)
    except ValueError:
        return 0.0


def junit_xml(run: dict[str, Any], lang: str = DEFAULT_LANG) -> bytes:
    """The run (as :meth:`ConformanceEngine.view` gives it, its sentences in ``lang``) as JUnit XML.

    Each step is a testcase named by its id; a failed step carries ``<failure>`` with ``observed`` as
    its message and both sentences as text; a step that never ran (run cancelled or still running)
    is ``<skipped>``.
    """
    steps = run["steps"]
    failed = sum(1 for s in steps if s["state"] == "failed")
    skipped = sum(1 for s in steps if s["state"] not in ("passed", "failed"))
    name = f"mock-remd conformance {run['plan']} ({run['system']})"
    suites = etree.Element("testsuites", name=name, tests=str(len(steps)), failures=str(failed),
                           errors="0", skipped=str(skipped))
    suite = etree.SubElement(suites, "testsuite", name=name, tests=str(len(steps)), failures=str(failed),
                             errors="0", skipped=str(skipped), timestamp=run.get("created_at") or "",
                             time=f"{_seconds(run.get('created_at'), run.get('finished_at')):.3f}")
    props = etree.SubElement(suite, "properties")
    for key in ("id", "system", "plan", "state", "step_timeout_s", "retry_after_s"):
        etree.SubElement(props, "property", name=key, value=str(run.get(key)))
    for s in steps:
        case = etree.SubElement(suite, "testcase", classname=f"conformance.{run['plan']}", name=s["id"],
                                time=f"{_seconds(s.get('started_at'), s.get('finished_at')):.3f}")
        text = say(lang, "conformance.junit.text", title=s["title"], expected=s["expected"],
                   observed=s.get("observed") or "-")
        if s.get("local_uid"):
            text += f"\nlocalUid: {s['local_uid']}"
        if s["state"] == "failed":
            failure = etree.SubElement(case, "failure", message=s.get("observed") or "failed", type="conformance")
            failure.text = text
        elif s["state"] != "passed":
            why = say(lang, "conformance.junit.cancelled") if run["state"] == "cancelled" else \
                say(lang, "conformance.junit.state", state=say(lang, f"conformance.state.{s['state']}"))
            etree.SubElement(case, "skipped", message=say(lang, "conformance.junit.skipped", why=why))
        etree.SubElement(case, "system-out").text = text
    return etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True)
