"""The kinds the generator can write, each a module with ``KIND``, ``STAFFING``, ``header`` and ``body``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from lxml import etree

from mock_remd.catalog.kinds import Kind, KindRegistry, default_registry
from mock_remd.generator.header import HeaderSpec
from mock_remd.generator.model import World

#: NSI 1520 kind id → module implementing it
_MODULES = {
    "119": "mock_remd.generator.kind_119",
    "174": "mock_remd.generator.kind_174",
    "186": "mock_remd.generator.kind_186",
    "204": "mock_remd.generator.kind_204",
}
SUPPORTED_KINDS: tuple[str, ...] = tuple(_MODULES)


class UnsupportedKindError(ValueError):
    """The generator has no builder for this kind; :attr:`sentence` says which kinds it has."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass(frozen=True)
class KindBuilder:
    """One kind's building blocks."""

    kind: str
    staffing: tuple[tuple[str, ...], ...]
    header: Callable[[World], HeaderSpec]
    body: Callable[[etree._Element, World], None]
    #: the catalog entry of a generically built kind (its dates bound the creation date)
    catalog_kind: Kind | None = None


def builder(kind: str, catalog: KindRegistry | None = None, template_id: str = "",
            ext_xsi_types: bool = False) -> KindBuilder:
    """The builder of ``kind``: a hand-made one (119, 174, 186, 204), else the generic one for any CDA
    kind of ``catalog`` (default: the built-in catalog). ``UnsupportedKindError`` otherwise."""
    name = _MODULES.get(str(kind).strip())
    if name is None:
        from mock_remd.generator import kind_any

        catalog = catalog or default_registry()
        entry = catalog.get(str(kind).strip())
        if entry is None or not entry.is_cda:
            why = "is not in NSI 1520" if entry is None else "is not a CDA kind"
            raise UnsupportedKindError(
                f"kind {kind!r} {why}; hand-made kinds: {', '.join(SUPPORTED_KINDS)}, or any CDA kind of the catalog"
            )
        return KindBuilder(entry.id, kind_any.STAFFING, lambda world: kind_any.header_for(
            entry, template_id or None, catalog_version=catalog.version, ext_xsi_types=ext_xsi_types,
            packed=bool(template_id)), kind_any.body,
                           entry)
    module: ModuleType = importlib.import_module(name)
    return KindBuilder(module.KIND, module.STAFFING, module.header, module.body)
