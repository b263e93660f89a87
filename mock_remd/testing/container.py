"""``RemdContainer``: mock-remd as a Testcontainers-python container (needs ``pip install testcontainers``).

>>> from mock_remd.testing.container import RemdContainer            # doctest: +SKIP
>>> with RemdContainer("mock-remd:0.1.0", signatures="off") as remd:  # doctest: +SKIP
...     url = remd.get_url()                   # http://<docker host>:<mapped port>
...     # run the MIS against url + "/port/emdr"; pytest: pytest --remd-url=<url>

``start()`` returns once ``/ready`` answers 200. Keyword settings become ``MOCK_REMD_<NAME>``
environment variables (the image is configured by environment only). Without testcontainers
installed, importing ``RemdContainer`` raises an ``ImportError`` that says what to install;
:func:`container_env` and :data:`PORT` work regardless.
"""

from __future__ import annotations

from typing import Any

PORT = 8080
DEFAULT_IMAGE = "mock-remd:0.1.0"
INSTALL_HINT = (
    "mock_remd.testing.container.RemdContainer needs Testcontainers: pip install testcontainers "
    "(and a Docker engine). Without Docker, use the pytest plugin's in-process server (the `remd` fixture) "
    "or `mock-remd serve`."
)


def container_env(**settings: Any) -> dict[str, str]:
    """``MOCK_REMD_*`` variables for ``settings`` (``db_url="sqlite://"`` → ``MOCK_REMD_DB_URL``).

    Host and port are fixed by the image (0.0.0.0:8080); booleans become ``true``/``false`` and
    sequences comma-separated lists.
    """
    env: dict[str, str] = {}
    for name, value in settings.items():
        if value is None:
            continue
        key = name.upper() if name.upper().startswith("MOCK_REMD_") else f"MOCK_REMD_{name.upper()}"
        if key in ("MOCK_REMD_HOST", "MOCK_REMD_PORT"):
            raise ValueError(f"{key} is fixed in the image (0.0.0.0:{PORT}); map the port instead")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        env[key] = text
    return env


def _build_class() -> type:
    from testcontainers.core.container import DockerContainer

    from mock_remd.cli.cmd_wait import wait_ready

    class RemdContainer(DockerContainer):  # type: ignore[misc, valid-type]
        """A mock-remd container with its port exposed; ``start()`` waits until ``/ready`` is 200."""

        def __init__(self, image: str = DEFAULT_IMAGE, *, ready_timeout: float = 60.0, **settings: Any) -> None:
            super().__init__(image)
            self.ready_timeout = ready_timeout
            self.with_exposed_ports(PORT)
            for key, value in container_env(**settings).items():
                self.with_env(key, value)

        def get_url(self) -> str:
            """Base URL of the mock as seen from the tests (``http://host:mapped-port``)."""
            return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

        def get_soap_url(self) -> str:
            """The SOAP endpoint for the MIS."""
            return self.get_url() + "/port/emdr"

        def start(self) -> RemdContainer:
            super().start()
            ok, last = wait_ready(self.get_url(), self.ready_timeout, lang="en")
            if not ok:
                raise TimeoutError(f"mock-remd container not ready after {self.ready_timeout:g} s ({last})")
            return self

    return RemdContainer


def __getattr__(name: str) -> Any:
    if name != "RemdContainer":
        raise AttributeError(name)
    try:
        cls = _build_class()
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    globals()["RemdContainer"] = cls
    return cls
