"""One running mock-remd: settings, store, validator, registry core, processor and callback sender.

``Runtime`` wires the parts; web layers (SOAP endpoint, admin API) are built on top of it by
:mod:`mock_remd.server.wsgi`. Background loops start explicitly (after fork under gunicorn).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from mock_remd.background import BackgroundLoop
from mock_remd.catalog.incidents import Incident, record_incident
from mock_remd.catalog.user_messages import Text, text
from mock_remd.config import Settings, register_gost_backends
from mock_remd.conformance.engine import ConformanceEngine
from mock_remd.core.registry import RegistryOptions, RegistryService
from mock_remd.domain.behaviour import FirstOf
from mock_remd.scenarios.engine import ScenarioEngine
from mock_remd.store.repository import Store

# The processor, the callback sender and the validator (with what they import: the validation
# layers, requests, libcurl) are built on first use: an HTTP worker of ``serve`` ("http" role) never
# processes nor sends, and carrying them cost each worker several MiB (issue 16, goal 6).
if TYPE_CHECKING:
    from mock_remd.core.processing import Processor
    from mock_remd.delivery.sender import CallbackSender
    from mock_remd.validation.pipeline import Validator

log = logging.getLogger(__name__)

#: background processes record they are alive this often; /ready wants a beat within 5 periods
HEARTBEAT_SECONDS = 1.0


class Runtime:
    """Everything one process of the server needs."""

    #: "all": serves and processes (one process); "http": serves only (gunicorn workers);
    #: "background": processes only (the processes ``serve`` runs beside the workers)
    ROLES = ("all", "http", "background")

    def __init__(self, settings: Settings, *, poll_interval: float = 0.2, seed_systems: bool = True,
                 role: str = "all") -> None:
        if role not in self.ROLES:
            raise ValueError(f"role must be one of {self.ROLES}")
        self.role = role
        settings.check()
        self.settings = settings
        register_gost_backends(settings)
        self.store = Store(settings.db_url, journal_size=settings.journal_size)
        #: what documents are validated with (the validator itself is built on first use)
        self.validation = settings.validation_settings()
        #: the kind catalog: built in, following newer NSI 1520 exports imported while running
        self.kinds = self.validation.kinds
        self._poll_interval = poll_interval
        self.options = RegistryOptions(
            region=settings.region,
            registry_prefix=settings.registry_prefix,
            check_checksums=settings.check_checksums,
            magic_values=settings.magic_values,
            store_years=settings.store_years,
            callback_delay_ms=settings.callback_delay_ms,
            callback_backoff=tuple(settings.callback_backoff),
            lifecycle=settings.lifecycle_options(),
            backlog_seconds=settings.backlog_seconds,
            backlog_limit=settings.backlog_limit,
        )
        self.scenarios = ScenarioEngine(self.store, scenarios_dir=settings.scenarios_dir)
        # a conformance run decides before the scenarios for the system it tests
        self.conformance = ConformanceEngine(self.store, scenarios_dir=settings.scenarios_dir)
        self.service = RegistryService(
            self.store, self.kinds, self.options, behaviours=FirstOf(self.conformance, self.scenarios),
            on_accepted=None if role == "http" else self.processor.wake
        )
        self.judge = BackgroundLoop("mock-remd-conformance", self._judge, poll_interval=max(poll_interval, 0.1))
        if seed_systems:
            self.service.seed_systems(settings.systems)
        self._started = False
        self._heartbeat: BackgroundLoop | None = None
        self._lock = threading.Lock()
        self._store_incident: Incident | None = None
        self.started_at = time.time()

    @functools.cached_property
    def validator(self) -> Validator:
        """The document validator (of the processor; the dashboard's tools and /ready read it too)."""
        from mock_remd.validation.pipeline import Validator

        return Validator(self.validation)

    def _built_validator(self) -> Validator | None:
        """The validator when this process has built it (an HTTP worker of ``serve`` builds none for /ready)."""
        return self.__dict__.get("validator")

    @functools.cached_property
    def sender(self) -> CallbackSender:
        """The callback sender (runs in the roles that process)."""
        from mock_remd.delivery.sender import CallbackSender

        return CallbackSender(self.store, timeout=self.settings.callback_timeout, poll_interval=self._poll_interval)

    @functools.cached_property
    def processor(self) -> Processor:
        """The document processor (runs in the roles that process)."""
        from mock_remd.core.processing import Processor

        return Processor(
            self.store,
            self.validator,
            self.options,
            pull_timeout=self.settings.pull_timeout,
            max_document_bytes=self.settings.max_request_bytes,
            on_enqueued=self.sender.wake,
            hand_off=self.sender,
            poll_interval=self._poll_interval,
            validation_nice=self.settings.background_nice if self.role == "background" else 0,
            validations=_validations_per_process(self.settings) if self.role == "background" else 0,
        )

    # ---- lifecycle -----------------------------------------------------------------------------
    def start_background(self) -> None:
        """Start the processor and the callback sender (in each serving process, after fork)."""
        with self._lock:
            if self._started:
                return
            self.store.after_fork()
            if self.role != "http":
                self.store.start_checkpoints()  # the HTTP workers' writes never wait for one
                self.processor.start()
                self.sender.start()
                self.judge.start()
            if self.role == "background":
                self._heartbeat = BackgroundLoop("mock-remd-heartbeat", self._beat, poll_interval=HEARTBEAT_SECONDS)
                self._heartbeat.start()
            self._started = True

    def stop(self) -> None:
        """Stop the loops; accepted work stays in the store for the next start."""
        with self._lock:
            if not self._started:
                return
            if self.role != "http":
                self.processor.stop()
                self.sender.stop()
                self.judge.stop()
                self.store.stop_watching()
                self.store.stop_checkpoints()
            if self._heartbeat is not None:
                self._heartbeat.stop()
                self.store.heartbeats.forget(self.processor.owner)
            self._started = False

    def server_faults(self) -> list[str | Text]:
        """Faults of the server (not of any document) that validation met or that the settings point at now."""
        validator = self._built_validator()
        met = validator.server_faults if validator is not None else {}
        faults = [f"{layer}: {text}" for layer, text in sorted(met.items())]
        ca = self.settings.trusted_ca
        if ca and "signatures" in self.validation.layers:
            try:
                with open(ca, "rb") as fh:
                    fh.read(1)
            except OSError:
                faults.append(text("ready.ca_unreadable", ca=ca))
        return faults

    def _judge(self) -> int:
        self.conformance.judge_active()
        return 0  # judged on a timer, whatever changed

    def _beat(self) -> int:
        self.store.heartbeats.beat(self.processor.owner, "processor+sender")
        return 0

    def wake(self) -> None:
        """Look for work now (in an HTTP worker nothing: the background processes see the store move)."""
        if self.role != "http":
            self.processor.wake()
            self.sender.wake()

    def material(self) -> dict[str, Any]:
        """The kind catalog's version, installed packs and the layers that lack material (for /ready)."""
        from mock_remd.validation.material import missing_material
        from mock_remd.validation.pack_index import installed_packs

        vs = self.validation
        validator = self._built_validator()
        caches = validator.caches if validator is not None else None
        gaps = missing_material(vs, caches)
        index = caches.pack_index(vs.packs_dir) if caches is not None else installed_packs(vs.packs_dir)
        out: dict[str, Any] = {
            "kinds": {"version": self.kinds.version, "count": len(self.kinds), "source": self.kinds.source},
            "packs": {"installed": len(index.packs),
                      "dir": str(vs.packs_dir) if vs.packs_dir else None},
            "layers_without_material": [g.as_dict() for g in gaps],
        }
        if self.kinds.reload_error:
            out["kinds"]["reload_error"] = self.kinds.reload_error
        return out

    # ---- health --------------------------------------------------------------------------------
    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details): ready once the store answers and both loops run; sentences in details are
        catalogue :class:`Text` to be rendered in the client's language."""
        details: dict[str, Any] = {"warnings": []}
        try:
            details["store"] = "ok" if self.store.ping() else "no answer"
            self._store_incident = None
        except Exception:  # logged once per outage, shown as a sentence with the incident id
            if self._store_incident is None:
                self._store_incident = record_incident("store ping")
            details["store"] = text("ready.store_down", id=self._store_incident.id)
        if self.role == "http":
            try:
                live = self.store.heartbeats.live(HEARTBEAT_SECONDS * 5)
            except Exception:
                live = []
            details["background_processes"] = len(live)
            details["processor"] = details["sender"] = "running" if live else "stopped"
        else:
            details["processor"] = "running" if self.processor.loop.running else "stopped"
            details["sender"] = "running" if self.sender.loop.running else "stopped"
        details["validation_layers"] = sorted(self.validation.layers)
        details["signatures"] = self.settings.signatures
        from mock_remd.gost import openssl_gost, streebog

        details["streebog_backend"] = streebog.backend_name()
        if streebog.backend_warning():
            details["warnings"].append(text("ready.streebog_slow"))
        if self.settings.signatures == "crypto":  # who checks signature values, and why not OpenSSL
            details["crypto_backend"] = openssl_gost.backend_name()
            why = openssl_gost.backend_reason()
            if why:
                details["warnings"].append(text("ready.crypto_slow", why=text(why)))
        details.update(self.material())
        for loop in () if self.role == "http" else (self.processor.loop, self.sender.loop):
            if loop.last_error:
                details["warnings"].append(f"{loop.name}: {loop.last_error}")
        faults = self.server_faults()
        if faults:
            details["server_faults"] = faults
            details["warnings"].extend(faults)
        ready = details["store"] == "ok" and details["processor"] == "running" and details["sender"] == "running"
        return ready, details


def _validations_per_process(settings: Settings) -> int:
    """How many documents each of ``serve``'s background processes validates at once: together as
    many as there are cores (the processes validate side by side without sharing a GIL)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // settings.background_processes())


def prepare_store(settings: Settings) -> None:
    """Create the schema and load the configured systems once, before workers start."""
    settings.check()
    store = Store(settings.db_url, journal_size=settings.journal_size)
    service = RegistryService(store, settings.validation_settings().kinds, RegistryOptions())
    service.seed_systems(settings.systems)
    store.close()
