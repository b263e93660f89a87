"""``mock-remd scenarios``: ``lint PATH…`` (exit 0 all valid, 1 otherwise) and ``list [PATH…]``."""

from __future__ import annotations

import argparse
import json
import sys

from mock_remd.catalog.user_messages import say
from mock_remd.cli.common import lang_of
from mock_remd.config import Settings
from mock_remd.conformance.plan import lint_plan_files, split_plan_files
from mock_remd.scenarios.lint import lint_paths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="check and list scenario files",
                       description="Scenario files (docs/scenarios.md): lint them, list them.")
    sp = p.add_subparsers(dest="scenarios_command", metavar="ACTION", help="lint or list")
    lint = sp.add_parser("lint", help="check scenario files; exit 0 when all are valid, 1 otherwise",
                         description="Report every mistake as FILE:LINE: KEY: MESSAGE.")
    lint.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or directories of *.yaml/*.yml/*.json")
    lint.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    lint.set_defaults(func=run_lint)
    ls = sp.add_parser("list", help="list the scenarios of files or directories (default: the scenarios directory)",
                       description="List the valid scenarios; exit 1 when a file could not be read and none was listed.")
    ls.add_argument("paths", nargs="*", metavar="PATH",
                    help="scenario files or directories (default: the scenarios directory)")
    ls.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    ls.set_defaults(func=run_list)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def run_lint(args: argparse.Namespace) -> int:
    """Lint ``args.paths`` (scenarios and conformance plans); prints the issues (or a summary) and
    returns the exit status."""
    lang = lang_of(args)
    plan_files, others = split_plan_files(args.paths)
    scenarios, issues = lint_paths(others) if others or not plan_files else ([], [])
    plans, plan_issues = lint_plan_files(plan_files)
    issues = issues + plan_issues
    if args.format == "json":
        print(json.dumps({"valid": not issues, "scenarios": [s.name for s in scenarios],
                          "plans": [p.name for p in plans],
                          "issues": [i.as_dict(lang) for i in issues]}, ensure_ascii=False, indent=2))
    else:
        for issue in issues:
            print(issue.render(lang))
        if issues:
            print(say(lang, "lint.problems", n=len(issues)), file=sys.stderr)
        else:
            print(say(lang, "lint.all_valid", scenarios=len(scenarios),
                      plans=say(lang, "lint.plans", n=len(plans)) if plans else ""))
    return 1 if issues else 0


def run_list(args: argparse.Namespace) -> int:
    """List name, rule count and description of the scenarios found (invalid files are skipped).

    Exit status 1 when there were problems and no scenario could be listed.
    """
    lang = lang_of(args)
    paths = args.paths or [Settings.load({}).scenarios_dir or "scenarios"]
    scenarios, issues = lint_paths(paths)
    if args.format == "json":
        print(json.dumps([s.summary() for s in scenarios], ensure_ascii=False, indent=2))
    else:
        width = max((len(s.name) for s in scenarios), default=4)
        for s in sorted(scenarios, key=lambda s: s.name):
            desc = " ".join(((s.description_ru or s.description) if lang == "ru" else
                             (s.description or s.description_ru)).split())
            print(f"{s.name:<{width}}  {say(lang, 'scenarios.rules', n=len(s.rules))}  {desc}")
    for issue in issues:
        print(say(lang, "lint.skipped", issue=issue.render(lang)), file=sys.stderr)
    return 1 if issues and not scenarios else 0
