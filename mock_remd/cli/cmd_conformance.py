"""``mock-remd conformance run``: start a conformance run, follow it, write the reports (CI entry point).

Exit status: 0 every step passed, 1 some step failed, 2 the run could not run (server unreachable,
unknown system or plan, the system busy with another run, the run cancelled).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import requests

from mock_remd.catalog.user_messages import os_reason, say
from mock_remd.cli.common import fail, lang_of
from mock_remd.client.admin_client import AdminClient, AdminError
from mock_remd.config import environment_value

#: how often the run is read while it is active
POLL_SECONDS = 0.5
#: consecutive failed reads after which the server counts as gone
MAX_MISSES = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("conformance", help="test an MIS: conformance runs (docs/conformance.md)",
                       description="Conformance runs: the mock scripts the registry's misbehaviour and judges the MIS.")
    sp = p.add_subparsers(dest="conformance_command", metavar="ACTION", help="what to do")
    run = sp.add_parser(
        "run", help="start a run for a system, follow it, write reports; exit 0 passed, 1 failed, 2 could not run",
        description="Start a conformance run, print each step as it changes and wait for the end. While it runs, "
                    "let the MIS register documents (its own integration tests): each new localUid starts the next step.")
    run.add_argument("--url", required=True, help="base URL of the mock, e.g. http://127.0.0.1:8080")
    run.add_argument("--system", required=True, help="mnemonic of the system (MIS) under test")
    run.add_argument("--plan", default="mis-basic",
                     help="a plan name known to the server (default mis-basic) or a plan YAML file to send")
    run.add_argument("--step-timeout", type=float, default=None, metavar="S",
                     help="seconds a step waits for its document and for the MIS (default 120)")
    run.add_argument("--retry-after", type=float, default=None, metavar="S",
                     help="seconds the MIS must wait before re-sending after RATE_LIMIT (default 60)")
    run.add_argument("--json", metavar="FILE", help="write the run (JSON) here at the end")
    run.add_argument("--junit", metavar="FILE", help="write the JUnit XML report here at the end")
    run.add_argument("--admin-token", default=environment_value("MOCK_REMD_ADMIN_TOKEN"),
                     help="admin API bearer token (env MOCK_REMD_ADMIN_TOKEN)")
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.set_defaults(func=run_conformance)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _start_body(args: argparse.Namespace, lang: str) -> dict[str, Any] | str:
    """The POST body, or a sentence saying why it cannot be made."""
    body: dict[str, Any] = {"system": args.system}
    plan_path = Path(args.plan)
    if args.plan.endswith((".yaml", ".yml")) or plan_path.is_file():
        try:
            body["plan_yaml"] = plan_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return say(lang, "conformance.cli.plan_unreadable", path=args.plan)
    else:
        body["plan"] = args.plan
    for key, value in (("step_timeout_s", args.step_timeout), ("retry_after_s", args.retry_after)):
        if value is not None:
            if value < 0:
                return say(lang, "conformance.cli.negative", option=f"--{key[:-2].replace('_', '-')}", value=f"{value:g}")
            body[key] = value
    return body


def _refusal(exc: AdminError, lang: str) -> str:
    detail = exc.detail
    if isinstance(detail, list):  # plan lint issues
        detail = "; ".join(f"{say(lang, 'report.line', value=d.get('line'))}: {d.get('key')}: {d.get('message')}"
                           for d in detail if isinstance(d, dict))
    elif isinstance(detail, dict):
        detail = ", ".join(f"{k}: {v}" for k, v in detail.items())
    return say(lang, "conformance.cli.refused", status=exc.status, error=exc.error) + (f" — {detail}" if detail else "")


def step_line(index: int, total: int, step: dict[str, Any], lang: str = "ru") -> str:
    """One progress line for a step (its sentences came from the server in ``lang``)."""
    state = step["state"]
    head = f"[{index}/{total}] {step['id']}: {say(lang, f'conformance.state.{state}') if state in STATES else state}"
    if state == "running":
        return f"{head} (localUid {step.get('local_uid')})"
    if state == "passed":
        return f"{head} — {step.get('observed') or ''}".rstrip(" —")
    if state == "failed":
        return say(lang, "conformance.cli.failed_step", head=head, observed=step.get("observed"),
                   expected=step.get("expected"))
    return head


#: step states with a word in the catalogue
STATES = ("pending", "running", "passed", "failed")


def run_conformance(args: argparse.Namespace) -> int:
    """Start, follow, report."""
    lang = lang_of(args)

    def _fail(message: str, exc: BaseException | None = None) -> int:
        return fail(args, "conformance", message, exc)

    if not args.url.startswith(("http://", "https://")):
        return _fail(say(lang, "conformance.cli.bad_url", url=args.url))
    body = _start_body(args, lang)
    if isinstance(body, str):
        return _fail(body)
    admin = AdminClient(args.url, args.admin_token, lang=lang)  # the server's sentences in the run's language
    try:
        run = admin.call("POST", "conformance/runs", json_body=body)
    except AdminError as exc:
        return _fail(_refusal(exc, lang))
    except requests.RequestException as exc:
        return _fail(say(lang, "conformance.cli.unreachable", url=args.url), exc)
    total = len(run["steps"])
    if not args.quiet:
        print(say(lang, "conformance.cli.started", run=run["id"], system=run["system"], plan=run["plan"], total=total,
                  timeout=f"{run['step_timeout_s']:g}", retry=f"{run['retry_after_s']:g}"), flush=True)
    shown: dict[str, tuple[str, str]] = {}
    misses = 0
    try:
        while True:
            for i, step in enumerate(run["steps"], 1):
                key = (step["state"], step.get("observed") if step["state"] in ("passed", "failed") else "")
                if step["state"] != "pending" and shown.get(step["id"]) != key:
                    shown[step["id"]] = key
                    if not args.quiet:
                        print(step_line(i, total, step, lang), flush=True)
            if run["state"] != "running":
                break
            time.sleep(POLL_SECONDS)  # following a remote run: nothing to wait on but time
            try:
                run = admin.call("GET", f"conformance/runs/{run['id']}")
                misses = 0
            except (AdminError, requests.RequestException):
                misses += 1
                if misses >= MAX_MISSES:
                    return _fail(say(lang, "conformance.cli.lost", url=args.url, run=run["id"]))
    except KeyboardInterrupt:
        try:
            admin.call("DELETE", f"conformance/runs/{run['id']}")
        except (AdminError, requests.RequestException):
            pass
        return _fail(say(lang, "conformance.cli.interrupted", run=run["id"]))
    problem = _write_reports(args, admin, run, lang)
    passed = sum(1 for s in run["steps"] if s["state"] == "passed")
    if run["state"] == "cancelled":
        print(say(lang, "conformance.cli.cancelled", run=run["id"], passed=passed, total=total), file=sys.stderr)
        return 2
    verdict = say(lang, "conformance.cli.passed" if run["passed"] else "conformance.cli.failed")
    print(say(lang, "conformance.cli.summary", verdict=verdict, passed=passed, total=total, run=run["id"],
              url=f"{args.url.rstrip('/')}/conformance/{run['id']}"))
    if problem:
        return _fail(problem)
    return 0 if run["passed"] else 1


def _write_reports(args: argparse.Namespace, admin: AdminClient, run: dict[str, Any], lang: str) -> str:
    """Write ``--json`` and ``--junit``; returns a sentence when one could not be written."""
    try:
        if args.json:
            Path(args.json).write_text(json.dumps(run, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if args.junit:
            resp = admin.session.get(f"{admin.base_url}/_admin/conformance/runs/{run['id']}/junit", timeout=admin.timeout)
            if resp.status_code != 200:
                return say(lang, "conformance.cli.junit_http", status=resp.status_code)
            Path(args.junit).write_bytes(resp.content)
    except requests.RequestException:  # before OSError: requests' exceptions are OSErrors too
        return say(lang, "conformance.cli.junit_unreachable", url=args.url)
    except OSError as exc:
        return say(lang, "file.unwritable", path=exc.filename, reason=os_reason(lang, exc))
    return ""
