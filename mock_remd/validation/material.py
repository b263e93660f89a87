"""Which validation layers lack their material (official packs, NSI dictionaries), and the one
command that supplies it. ``/ready``, the dashboard, ``validate`` and the README say the same."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mock_remd.catalog.user_messages import Text, text
from mock_remd.validation.pack_index import PackIndex, installed_packs

if TYPE_CHECKING:  # for hints only: /ready of an HTTP worker reads the packs without building the caches
    from mock_remd.validation.caches import ValidationCaches
    from mock_remd.validation.context import ValidationSettings

PACKS_FIX = "mock-remd packs download"
NSI_FIX = "mock-remd nsi import FILE…"


@dataclass(frozen=True)
class LayerGap:
    """A layer that cannot run for want of material."""

    layer: str
    #: rendered in the user's language where it is shown (``str()`` gives Russian)
    reason: Text
    fix: str

    def as_dict(self) -> dict[str, object]:
        """``layer``, ``reason`` (a :class:`Text`, rendered by the caller), ``fix``."""
        return {"layer": self.layer, "reason": self.reason, "fix": self.fix}


def _has_dictionaries(nsi_dir: Path | None) -> bool:
    if nsi_dir is None or not nsi_dir.is_dir():
        return False
    return any(p.suffix.lower() in (".json", ".tsv", ".csv", ".txt") and p.name != "overrides.json"
               for p in nsi_dir.iterdir())


def _index(settings: ValidationSettings, caches: ValidationCaches | None) -> PackIndex:
    return caches.pack_index(settings.packs_dir) if caches is not None else installed_packs(settings.packs_dir)


def missing_material(settings: ValidationSettings, caches: ValidationCaches | None = None) -> list[LayerGap]:
    """The enabled layers that cannot run at all with ``settings`` (no packs, no dictionaries); the pack
    index comes from ``caches`` (a running server's) when given."""
    gaps: list[LayerGap] = []
    if settings.layers & {"xsd", "schematron"}:
        where = str(settings.packs_dir) if settings.packs_dir else text("material.unset", setting="MOCK_REMD_PACKS_DIR")
        if not _index(settings, caches).packs:
            for layer in ("xsd", "schematron"):
                if layer in settings.layers:
                    gaps.append(LayerGap(layer, text("material.no_packs", where=where), PACKS_FIX))
    if "nsi" in settings.layers and not _has_dictionaries(settings.nsi_dir):
        where = str(settings.nsi_dir) if settings.nsi_dir else text("material.unset", setting="MOCK_REMD_NSI_DIR")
        gaps.append(LayerGap("nsi", text("material.no_nsi", where=where), NSI_FIX))
    return gaps


def pack_editions(settings: ValidationSettings,
                  caches: ValidationCaches | None = None) -> dict[str, list[dict[str, object]]]:
    """kind → its installed editions (``edition``, ``template_id``, ``directory``)."""
    out: dict[str, list[dict[str, object]]] = {}
    for p in _index(settings, caches).packs:
        out.setdefault(p.kind, []).append(
            {"edition": p.edition, "template_id": p.template_id, "directory": p.directory, "hash": p.hash}
        )
    return out
