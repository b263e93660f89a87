"""Judging one step from what was observed: the MIS's requests, its answers to our callbacks, its polls.

Pure functions over plain values (no store, no clock): :func:`judge_step` gets a :class:`Evidence`
and ``now`` and says ``passed``, ``failed`` or ``waiting``, with sentences a developer can act on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from mock_remd.conformance.plan import Check, PlanStep
from mock_remd.store.documents import Document
from mock_remd.store.journal import JournalEntry
from mock_remd.store.outbox import Delivery


@dataclass
class Evidence:
    """What one running step has seen so far."""

    started_at: dt.datetime
    deadline: dt.datetime
    #: the step's registerDocument requests: ``{at (datetime), local_uid, same_uid, message_id}``, oldest first
    sends: list[dict[str, Any]]
    #: deliveries of the step's document, oldest first
    deliveries: list[Delivery]
    #: the system's search/get requests since the step started, oldest first
    polls: list[JournalEntry]
    params: dict[str, float]
    #: the document as registered or rejected, None while unknown
    document: Document | None = None
    #: the journal entry of the first request (its synchronous answer)
    first_answer: JournalEntry | None = None


@dataclass
class Verdict:
    state: str  # passed | failed | waiting
    sentences: list[str] = field(default_factory=list)


def secs(value: float) -> str:
    """Seconds for sentences: ``0.2 s``, ``1.1 s``, ``60 s``."""
    if value >= 10 or float(value).is_integer():
        return f"{value:.0f} s"
    return f"{value:.1f} s" if value >= 0.1 else f"{value:.2f} s"


def short_uid(uid: str) -> str:
    return uid[:8] + "…" if len(uid) > 12 else uid


def parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return None


def describe_attempt(attempt: dict[str, Any]) -> str:
    """How the MIS answered one callback attempt: ``HTTP 200 after 0.0 s`` or why there was no answer."""
    took = float(attempt.get("duration_ms") or 0) / 1000
    if attempt.get("http_status") is not None:
        return f"HTTP {attempt['http_status']} after {secs(took)}"
    error = str(attempt.get("error") or "").lower()
    if error.startswith("timeout") or "не ответил за" in error or "не принял соединение" in error:
        return "no answer within the sender's timeout"
    if "refused" in error or "отклонено" in error:
        return "connection refused (nothing listens at the callback URL)"
    if any(w in error for w in ("closed", "aborted", "reset", "разорвал")):
        return f"the connection closed without an HTTP answer after {secs(took)}"
    return f"no HTTP answer after {secs(took)}"


def describe_expect(check: Check, params: dict[str, float], step: PlanStep) -> str:
    """The expectation of one check as a sentence."""
    if check.kind == "ack":
        n = step.callbacks_expected
        what = "both callbacks" if n == 2 else ("every callback" if n > 2 else "the callback")
        code = "with HTTP 2xx" if check.status == "2xx" else "with any HTTP status"
        return f"answers {what} {code} within {secs(check.seconds('within_s', params))}"
    if check.kind == "foreign_ack":
        code = "at all (any HTTP status)" if check.status == "any" else "with HTTP 2xx"
        return (f"answers the callback meant for someone else (unknown RelatesTo) {code} "
                f"within {secs(check.seconds('within_s', params))}")
    if check.kind == "resend":
        low = check.seconds("not_before_s", params)
        after = f"after ≥ {secs(low)}" if low else "again"
        return (f"re-sends the same localUid {after} and within the step timeout "
                f"({secs(params['step_timeout_s'])})")
    if check.kind == "no_resend":
        return "does not re-send the document"
    return f"calls searchRegistryItem or getRegistryItem within {secs(params['step_timeout_s'])}"


def expected_sentence(step: PlanStep, params: dict[str, float]) -> str:
    """The step's expectation: its checks joined."""
    return "The MIS " + "; ".join(describe_expect(c, params, step) for c in step.expect) + "."


# ---- the checks --------------------------------------------------------------------------------
def _own(ev: Evidence) -> list[Delivery]:
    return [d for d in ev.deliveries if d.note != "foreign"]


def _ack(check: Check, step: PlanStep, ev: Evidence, now: dt.datetime, timed_out: bool) -> Verdict:
    within = check.seconds("within_s", ev.params)
    own = _own(ev)[: max(step.callbacks_expected, 1)]
    parts, state = [], "passed"
    for n, d in enumerate(own, 1):
        label = "the callback" if step.callbacks_expected <= 1 else f"callback {n}"
        attempts = d.attempts or []
        if not attempts:
            state = "waiting" if state == "passed" else state
            parts.append(f"{label} not answered yet")
            continue
        a = attempts[0]
        took = float(a.get("duration_ms") or 0) / 1000
        ok = a.get("http_status") is not None and (check.status == "any" or 200 <= int(a["http_status"]) < 300)
        ok = ok and took <= within
        parts.append(f"answered {label} with {describe_attempt(a)}" if a.get("http_status") is not None
                     else f"did not answer {label}: {describe_attempt(a)}")
        if not ok:
            state = "failed"
    if len(own) < step.callbacks_expected and state != "failed":
        state = "waiting"
        if not own:
            parts.append(_why_no_callback(ev))
    if state == "waiting" and timed_out:
        state = "failed"
    return Verdict(state, parts)


def _why_no_callback(ev: Evidence) -> str:
    answer = ev.first_answer
    if answer is not None and answer.sync_status and answer.sync_status != "success":
        codes = ", ".join(e.get("code", "") for e in answer.errors or []) or answer.sync_status
        return f"no callback was sent: the request was answered {codes} synchronously"
    if ev.document is None or ev.document.status == "pending":
        return "no callback yet: the document is still being processed"
    return "no callback sent yet"


def _foreign_ack(check: Check, ev: Evidence, timed_out: bool) -> Verdict:
    foreign = [d for d in ev.deliveries if d.note == "foreign"]
    if not foreign or not foreign[0].attempts:
        return Verdict("failed" if timed_out else "waiting", ["the foreign callback was not answered yet"])
    a = foreign[0].attempts[0]
    took = float(a.get("duration_ms") or 0) / 1000
    hs = a.get("http_status")
    ok = hs is not None and (check.status == "any" or 200 <= int(hs) < 300) and took <= check.seconds("within_s", ev.params)
    text = (f"answered the foreign callback with {describe_attempt(a)}" if hs is not None
            else f"did not answer the foreign callback: {describe_attempt(a)}")
    return Verdict("passed" if ok else "failed", [text])


def _resend(check: Check, ev: Evidence, timed_out: bool) -> Verdict:
    low = check.seconds("not_before_s", ev.params)
    first = ev.sends[0]
    want = f"expected the same localUid after ≥ {secs(low)}" if low else "expected the same localUid"
    if len(ev.sends) < 2:
        if timed_out:
            return Verdict("failed", [f"did not re-send the document within {secs(ev.params['step_timeout_s'])}; {want}"])
        return Verdict("waiting", ["no re-send yet"])
    again = ev.sends[1]
    delay = (parse_time(again["at"]) - parse_time(first["at"])).total_seconds()  # type: ignore[operator]
    if not again.get("same_uid"):
        return Verdict("failed", [f"re-sent after {secs(delay)} with a new localUid {short_uid(again['local_uid'])}; {want}"])
    if delay < low:
        return Verdict("failed", [f"re-sent the same localUid after {secs(delay)}; {want}"])
    return Verdict("passed", [f"re-sent the same localUid after {secs(delay)}"])


def _no_resend(check: Check, step: PlanStep, ev: Evidence, now: dt.datetime, timed_out: bool) -> Verdict:
    if len(ev.sends) > 1:
        first, again = ev.sends[0], ev.sends[1]
        delay = (parse_time(again["at"]) - parse_time(first["at"])).total_seconds()  # type: ignore[operator]
        how = "with the same localUid" if again.get("same_uid") else f"with a new localUid {short_uid(again['local_uid'])}"
        return Verdict("failed", [f"re-sent the document after {secs(delay)} {how}"])
    own = _own(ev)
    last = ev.started_at
    if len(own) < step.callbacks_expected or any(not d.attempts for d in own):
        return Verdict("failed" if timed_out else "waiting", [])
    for d in own:
        at = parse_time(d.attempts[0].get("at"))
        if at is not None:
            last = max(last, at + dt.timedelta(milliseconds=float(d.attempts[0].get("duration_ms") or 0)))
    if now >= last + dt.timedelta(seconds=check.seconds("quiet_s", ev.params)) or timed_out:
        return Verdict("passed", ["did not re-send the document"])
    return Verdict("waiting", [])


def _poll(ev: Evidence, timed_out: bool) -> Verdict:
    if ev.polls:
        p = ev.polls[0]
        delay = (parse_time(p.received_at) - ev.started_at).total_seconds()  # type: ignore[operator]
        detail = p.detail or {}
        if p.operation == "searchRegistryItem":
            found = f"; the answer listed {detail.get('matches', 0)} document(s)"
        else:
            found = f" for {detail.get('emdr_id', '')}; answered {p.sync_status}"
        return Verdict("passed", [f"called {p.operation} {secs(max(delay, 0))} after the document was sent{found}"])
    if timed_out:
        return Verdict("failed", [f"did not call searchRegistryItem or getRegistryItem within "
                                  f"{secs(ev.params['step_timeout_s'])} (no callback was sent for this document)"])
    return Verdict("waiting", [])


def judge_check(check: Check, step: PlanStep, ev: Evidence, now: dt.datetime) -> Verdict:
    """One check of a running step; ``failed`` for what is still undecided once the deadline passed."""
    timed_out = now >= ev.deadline
    if check.kind == "ack":
        return _ack(check, step, ev, now, timed_out)
    if check.kind == "foreign_ack":
        return _foreign_ack(check, ev, timed_out)
    if check.kind == "resend":
        return _resend(check, ev, timed_out)
    if check.kind == "no_resend":
        return _no_resend(check, step, ev, now, timed_out)
    return _poll(ev, timed_out)


def validation_findings(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The error findings of the layers that ran: ``{layer, code, message}``."""
    return [{"layer": lr.get("name"), "code": f.get("code"), "message": f.get("message")}
            for lr in layers or [] if lr.get("ran")
            for f in lr.get("findings") or [] if f.get("severity", "error") == "error"]


def document_sentence(document: Document | None) -> str:
    """What became of the document and what validation found in it, for ``observed``."""
    if not document:
        return ""
    if document.status == "registered":
        outcome = f"Document: registered as {document.emdr_id}"
    elif document.status == "rejected":
        codes = ", ".join(dict.fromkeys(e.get("code", "") for e in document.errors or []))
        outcome = f"Document: rejected with {codes}"
    else:
        return "Document: still being processed."
    layers = document.layers or []
    findings = validation_findings(layers)
    if findings:
        head = "; ".join(f"{f['code']}: {f['message']} ({f['layer']})" for f in findings[:3])
        more = f" and {len(findings) - 3} more" if len(findings) > 3 else ""
        forced = " (the step set this outcome)" if document.status == "registered" else ""
        return f"{outcome}{forced}; validation found {head}{more}."
    ran = [lr.get("name") for lr in layers if lr.get("ran")]
    return f"{outcome}; validation found nothing ({', '.join(ran)} ran)." if ran else outcome + "."


def judge_step(step: PlanStep, ev: Evidence, now: dt.datetime) -> Verdict:
    """The step's state: failed as soon as one check failed, passed once all passed, else waiting."""
    verdicts = [judge_check(c, step, ev, now) for c in step.expect]
    sentences = [s for v in verdicts for s in v.sentences]
    if any(v.state == "failed" for v in verdicts) and not any(v.state == "waiting" for v in verdicts):
        state = "failed"  # decided once every check is: the report shows the whole behaviour
    elif all(v.state == "passed" for v in verdicts):
        state = "passed"
    else:
        state = "waiting"
    return Verdict(state, sentences)
