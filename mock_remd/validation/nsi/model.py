"""In-memory form of one imported FNSI dictionary version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_remd.catalog.user_messages import Text, say, text

#: the OID of NSI 1520 "Электронные медицинские документы" (the kinds)
KINDS_OID = "1.2.643.5.1.13.13.11.1520"
#: store format marker written into every JSON file
STORE_FORMAT = "mock-remd-nsi/1"


class NsiFileError(ValueError):
    """A file of the NSI directory that cannot be used: a catalogue message (``nsi.<key>``) saying why.

    The caller names the file; ``str()`` is the Russian sentence, :meth:`text` the one in a language,
    :attr:`message` the catalogue message to render later.
    """

    prefix = "nsi."

    def __init__(self, key: str, /, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(self.text("ru"))

    @property
    def message(self) -> Text:
        """The reason as a catalogue message, rendered where the reader's language is known."""
        return text(self.prefix + self.key, **self.values)

    def text(self, lang: str) -> str:
        """The sentence in ``lang``."""
        return say(lang, self.prefix + self.key, **self.values)


def normalize_name(text: str) -> str:
    """A display name as compared: surrounding and repeated whitespace collapsed (case kept)."""
    return " ".join((text or "").split())


@dataclass
class Dictionary:
    """One version of one NSI dictionary: which column holds the code, which the name, and code → name."""

    oid: str
    version: str
    full_name: str = ""
    code_column: str = ""
    name_column: str = ""
    columns: list[str] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)
    publish_date: str = ""
    source: str = ""
    #: every row with every column; kept only where a consumer needs more than code → name (NSI 1520)
    rows: list[list[str]] = field(default_factory=list)
    #: options from the per-OID override table that the check honours (e.g. ``skip_display_name``)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """``(oid, version)``: what identifies a dictionary version."""
        return (self.oid, self.version)

    def name_of(self, code: str) -> str | None:
        """The NSI name of ``code``; None when the code is absent from this version."""
        return self.entries.get(code.strip())

    def as_dict(self) -> dict[str, Any]:
        """The JSON store form (see :mod:`.store`)."""
        data: dict[str, Any] = {
            "format": STORE_FORMAT,
            "oid": self.oid,
            "version": self.version,
            "full_name": self.full_name,
            "publish_date": self.publish_date,
            "source": self.source,
            "code_column": self.code_column,
            "name_column": self.name_column,
            "columns": self.columns,
            "size": len(self.entries),
            "entries": self.entries,
        }
        if self.rows:
            data["rows"] = self.rows
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dictionary:
        """Inverse of :meth:`as_dict`; raises ``ValueError`` for a file that is not our store format."""
        if data.get("format") != STORE_FORMAT:
            raise NsiFileError("store.format", format=repr(data.get("format")))
        return cls(
            oid=str(data["oid"]),
            version=str(data["version"]),
            full_name=str(data.get("full_name") or ""),
            code_column=str(data.get("code_column") or ""),
            name_column=str(data.get("name_column") or ""),
            columns=[str(c) for c in data.get("columns") or []],
            entries={str(k): str(v) for k, v in (data.get("entries") or {}).items()},
            publish_date=str(data.get("publish_date") or ""),
            source=str(data.get("source") or ""),
            rows=[[str(v) for v in row] for row in data.get("rows") or []],
        )
