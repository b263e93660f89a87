"""GOST R 34.10 signature values verified by OpenSSL's GOST engine, through ``ctypes`` into libcrypto.

The pure-Python arithmetic (gostcrypto) costs tens of milliseconds per signature; OpenSSL's GOST engine
(Debian ``libengine-gost-openssl``) under a millisecond. The engine is loaded on the first verification
(never on import): ``ENGINE_by_id("gost")``, then its key methods are registered so that libcrypto can
decode GOST SubjectPublicKeyInfo. That registration only adds the GOST key types to OpenSSL's lookup
tables; every other algorithm resolves as before. The engine is process-wide state of libcrypto, so the
choice is too: start-up registers it with :func:`configure` from the settings
(``MOCK_REMD_GOST_VERIFY=gostcrypto`` keeps the pure Python path; :func:`backend_name` says which one
runs; :func:`backend_warning` explains a fallback).

Byte orders are the wire ones on both sides: the digest as Streebog/GOST 94 output it, the signature
``s ‖ r`` big-endian halves, exactly what the engine's verify expects (it is what CMS carries).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections import OrderedDict

log = logging.getLogger(__name__)

_c_p = ctypes.c_void_p
_lock = threading.Lock()
_state: dict[str, object] = {}
_KEYS_MAX = 1024
#: the backends :func:`configure` accepts: ``auto`` (the engine when installed) or ``gostcrypto``
CHOICES = ("auto", "gostcrypto")
_preferred = "auto"


def configure(backend: str = "auto") -> None:
    """Register who verifies signature values in this process (called once at start-up from the settings)."""
    global _preferred
    if backend not in CHOICES:
        raise ValueError(f"GOST verification backend must be one of {CHOICES}, not {backend!r}")
    with _lock:
        if backend == _preferred:
            return
        _preferred = backend
        crypto, keys = _state.get("crypto"), _state.get("keys") or {}
        if isinstance(crypto, _LibCrypto):
            for pkey in keys.values():  # type: ignore[union-attr]
                crypto.EVP_PKEY_free(pkey)
        _state.clear()


class _LibCrypto:
    """The libcrypto functions used here, with their C signatures."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        sig = {
            "ENGINE_by_id": (_c_p, [ctypes.c_char_p]),
            "ENGINE_init": (ctypes.c_int, [_c_p]),
            "ENGINE_register_pkey_asn1_meths": (ctypes.c_int, [_c_p]),
            "ENGINE_register_pkey_meths": (ctypes.c_int, [_c_p]),
            "d2i_PUBKEY": (_c_p, [_c_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
            "EVP_PKEY_free": (None, [_c_p]),
            "EVP_PKEY_up_ref": (ctypes.c_int, [_c_p]),
            "EVP_PKEY_CTX_new": (_c_p, [_c_p, _c_p]),
            "EVP_PKEY_CTX_free": (None, [_c_p]),
            "EVP_PKEY_verify_init": (ctypes.c_int, [_c_p]),
            "EVP_PKEY_verify": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
            "ERR_clear_error": (None, []),
            "d2i_AutoPrivateKey": (_c_p, [_c_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
            "EVP_PKEY_sign_init": (ctypes.c_int, [_c_p]),
            "EVP_PKEY_sign": (ctypes.c_int, [_c_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p,
                                             ctypes.c_size_t]),
        }
        for name, (restype, argtypes) in sig.items():
            func = getattr(lib, name)
            func.restype = restype
            func.argtypes = argtypes
            setattr(self, name, func)


def _load() -> tuple[_LibCrypto | None, str]:
    """libcrypto with the GOST engine's key methods registered, or (None, why not)."""
    if _preferred == "gostcrypto":
        return None, "MOCK_REMD_GOST_VERIFY=gostcrypto"
    for name in filter(None, ("libcrypto.so.3", ctypes.util.find_library("crypto"))):
        try:
            crypto = _LibCrypto(ctypes.CDLL(name))
        except (OSError, AttributeError):
            continue
        engine = crypto.ENGINE_by_id(b"gost")
        if not engine or crypto.ENGINE_init(engine) != 1:
            crypto.ERR_clear_error()
            return None, "OpenSSL GOST engine not found (Debian package libengine-gost-openssl)"
        if crypto.ENGINE_register_pkey_asn1_meths(engine) != 1 or crypto.ENGINE_register_pkey_meths(engine) != 1:
            crypto.ERR_clear_error()
            return None, "OpenSSL GOST engine has no key methods"
        return crypto, ""
    return None, "libcrypto not found"


def _crypto() -> _LibCrypto | None:
    if "crypto" not in _state:
        with _lock:
            if "crypto" not in _state:
                try:
                    crypto, why = _load()
                except Exception:  # pragma: no cover - an exotic libcrypto: fall back, say so in the log
                    log.warning("OpenSSL GOST engine could not be loaded", exc_info=True)
                    crypto, why = None, "OpenSSL GOST engine could not be loaded (see the log)"
                _state["why"] = why
                _state["keys"] = OrderedDict()
                _state["crypto"] = crypto
                if crypto is None:
                    log.warning(backend_warning())
    return _state["crypto"]  # type: ignore[return-value]


def backend_name() -> str:
    """``openssl`` (the GOST engine verifies) or ``gostcrypto`` (pure Python)."""
    return "openssl" if _crypto() is not None else "gostcrypto"


#: why OpenSSL does not check signature values -> the catalogue key of that reason
WHY_KEYS = {
    "MOCK_REMD_GOST_VERIFY=gostcrypto": "ready.why.forced",
    "OpenSSL GOST engine not found (Debian package libengine-gost-openssl)": "ready.why.no_engine",
    "OpenSSL GOST engine has no key methods": "ready.why.no_methods",
    "libcrypto not found": "ready.why.no_libcrypto",
    "OpenSSL GOST engine could not be loaded (see the log)": "ready.why.failed",
}


def backend_reason() -> str | None:
    """The catalogue key of why signature values are checked in pure Python, or None when OpenSSL does it."""
    if _state.get("crypto") is not None or "crypto" not in _state:
        return None
    return WHY_KEYS.get(str(_state.get("why")), "ready.why.failed")


def backend_warning() -> str | None:
    """Why signature values are checked in slow pure Python, or None when OpenSSL does it."""
    if _state.get("crypto") is not None or "crypto" not in _state:
        return None
    return (f"GOST R 34.10 signatures are verified in pure Python (gostcrypto, tens of milliseconds each): "
            f"{_state.get('why')}")


def _public_key(crypto: _LibCrypto, spki_der: bytes) -> int | None:
    """An EVP_PKEY for the key (cached by its DER) with a reference the caller must free."""
    keys: OrderedDict[bytes, int] = _state["keys"]  # type: ignore[assignment]
    with _lock:
        pkey = keys.get(spki_der)
        if pkey is not None:
            keys.move_to_end(spki_der)
            crypto.EVP_PKEY_up_ref(pkey)
            return pkey
    pointer = ctypes.c_char_p(spki_der)
    pkey = crypto.d2i_PUBKEY(None, ctypes.byref(pointer), len(spki_der))
    if not pkey:
        crypto.ERR_clear_error()
        return None
    with _lock:
        keys[spki_der] = pkey
        crypto.EVP_PKEY_up_ref(pkey)
        while len(keys) > _KEYS_MAX:
            _old, evicted = keys.popitem(last=False)
            crypto.EVP_PKEY_free(evicted)  # users still holding it keep their own reference
    return pkey


def verify(spki_der: bytes, digest: bytes, signature: bytes) -> bool | None:
    """True/False from OpenSSL's GOST engine; None when it is unavailable or cannot read the key."""
    crypto = _crypto()
    if crypto is None:
        return None
    pkey = _public_key(crypto, spki_der)
    if pkey is None:
        return None
    ctx = crypto.EVP_PKEY_CTX_new(pkey, None)
    if not ctx:
        crypto.ERR_clear_error()
        crypto.EVP_PKEY_free(pkey)
        return None
    try:
        if crypto.EVP_PKEY_verify_init(ctx) != 1:
            crypto.ERR_clear_error()
            return None
        ok = crypto.EVP_PKEY_verify(ctx, signature, len(signature), digest, len(digest)) == 1
        if not ok:
            crypto.ERR_clear_error()
        return ok
    finally:
        crypto.EVP_PKEY_CTX_free(ctx)
        crypto.EVP_PKEY_free(pkey)


def sign(pkcs8_der: bytes, digest: bytes) -> bytes | None:
    """The GOST R 34.10-2012 signature (``s ‖ r``, as CMS carries it) of ``digest`` by the PKCS#8 key, made
    by OpenSSL's GOST engine; None when the engine is unavailable or cannot read the key.

    For tools that sign many documents quickly (the benchmarks); the product itself only verifies.
    """
    crypto = _crypto()
    if crypto is None:
        return None
    pointer = ctypes.c_char_p(pkcs8_der)
    pkey = crypto.d2i_AutoPrivateKey(None, ctypes.byref(pointer), len(pkcs8_der))
    if not pkey:
        crypto.ERR_clear_error()
        return None
    ctx = crypto.EVP_PKEY_CTX_new(pkey, None)
    try:
        if not ctx or crypto.EVP_PKEY_sign_init(ctx) != 1:
            crypto.ERR_clear_error()
            return None
        size = ctypes.c_size_t(128)
        out = ctypes.create_string_buffer(size.value)
        if crypto.EVP_PKEY_sign(ctx, out, ctypes.byref(size), digest, len(digest)) != 1:
            crypto.ERR_clear_error()
            return None
        return out.raw[: size.value]
    finally:
        if ctx:
            crypto.EVP_PKEY_CTX_free(ctx)
        crypto.EVP_PKEY_free(pkey)
