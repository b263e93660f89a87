"""GOST R 34.11-2012 (Streebog) digests with the fastest backend available.

Order of preference:

1. ``openssl`` — Python's :mod:`hashlib` through OpenSSL with the GOST provider/engine (Debian
   ``libengine-gost-openssl``). If hashlib does not know ``md_gost12_256`` yet, the ``gostprov``
   provider is loaded into OpenSSL's default context through ``ctypes`` (same libcrypto hashlib uses).
2. ``gostcrypto`` — pure Python, correct but slow (seconds per MiB); :func:`backend_warning` says so.

The choice is process-wide by nature (the provider is loaded into libcrypto's one default context):
start-up registers it with :func:`configure` from the settings (``MOCK_REMD_STREEBOG=gostcrypto``
forces the pure-Python backend); until then the fastest available one is used.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import threading
from collections.abc import Callable

import gostcrypto

log = logging.getLogger(__name__)

_OPENSSL_NAMES = {256: "md_gost12_256", 512: "md_gost12_512"}
_GOSTCRYPTO_NAMES = {256: "streebog256", 512: "streebog512"}

#: the backends :func:`configure` accepts: ``auto`` (OpenSSL when it can, else gostcrypto) or ``gostcrypto``
CHOICES = ("auto", "gostcrypto")

_lock = threading.Lock()
_preferred = "auto"
_backend: str | None = None


def configure(backend: str = "auto") -> None:
    """Register the backend this process uses (called once at start-up from the settings)."""
    global _preferred, _backend
    if backend not in CHOICES:
        raise ValueError(f"Streebog backend must be one of {CHOICES}, not {backend!r}")
    with _lock:
        if backend != _preferred:
            _preferred, _backend = backend, None


def _hashlib_knows_gost() -> bool:
    try:
        hashlib.new(_OPENSSL_NAMES[256], b"")
        return True
    except (ValueError, TypeError):
        return False


def _load_gost_provider() -> bool:
    """Load OpenSSL's ``gostprov`` provider into the default library context used by hashlib."""
    candidates = ["libcrypto.so.3", ctypes.util.find_library("crypto")]
    for name in filter(None, candidates):
        try:
            lib = ctypes.CDLL(name)
            load = lib.OSSL_PROVIDER_load
        except (OSError, AttributeError):
            continue
        load.restype = ctypes.c_void_p
        load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        # Loading a provider explicitly stops OpenSSL's implicit fallback: keep "default" loaded too.
        if not load(None, b"default"):
            continue
        if load(None, b"gostprov"):
            return True
    return False


def _detect() -> str:
    if _preferred == "gostcrypto":
        return "gostcrypto"
    if _hashlib_knows_gost():
        return "openssl"
    try:
        if _load_gost_provider() and _hashlib_knows_gost():
            return "openssl"
    except Exception:  # pragma: no cover - exotic libcrypto builds
        log.debug("could not load the OpenSSL GOST provider", exc_info=True)
    return "gostcrypto"


def backend_name() -> str:
    """``openssl`` (hashlib + GOST engine/provider) or ``gostcrypto`` (pure Python)."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = _detect()
                if _backend == "gostcrypto":
                    log.warning(backend_warning())
    return _backend


def backend_warning() -> str | None:
    """A warning for ``/ready`` details when the slow pure-Python backend is in use, else None."""
    if backend_name() == "openssl":
        return None
    return (
        "Streebog (GOST R 34.11-2012) is computed in pure Python (gostcrypto, about 6 s per MiB): "
        "install the OpenSSL GOST engine (Debian package libengine-gost-openssl) for fast digest checks"
    )


def openssl_digest(data: bytes, bits: int = 256) -> bytes:
    """Streebog through hashlib/OpenSSL; raises ValueError when OpenSSL has no GOST support."""
    return hashlib.new(_OPENSSL_NAMES[bits], data).digest()


def gostcrypto_digest(data: bytes, bits: int = 256) -> bytes:
    """Streebog in pure Python (gostcrypto)."""
    return bytes(gostcrypto.gosthash.new(_GOSTCRYPTO_NAMES[bits], data=bytearray(data)).digest())


_BACKENDS: dict[str, Callable[[bytes, int], bytes]] = {"openssl": openssl_digest, "gostcrypto": gostcrypto_digest}


def digest(data: bytes, bits: int = 256) -> bytes:
    """Streebog-``bits`` (256 or 512) of ``data``, in the byte order hash tools print and CMS stores."""
    if bits not in (256, 512):
        raise ValueError(f"Streebog has 256 and 512 bit variants, not {bits}")
    return _BACKENDS[backend_name()](data, bits)
