"""Rewrite the action tables of docs/scenarios.md from the table in mock_remd/domain/actions.py.

Each table stands between ``<!-- actions:BLOCK -->`` and ``<!-- /actions:BLOCK -->``;
``tests/test_scenario_actions.py`` fails while the doc and the table differ.
Run: ``.venv/bin/python scripts/make_scenario_docs.py``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mock_remd.domain.actions import BLOCKS, markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenarios.md"


def render(text: str) -> str:
    """``text`` with every marked action table rendered anew from the table."""
    for block in BLOCKS:
        pattern = re.compile(rf"(<!-- actions:{re.escape(block)} -->\n).*?(<!-- /actions:{re.escape(block)} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no <!-- actions:{block} --> … <!-- /actions:{block} --> markers")
        text = pattern.sub(lambda m, b=block: m.group(1) + markdown_table(b) + m.group(2), text)
    return text


def main() -> int:
    old = DOC.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        DOC.write_text(new, encoding="utf-8")
        print(f"{DOC}: action tables rewritten")
    else:
        print(f"{DOC}: up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
