"""Settings: command line first, then environment (``MOCK_REMD_*``), then the config file, then defaults.

The config file is YAML; its top-level keys are the field names below (``db_url``, ``region`` …) plus
``systems:`` (CONTRACT §4). Every field has an environment variable ``MOCK_REMD_<NAME>``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_remd import yamlsafe
from mock_remd.catalog.incidents import ON_INTERNAL_ERROR
from mock_remd.validation.context import SIGNATURE_LEVELS, ValidationSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_scenarios_dir() -> str:
    here = PROJECT_ROOT / "scenarios"
    return str(here) if here.is_dir() else ""


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "да")


def _float_list(value: Any) -> tuple[float, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(float(v) for v in value)
    return tuple(float(v) for v in str(value).replace(";", ",").split(",") if v.strip())


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the setting and the value."""


@dataclass
class Settings:
    """All runtime settings of a mock-remd instance."""

    host: str = "127.0.0.1"
    port: int = 8080
    config: str = ""
    db_url: str = "sqlite:///.mock-remd/mock-remd.db"
    scenarios_dir: str = field(default_factory=_default_scenarios_dir)
    packs_dir: str = ""
    nsi_dir: str = ""
    admin_token: str = ""
    workers: int = 2
    #: background processes (validation, callbacks) beside the HTTP workers; 0 = as many as workers
    processors: int = 0
    threads: int = 8
    validation: str = "all"
    signatures: str = "digest"
    trusted_ca: str = ""
    region: str = "50"
    #: first part of emdrId ``{n}.{region}.{YY}.{MM}.{seq:09d}``
    registry_prefix: str = "1"
    #: how many journal entries are kept (oldest pruned)
    journal_size: int = 10000
    #: largest accepted request body, bytes (documents of 30 MB exist: base64 makes them 40 MB)
    max_request_bytes: int = 64 * 1024 * 1024
    #: delays between callback attempts, seconds; after the last one the delivery is dead
    callback_backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    callback_timeout: float = 10.0
    #: delay before the result callback of a normal outcome, ms
    callback_delay_ms: int = 0
    #: timeout of the getDocumentFile pull, seconds
    pull_timeout: float = 10.0
    #: CONTRACT §7 magic values in documentNumber
    magic_values: bool = True
    #: check the message-level wsse:Security signature when present
    check_wsse: bool = False
    #: require wsa:MessageID (CONTRACT says required; lenient mode invents one)
    require_message_id: bool = True
    #: compare the declared checksum with the CRC32 of the decoded bytes
    check_checksums: bool = True
    #: storage term of registered documents, years from creation
    store_years: int = 25
    #: cache of compiled Schematron packs
    cache_dir: str = ""
    #: a dictionary version that was not imported: "error" (INVALID_DICTIONARY_VERSION, as the
    #: registry does for versions not allowed) or "latest" (check against the newest imported one)
    nsi_unknown_version: str = "error"
    #: report coded elements whose NSI dictionary was not imported (INVALID_DICTIONARY_OID)
    nsi_strict: bool = False
    #: a validation layer that fails inside (a bug of ours): "accept" decides the document from the
    #: layers that ran; "reject" answers XML_VALIDATOR_ERROR with the incident id
    on_internal_error: str = "accept"
    systems: list[dict[str, Any]] = field(default_factory=list)

    # ---- derived -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def validation_settings(self) -> ValidationSettings:
        """The document-validation part of the settings."""
        from mock_remd.catalog.kinds import default_registry

        return ValidationSettings(
            layers=ValidationSettings.parse_layers(self.validation),
            packs_dir=Path(self.packs_dir) if self.packs_dir else None,
            nsi_dir=Path(self.nsi_dir) if self.nsi_dir else None,
            signatures=self.signatures,
            trusted_ca=Path(self.trusted_ca) if self.trusted_ca else None,
            kinds=default_registry(),
            on_internal_error=self.on_internal_error,
            options={
                "cache_dir": self.cache_dir,
                "schematron_cache_dir": self.cache_dir or None,
                "max_document_bytes": self.max_request_bytes,
                "nsi": {"unknown_version": self.nsi_unknown_version, "strict_unknown": self.nsi_strict},
            },
        )

    def check(self) -> None:
        """Raise :class:`ConfigError` for values that cannot work."""
        if self.signatures not in SIGNATURE_LEVELS:
            raise ConfigError(f"MOCK_REMD_SIGNATURES={self.signatures!r}: expected one of {', '.join(SIGNATURE_LEVELS)}")
        try:
            ValidationSettings.parse_layers(self.validation)
        except ValueError as exc:
            raise ConfigError(f"MOCK_REMD_VALIDATION={self.validation!r}: {exc}") from exc
        if not (0 < self.port < 65536) and self.port != 0:
            raise ConfigError(f"MOCK_REMD_PORT={self.port}: not a TCP port")
        if self.workers < 1:
            raise ConfigError(f"MOCK_REMD_WORKERS={self.workers}: at least 1")
        if self.nsi_unknown_version not in ("error", "latest"):
            raise ConfigError(f"MOCK_REMD_NSI_UNKNOWN_VERSION={self.nsi_unknown_version!r}: expected error or latest")
        if self.on_internal_error not in ON_INTERNAL_ERROR:
            raise ConfigError(f"MOCK_REMD_ON_INTERNAL_ERROR={self.on_internal_error!r}: expected accept or reject")
        if not self.callback_backoff:
            raise ConfigError("callback_backoff: at least one delay is needed")
        for name in ("packs_dir", "nsi_dir", "scenarios_dir"):
            value = getattr(self, name)
            if value and not Path(value).is_dir():
                raise ConfigError(f"MOCK_REMD_{name.upper()}={value!r}: no such directory")
        if self.trusted_ca and not Path(self.trusted_ca).is_file():
            raise ConfigError(f"MOCK_REMD_TRUSTED_CA={self.trusted_ca!r}: no such file")

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
        """Resolve settings: ``overrides`` (command line) > environment > config file > defaults."""
        environ = dict(os.environ if environ is None else environ)
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        config_path = overrides.get("config") or environ.get("MOCK_REMD_CONFIG") or ""
        file_values: dict[str, Any] = {}
        if config_path:
            path = Path(config_path)
            if not path.is_file():
                raise ConfigError(f"MOCK_REMD_CONFIG={config_path!r}: no such file")
            try:
                loaded = yamlsafe.load_file(path) or {}
            except (yamlsafe.YamlLimitError, yamlsafe.YamlSyntaxError) as exc:
                raise ConfigError(f"config file {config_path}: {exc}") from exc
            except OSError as exc:
                raise ConfigError(f"config file {config_path}: cannot be read ({exc.strerror})") from exc
            if not isinstance(loaded, dict):
                raise ConfigError(f"config file {config_path}: expected a mapping at the top level")
            file_values = loaded
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(file_values) - set(known)
        if unknown:
            raise ConfigError(f"config file {config_path}: unknown keys {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, f in known.items():
            env_name = f"MOCK_REMD_{name.upper()}"
            if name in overrides:
                raw = overrides[name]
            elif env_name in environ and name != "systems":
                raw = environ[env_name]
            elif name in file_values:
                raw = file_values[name]
            else:
                continue
            values[name] = cls._coerce(name, f, raw)
        values["config"] = config_path
        settings = cls(**values)
        return settings

    @staticmethod
    def _coerce(name: str, f: dataclasses.Field, raw: Any) -> Any:
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        try:
            if isinstance(default, bool):
                return _bool(raw)
            if isinstance(default, int):
                return int(raw)
            if isinstance(default, float):
                return float(raw)
            if isinstance(default, tuple):
                return _float_list(raw)
            if isinstance(default, list):
                if not isinstance(raw, list):
                    raise TypeError("expected a list")
                return raw
            return "" if raw is None else str(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"MOCK_REMD_{name.upper()}={raw!r}: {exc}") from exc
