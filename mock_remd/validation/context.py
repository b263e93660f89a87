"""What the layers share while validating one document."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_remd.catalog.kinds import Kind, KindRegistry, KindSnapshot, default_registry
from mock_remd.domain.model import RegisterRequest
from mock_remd.validation.cda.access import ChildIndex
from mock_remd.validation.cda.document import CdaHeader
from mock_remd.validation.pack_index import InstalledPack, PackIndex, document_template_roots
from mock_remd.validation.packs import Pack
from mock_remd.validation.report import LAYER_ORDER

if TYPE_CHECKING:
    from mock_remd.validation.caches import ValidationCaches

SIGNATURE_LEVELS = ("off", "structure", "digest", "crypto")


@dataclass(frozen=True)
class ValidationSettings:
    """Which layers run and with what material. Built once per process, shared by threads."""

    layers: frozenset[str] = frozenset(LAYER_ORDER)
    packs_dir: Path | None = None
    nsi_dir: Path | None = None
    signatures: str = "digest"
    trusted_ca: Path | None = None
    kinds: KindRegistry = field(default_factory=default_registry)
    #: a layer that raises: "accept" (decide from the layers that ran) or "reject" (XML_VALIDATOR_ERROR)
    on_internal_error: str = "accept"
    #: extra knobs for layers (e.g. {"nsi": {...}}); read-only by convention
    options: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def parse_layers(spec: str | None) -> frozenset[str]:
        """``all`` / ``none`` / a comma-separated list of layer names (CONTRACT §2 ``MOCK_REMD_VALIDATION``)."""
        spec = (spec or "all").strip().lower()
        if spec in ("all", ""):
            return frozenset(LAYER_ORDER)
        if spec == "none":
            return frozenset()
        names = {s.strip() for s in spec.split(",") if s.strip()}
        unknown = names - set(LAYER_ORDER)
        if unknown:
            raise ValueError(f"unknown validation layers: {', '.join(sorted(unknown))} (known: {', '.join(LAYER_ORDER)})")
        return frozenset(names)


@dataclass
class DocumentContext:
    """One document under validation; layers read it and add what they learn."""

    content: bytes
    settings: ValidationSettings
    request: RegisterRequest | None = None
    #: kind asked for (request ``kind`` or ``validate --kind``)
    requested_kind: str = ""
    #: set by the ``xml`` layer: the parsed root element (namespaced, as received)
    root: Any = None
    #: set by the ``kind`` layer
    kind: Kind | None = None
    #: when the check happens (documents are checked "now" unless a test pins it)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: free-form scratch space shared between layers (e.g. the namespace-stripped tree)
    scratch: dict[str, Any] = field(default_factory=dict)
    #: the prepared material (packs, schemas, CA bundles) of the Validator that runs this document;
    #: required, so that no caller silently loads the XSD and compiles the Schematron per document
    caches: ValidationCaches = field(kw_only=True, repr=False)

    def pack_index(self) -> PackIndex:
        """The installed packs, looked up once per document (the kind, xsd and schematron layers share it)."""
        held = self.scratch.get("pack_index")
        if held is None:
            held = self.scratch["pack_index"] = self.caches.pack_index(self.settings.packs_dir)
        return held

    def kinds(self) -> KindSnapshot:
        """The kind catalog for this document: looked up once (an import of NSI 1520 is seen by the
        next document), so every layer sees the same catalog."""
        held = self.scratch.get("kinds")
        if held is None:
            held = self.scratch["kinds"] = self.settings.kinds.snapshot()
        return held

    def header(self) -> CdaHeader:
        """The header view of the parsed document, one per document (the kind, header and cross
        layers read the same facts: each is read once)."""
        held = self.scratch.get("header")
        if held is None or held.root is not self.root:
            held = self.scratch["header"] = CdaHeader(self.root, self.child_index())
        return held

    def child_index(self) -> ChildIndex:
        """The children of the parsed document's elements by tag, each parent's read once and shared
        by the layers (the kind, header and cross layers ask the same parents again and again)."""
        held = self.scratch.get("child_index")
        if held is None or held[0] is not self.root:
            held = self.scratch["child_index"] = (self.root, ChildIndex())
        return held[1]

    def template_roots(self) -> tuple[str, ...]:
        """``ClinicalDocument/templateId/@root`` values of the parsed document (read once)."""
        held = self.scratch.get("template_roots")
        if held is None:
            held = self.scratch["template_roots"] = document_template_roots(self.root, self.child_index())
        return held

    def selected_pack(self, kind: str) -> tuple[Pack, InstalledPack] | None:
        """What :func:`~mock_remd.validation.pack_index.select_pack` gives for ``kind`` and this
        document's templateIds, chosen once per document and kind."""
        if self.settings.packs_dir is None or not kind:
            return None
        memo = self.scratch.setdefault("selected_pack", {})
        if kind not in memo:
            chosen = self.pack_index().select(kind, self.template_roots())
            memo[kind] = None if chosen is None else (chosen.pack(Path(self.settings.packs_dir)), chosen)
        return memo[kind]
