"""Settings: command line first, then environment (``MOCK_REMD_*``), then the config file, then defaults.

The config file is YAML; its top-level keys are the field names below (``db_url``, ``region`` …) plus
``systems:`` (CONTRACT §4). Every field has an environment variable ``MOCK_REMD_<NAME>``.

This is the one module that reads the process environment (``tests/test_architecture.py`` holds it):
:meth:`Settings.load` at start-up, and :func:`environment_value` for the entry points that need a
value before settings exist (command-line defaults, the pytest plugin's options). What is read is
passed down as arguments; nothing below reads it again.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_remd import yamlsafe

# What the settings are checked against and turned into (the store's systems, the validation layers,
# the GOST backends) is imported where it is used: ``serve``'s gunicorn master reads its settings here
# and must not carry the store, validation and crypto modules it never runs (goal 6 of issue 16; the
# checks themselves run in a short-lived child, see cli/cmd_serve.py).
if TYPE_CHECKING:
    from mock_remd.core.lifecycle import LifecycleOptions
    from mock_remd.validation.context import ValidationSettings

#: where ``mock-remd packs import|download`` install when MOCK_REMD_PACKS_DIR is unset (and where the
#: server and ``validate`` look then, when it exists)
DEFAULT_PACKS_DIR = Path(".mock-remd") / "packs"
DEFAULT_PACKS_SOURCE = "https://github.com/1CMedicine/semd_validator/archive/refs/heads/master.zip"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def environment_value(name: str, environ: dict[str, str] | None = None) -> str | None:
    """The environment variable ``name`` (None when unset or blank), for entry points that need one value
    before :class:`Settings` exist: an option's default, the pytest plugin's options."""
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def child_environment(**settings: str) -> dict[str, str]:
    """This process's environment with ``settings`` (``MOCK_REMD_*`` values) on top: what a command that
    starts a server in a child process (the benchmarks) hands on to it."""
    return {**os.environ, **settings}


#: glibc's malloc arenas for the processes of ``serve`` (``MALLOC_ARENA_MAX``, unless already set): by
#: default each thread that allocates gets an arena of its own (up to 8 per core), whose freed pages
#: stay resident, and the workers and background processes run 8-17 threads each. A 20,000-request
#: soak (load 16-18) grew 336 -> 352 MiB summed RSS without the limit, 333 -> 338 MiB with it.
SERVE_MALLOC_ARENAS = "2"


#: glibc's per-thread cache of freed small chunks in ``serve``'s background processes (``tcache_count``
#: in ``GLIBC_TUNABLES``, unless the user set it): by default 7 chunks a size. Freeing a parsed document's
#: tree (thousands of libxml2 nodes) overflows that into the shared bins; the next parse's first large
#: buffer then makes glibc consolidate them and every node after is allocated the slow way. With 2,000
#: a thread reuses the last tree's chunks: the bench document's validation 9.47 -> 8.87 M instructions
#: (callgrind, 8,000 gave the same), the libxml2 parse 2.94 -> 2.41 M. The chunks a thread keeps cost
#: resident memory (after 10 s of bench-peer's load: +22 MiB per background process, +39 MiB in the
#: HTTP worker, where the gain was not measured), so only the background processes get it.
BACKGROUND_TCACHE_COUNT = "2000"


def serve_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the processes of ``serve`` run with: this process's, with ``MALLOC_ARENA_MAX``
    at :data:`SERVE_MALLOC_ARENAS` unless the user set it."""
    env = dict(os.environ if environ is None else environ)
    env.setdefault("MALLOC_ARENA_MAX", SERVE_MALLOC_ARENAS)
    return env


def background_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of ``serve``'s background processes: :func:`serve_environment`'s, with glibc's
    ``tcache_count`` tunable at :data:`BACKGROUND_TCACHE_COUNT` unless the user set it (other
    ``GLIBC_TUNABLES`` are kept)."""
    env = serve_environment(environ)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    if not any(t.partition("=")[0] == "glibc.malloc.tcache_count" for t in tunables):
        env["GLIBC_TUNABLES"] = ":".join([*tunables, f"glibc.malloc.tcache_count={BACKGROUND_TCACHE_COUNT}"])
    return env


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Where compiled Schematron packs are kept when ``MOCK_REMD_CACHE_DIR`` is unset:
    ``$XDG_CACHE_HOME/mock-remd``, else ``~/.cache/mock-remd``."""
    xdg = environment_value("XDG_CACHE_HOME", environ)
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mock-remd"


def default_nsi_dir(environ: dict[str, str] | None = None) -> Path:
    """Where ``nsi import`` writes and ``nsi list`` reads without ``--dir``: ``MOCK_REMD_NSI_DIR`` when set,
    else ``.mock-remd/nsi`` (relative to the working directory)."""
    value = environment_value("MOCK_REMD_NSI_DIR", environ)
    return Path(value) if value else _default_nsi_dir()


def _default_nsi_dir() -> Path:
    from mock_remd.validation.nsi.store import DEFAULT_DIR

    return DEFAULT_DIR


#: the GOST backend settings (``streebog``, ``gost_verify``): ``auto`` picks OpenSSL's GOST engine when
#: installed; ``gostcrypto`` (alias ``python``) forces the slow pure-Python code
GOST_BACKENDS = ("auto", "openssl", "gostcrypto", "python")


def _gost_choice(value: str) -> str:
    return "gostcrypto" if value.strip().lower() in ("gostcrypto", "python") else "auto"


def register_gost_backends(settings: Settings | None = None) -> None:
    """Register the GOST backends of this process from ``settings`` (or, for commands that build no
    settings, from ``MOCK_REMD_STREEBOG`` / ``MOCK_REMD_GOST_VERIFY``).

    Process-wide by nature, like the one saxonche processor: OpenSSL's GOST provider and engine live
    in libcrypto's one default context, so two servers in one process share this choice.
    """
    from mock_remd.gost import openssl_gost, streebog

    if settings is None:
        chosen = (environment_value("MOCK_REMD_STREEBOG") or "auto", environment_value("MOCK_REMD_GOST_VERIFY") or "auto")
    else:
        chosen = (settings.streebog, settings.gost_verify)
    streebog.configure(_gost_choice(chosen[0]))
    openssl_gost.configure(_gost_choice(chosen[1]))


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


def _words(value: str) -> list[str]:
    return [w.strip() for w in str(value).replace(";", ",").split(",") if w.strip()]


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the setting and the value.

    ``setting`` is how the user gave it: the command-line option (``--packs``), else the
    environment variable (``MOCK_REMD_PACKS_DIR``); :meth:`text` renders the message in a language.
    """

    def __init__(self, key: str, setting: str = "", value: Any = "", **values: Any) -> None:
        self.key, self.setting, self.value, self.values = key, setting, value, values
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``ru`` or ``en``)."""
        from mock_remd.catalog.user_messages import render, say, yaml_text

        values = {k: yaml_text(lang, v) if isinstance(v, (yamlsafe.YamlLimitError, yamlsafe.YamlSyntaxError))
                  else render(lang, v) for k, v in self.values.items()}
        return say(lang, self.key, setting=self.setting, value=self.value, **values)


@dataclass
class Settings:
    """All runtime settings of a mock-remd instance."""

    host: str = "127.0.0.1"
    port: int = 8080
    config: str = ""
    db_url: str = "sqlite:///.mock-remd/mock-remd.db"
    scenarios_dir: str = field(default_factory=_default_scenarios_dir)
    packs_dir: str = ""
    #: where ``mock-remd packs download`` fetches the 1C-layout ZIP from (MOCK_REMD_PACKS_SOURCE)
    packs_source: str = DEFAULT_PACKS_SOURCE
    nsi_dir: str = ""
    admin_token: str = ""
    #: HTTP worker processes: one is the default because a second one costs more than it brings with SQLite
    #: (the two take turns at the single write lock: 0.2-0.3 ms more CPU per answer and fewer answers/s)
    workers: int = 1
    #: background processes (validation, callbacks) beside the HTTP workers; 0 = as many as workers
    processors: int = 2
    threads: int = 8
    validation: str = "all"
    signatures: str = "digest"
    trusted_ca: str = ""
    region: str = "50"
    #: first part of emdrId ``{n}.{region}.{YY}.{MM}.{seq:09d}``
    registry_prefix: str = "1"
    #: how many journal entries are kept (oldest pruned)
    journal_size: int = 10000
    #: how far, in seconds of background work, the answers may run ahead of the processing: work due
    #: (queued documents, due callbacks) above this many seconds at the rate the background processes
    #: drain a backlog makes registerDocument answer later, so the callbacks never fall behind for good
    #: and are out about this long after a load stops; 0 = no limit in seconds (core/backpressure.py).
    #: Measured under bench-peer (the goal: the last callback within 15 s of the load's end): with 8 the
    #: last callback came 6.9-10.6 s after the load on a quiet machine, and a burst's answers were held
    #: back sooner; alternating 10 and 8 at load 5-8: 332 and 397 against 310 and 314 answers/s, the last
    #: callback 10.8 and 12.7 against 7.8 and 5.8 s after the load
    backlog_seconds: float = 10.0
    #: niceness of the validation threads of ``serve``'s background processes (0-19): above 0 the HTTP
    #: workers' answers come first when the CPU is short (server/background_process.py)
    background_nice: int = 12
    #: a cap in items on that backlog (documents and callbacks due); -1 = none, 0 = backpressure off
    backlog_limit: int = -1
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
    #: cache of compiled Schematron packs (loading fills in the default, see :func:`default_cache_dir`;
    #: empty: compiled packs are kept in memory only)
    cache_dir: str = ""
    #: Streebog digests: ``auto`` (OpenSSL's GOST provider when installed) or ``gostcrypto`` (pure Python)
    streebog: str = "auto"
    #: GOST signature values: ``auto`` (OpenSSL's GOST engine when installed) or ``gostcrypto`` (pure Python)
    gost_verify: str = "auto"
    #: a dictionary version that was not imported: "error" (INVALID_DICTIONARY_VERSION, as the
    #: registry does for versions not allowed) or "latest" (check against the newest imported one)
    nsi_unknown_version: str = "error"
    #: report coded elements whose NSI dictionary was not imported (INVALID_DICTIONARY_OID)
    nsi_strict: bool = False
    #: a validation layer that fails inside (a bug of ours): "accept" decides the document from the
    #: layers that ran; "reject" answers XML_VALIDATOR_ERROR with the incident id
    on_internal_error: str = "accept"
    #: kinds whose new versions the registry refuses (RESTRICT_NEW_VERSION), comma-separated
    versions_forbidden_kinds: str = "230"
    #: association types that mark the link to the previous version, comma-separated
    version_association_types: str = "RPLC"
    #: strict versions: versionNumber exactly the newest + 1, a version > 1 needs its link, known types only
    versions_strict: bool = False
    #: where CAN_NOT_ASSOCIATE and NOT_UNIQUE_ASSOCIATION come from: callback (default) or sync
    association_checks: str = "callback"
    #: links (not versions) to documents of organisations the caller does not serve are allowed
    associations_other_organizations: bool = True
    #: names of association types (code -> name), e.g. from NSI 1.2.643.5.1.13.13.99.2.122
    association_types: dict[str, str] = field(default_factory=dict)
    systems: list[dict[str, Any]] = field(default_factory=list)
    #: how the user named each setting given on the command line (``packs_dir`` -> ``--packs``)
    labels: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def label(self, name: str) -> str:
        """How messages name the setting ``name``: its command-line option when given there, else its variable."""
        return self.labels.get(name) or f"MOCK_REMD_{name.upper()}"

    # ---- derived -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def packs_install_dir(self) -> Path:
        """Where packs are installed: MOCK_REMD_PACKS_DIR, else ``.mock-remd/packs``."""
        return Path(self.packs_dir) if self.packs_dir else DEFAULT_PACKS_DIR

    @property
    def packs_path(self) -> Path | None:
        """The packs the layers use: MOCK_REMD_PACKS_DIR, else ``.mock-remd/packs`` when it exists."""
        if self.packs_dir:
            return Path(self.packs_dir)
        return DEFAULT_PACKS_DIR if DEFAULT_PACKS_DIR.is_dir() else None

    @property
    def nsi_path(self) -> Path | None:
        """The NSI exports the nsi layer uses: MOCK_REMD_NSI_DIR, else ``.mock-remd/nsi`` (where
        ``mock-remd nsi import`` writes) when it exists, as ``validate`` does."""
        if self.nsi_dir:
            return Path(self.nsi_dir)
        default = _default_nsi_dir()
        return default if default.is_dir() else None

    @property
    def kinds_nsi_dir(self) -> Path:
        """Where the kind catalog looks for newer NSI 1520 exports: the NSI directory, else the
        directory ``mock-remd nsi import`` writes to by default (``.mock-remd/nsi``)."""
        return Path(self.nsi_dir) if self.nsi_dir else _default_nsi_dir()

    def background_processes(self) -> int:
        """How many background processes ``serve`` runs (``processors``; 0 means as many as ``workers``)."""
        return self.processors or self.workers

    def validation_settings(self) -> ValidationSettings:
        """The document-validation part of the settings (with the live kind catalog of this NSI dir)."""
        from mock_remd.validation.context import ValidationSettings
        from mock_remd.validation.nsi.kinds import kind_catalog

        return ValidationSettings(
            layers=ValidationSettings.parse_layers(self.validation),
            packs_dir=self.packs_path,
            nsi_dir=self.nsi_path,
            signatures=self.signatures,
            trusted_ca=Path(self.trusted_ca) if self.trusted_ca else None,
            kinds=kind_catalog(self.kinds_nsi_dir),
            on_internal_error=self.on_internal_error,
            options={
                "cache_dir": self.cache_dir,
                "schematron_cache_dir": self.cache_dir or None,
                "max_document_bytes": self.max_request_bytes,
                "nsi": {"unknown_version": self.nsi_unknown_version, "strict_unknown": self.nsi_strict},
                "lifecycle": {"strict": self.versions_strict,
                              "version_types": [w.upper() for w in _words(self.version_association_types)]},
            },
        )

    def lifecycle_options(self) -> LifecycleOptions:
        """The version and link rules (a document's life) of the settings."""
        from mock_remd.core.lifecycle import LifecycleOptions

        return LifecycleOptions(
            forbidden_kinds=frozenset(_words(self.versions_forbidden_kinds)),
            version_types=frozenset(w.upper() for w in _words(self.version_association_types)),
            type_names=tuple((str(k), str(v)) for k, v in self.association_types.items()),
            strict=self.versions_strict,
            association_checks=self.association_checks,
            other_organizations=self.associations_other_organizations,
            max_document_bytes=self.max_request_bytes,
        )

    def check(self) -> None:
        """Raise :class:`ConfigError` for values that cannot work."""
        from mock_remd.catalog.incidents import ON_INTERNAL_ERROR
        from mock_remd.catalog.user_messages import text
        from mock_remd.core.systems import SystemError_, normalize_system
        from mock_remd.validation.context import SIGNATURE_LEVELS, ValidationSettings

        if self.signatures not in SIGNATURE_LEVELS:
            raise ConfigError("config.one_of", self.label("signatures"), self.signatures,
                              allowed=", ".join(SIGNATURE_LEVELS))
        try:
            ValidationSettings.parse_layers(self.validation)
        except ValueError as exc:
            from mock_remd.validation.context import LAYER_ORDER

            names = {n.strip() for n in self.validation.lower().split(",") if n.strip()}
            raise ConfigError("config.layers", self.label("validation"), self.validation,
                              unknown=", ".join(sorted(names - set(LAYER_ORDER))),
                              allowed=", ".join(LAYER_ORDER)) from exc
        if not self.db_url.startswith(("sqlite://", "postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ConfigError("config.db_kind", self.label("db_url"), self.db_url)
        if not (0 < self.port < 65536) and self.port != 0:
            raise ConfigError("config.not_port", self.label("port"), self.port)
        if self.workers < 1:
            raise ConfigError("config.at_least_one", self.label("workers"), self.workers)
        if self.nsi_unknown_version not in ("error", "latest"):
            raise ConfigError("config.one_of", self.label("nsi_unknown_version"), self.nsi_unknown_version,
                              allowed="error, latest")
        for name in ("streebog", "gost_verify"):
            if getattr(self, name).strip().lower() not in GOST_BACKENDS:
                raise ConfigError("config.one_of", self.label(name), getattr(self, name),
                                  allowed=", ".join(GOST_BACKENDS))
        if self.on_internal_error not in ON_INTERNAL_ERROR:
            raise ConfigError("config.one_of", self.label("on_internal_error"), self.on_internal_error,
                              allowed=", ".join(ON_INTERNAL_ERROR))
        if self.association_checks not in ("callback", "sync"):
            raise ConfigError("config.one_of", self.label("association_checks"), self.association_checks,
                              allowed="callback, sync")
        if not 0 <= self.background_nice <= 19:
            raise ConfigError("config.range", self.label("background_nice"), self.background_nice, low=0, high=19)
        if not 0 <= self.backlog_seconds <= 3600:
            raise ConfigError("config.range", self.label("backlog_seconds"), f"{self.backlog_seconds:g}", low=0,
                              high=3600)
        if not self.callback_backoff:
            raise ConfigError("config.no_delays", self.label("callback_backoff"))
        if any(not 0 <= d <= 86400 for d in self.callback_backoff):
            raise ConfigError("config.range", self.label("callback_backoff"),
                              ",".join(f"{d:g}" for d in self.callback_backoff), low=0, high=86400)
        if not 0 <= self.callback_delay_ms <= 86_400_000:
            raise ConfigError("config.range", self.label("callback_delay_ms"), self.callback_delay_ms, low=0,
                              high=86_400_000)
        for name in ("packs_dir", "nsi_dir", "scenarios_dir"):
            value = getattr(self, name)
            if value and not Path(value).is_dir():
                raise ConfigError("config.no_dir", self.label(name), value)
        if self.trusted_ca and not Path(self.trusted_ca).is_file():
            raise ConfigError("config.no_file", self.label("trusted_ca"), self.trusted_ca)
        for i, system in enumerate(self.systems):
            try:
                normalize_system(system)
            except SystemError_ as exc:
                name = system.get("mnemonic", i) if isinstance(system, dict) else i
                raise ConfigError("config.file_problem", value=self.config or "-",
                                  detail=text("system.in_config", name=name, problem=exc.text)) from exc

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None,
             options: dict[str, str] | None = None) -> Settings:
        """Resolve settings: ``overrides`` (command line) > environment > config file > defaults.

        ``options`` maps setting names to the command-line options that set them (``packs_dir`` ->
        ``--packs``) so that a message about a value the user typed names the option.
        """
        environ = dict(os.environ if environ is None else environ)
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        labels = {k: v for k, v in (options or {}).items() if k in overrides}
        config_path = overrides.get("config") or environ.get("MOCK_REMD_CONFIG") or ""
        file_values: dict[str, Any] = {}
        if config_path:
            path = Path(config_path)
            if not path.is_file():
                raise ConfigError("config.no_file", labels.get("config", "MOCK_REMD_CONFIG"), config_path)
            try:
                loaded = yamlsafe.load_file(path) or {}
            except (yamlsafe.YamlLimitError, yamlsafe.YamlSyntaxError) as exc:
                raise ConfigError("config.file_problem", value=config_path, detail=exc) from exc
            except OSError as exc:
                raise ConfigError("config.file_unreadable", value=config_path, detail=exc.strerror) from exc
            if not isinstance(loaded, dict):
                raise ConfigError("config.not_mapping", value=config_path)
            file_values = loaded
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(file_values) - set(known)
        if unknown:
            raise ConfigError("config.unknown_keys", value=config_path, keys=", ".join(sorted(unknown)))
        values: dict[str, Any] = {}
        for name, f in known.items():
            if name == "labels":
                continue
            env_name = f"MOCK_REMD_{name.upper()}"
            if name in overrides:
                raw = overrides[name]
            elif env_name in environ and name != "systems":
                raw = environ[env_name]
            elif name in file_values:
                raw = file_values[name]
            else:
                continue
            values[name] = cls._coerce(labels.get(name) or env_name, f, raw)
        values["config"] = config_path
        values["labels"] = labels
        if not values.get("cache_dir"):
            values["cache_dir"] = str(default_cache_dir(environ))
        settings = cls(**values)
        return settings

    @staticmethod
    def _coerce(label: str, f: dataclasses.Field, raw: Any) -> Any:
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
            if isinstance(default, dict):
                if isinstance(raw, str):  # environment: code=name;code=name
                    raw = dict(p.split("=", 1) for p in raw.split(";") if "=" in p)
                if not isinstance(raw, dict):
                    raise ConfigError("config.not_code_names", label, raw)
                return {str(k).strip(): str(v).strip() for k, v in raw.items()}
            if isinstance(default, list):
                if not isinstance(raw, list):
                    raise ConfigError("config.not_list", label, raw)
                return raw
            return "" if raw is None else str(raw)
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError("config.not_number", label, raw) from exc
