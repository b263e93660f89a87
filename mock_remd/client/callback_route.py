"""Pointing a system's callback at a ``send``'s temporary port, safely while other sends wait too.

A registry calls a system back at one ``callback_url``. Each ``mock-remd send`` waits on its own
temporary port; several sends for the same server and system at once share that one address: the
sends meet in a folder under the temp directory (one file per waiting request, an ``flock``), the
system points at the newest waiter, and a sink that receives a callback meant for another waiter
forwards it to that waiter's port. The last one to leave restores the system's own address
(the server re-addresses callbacks still pending for the temporary port, so none keeps retrying it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from mock_remd.domain.model import normalize_message_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CallbackRoute:
    """This send's place among the sends waiting for callbacks of ``system`` on ``base_url``."""

    def __init__(self, admin: Any, system: str, base_url: str, *, advertised_url: str, local_url: str,
                 message_id: str, folder: Path | None = None) -> None:
        self.admin, self.system = admin, system
        self.advertised_url, self.local_url = advertised_url, local_url
        self.message_id = normalize_message_id(message_id)
        key = hashlib.sha256(f"{base_url.rstrip('/')}|{system}".encode()).hexdigest()[:16]
        self.folder = folder or Path(tempfile.gettempdir()) / "mock-remd-send" / key
        self.forwarded: set[int] = set()
        self.foreign: list[Any] = []
        self._http = requests.Session()
        self._http.trust_env = False

    # ---- shared state --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        (self.folder / "waiters").mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _waiters(self) -> list[dict[str, Any]]:
        """Live waiters, oldest first (files of dead processes are removed)."""
        out = []
        for path in sorted((self.folder / "waiters").glob("*.json"), key=lambda p: p.stat().st_mtime):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if _alive(int(data.get("pid", 0))):
                out.append(data)
            else:
                path.unlink(missing_ok=True)
        return out

    def _waiter_file(self, message_id: str) -> Path:
        return self.folder / "waiters" / f"{hashlib.sha256(message_id.encode()).hexdigest()[:24]}.json"

    # ---- joining and leaving -------------------------------------------------------------------
    def open(self) -> str:
        """Point the system at this send's port; returns the address the system had before."""
        with self._locked():
            others = self._waiters()
            current = self.admin.system(self.system)
            if current is None:
                raise LookupError(self.system)
            original_file = self.folder / "original.json"
            if not others or not original_file.exists():
                original_file.write_text(json.dumps({"url": current.get("callback_url") or ""}), encoding="utf-8")
            original = json.loads(original_file.read_text(encoding="utf-8"))["url"]
            self._waiter_file(self.message_id).write_text(
                json.dumps({"pid": os.getpid(), "message_id": self.message_id, "url": self.advertised_url,
                            "local": self.local_url}), encoding="utf-8")
            self.admin.put_system(self.system, current, callback_url=self.advertised_url)
            return original

    def close(self) -> None:
        """Leave: the system points at another waiter, else back at its own address."""
        with self._locked():
            self._waiter_file(self.message_id).unlink(missing_ok=True)
            others = self._waiters()
            current = self.admin.system(self.system)
            original_file = self.folder / "original.json"
            if current is None:
                return
            if others:
                target = others[-1]["url"]
            else:
                try:
                    target = json.loads(original_file.read_text(encoding="utf-8"))["url"]
                except (OSError, ValueError, KeyError):
                    target = current.get("callback_url") or ""
                original_file.unlink(missing_ok=True)
            if current.get("callback_url") != target:
                self.admin.put_system(self.system, current, callback_url=target)

    # ---- callbacks meant for another waiter ------------------------------------------------------
    def forward_foreign(self, sink: Any) -> list[Any]:
        """Forward callbacks on ``sink`` that belong to another waiting send; returns the truly foreign ones."""
        for result in list(sink.results):
            if id(result) in self.forwarded or not result.well_formed:
                continue
            mid = normalize_message_id(result.relates_to)
            if not mid or mid == self.message_id:
                continue
            path = self._waiter_file(mid)
            try:
                target = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.forwarded.add(id(result))
                self.foreign.append(result)
                continue
            self.forwarded.add(id(result))
            with contextlib.suppress(requests.RequestException):
                self._http.post(target["local"], data=result.raw, timeout=5,
                                headers={"Content-Type": result.content_type or "text/xml; charset=utf-8"})
        return self.foreign
