"""The kinds the generator can write, each a module with ``KIND``, ``STAFFING``, ``header`` and ``body``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from lxml import etree

from mock_remd.testing.generator.header import HeaderSpec
from mock_remd.testing.generator.model import World

#: NSI 1520 kind id → module implementing it
_MODULES = {
    "119": "mock_remd.testing.generator.kind_119",
    "174": "mock_remd.testing.generator.kind_174",
    "186": "mock_remd.testing.generator.kind_186",
    "204": "mock_remd.testing.generator.kind_204",
}
SUPPORTED_KINDS: tuple[str, ...] = tuple(_MODULES)


class UnsupportedKindError(ValueError):
    """The generator has no builder for this kind."""


@dataclass(frozen=True)
class KindBuilder:
    """One kind's building blocks."""

    kind: str
    staffing: tuple[tuple[str, ...], ...]
    header: Callable[[World], HeaderSpec]
    body: Callable[[etree._Element, World], None]


def builder(kind: str) -> KindBuilder:
    """The builder of ``kind`` (``UnsupportedKindError`` names the supported ones)."""
    name = _MODULES.get(str(kind).strip())
    if name is None:
        raise UnsupportedKindError(
            f"kind {kind!r} is not generated; supported kinds: {', '.join(SUPPORTED_KINDS)}"
        )
    module: ModuleType = importlib.import_module(name)
    return KindBuilder(module.KIND, module.STAFFING, module.header, module.body)
