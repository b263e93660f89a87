"""Fetching a packs archive (``mock-remd packs download``): http(s) with requests, or a local file."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


class DownloadError(RuntimeError):
    """The source cannot be reached or did not give a ZIP (one sentence for the user)."""


def fetch_archive(source: str, target_dir: Path, *, timeout: float = 60.0) -> Path:
    """Download ``source`` (``http(s)://…``, ``file://…`` or a path) into ``target_dir``; returns the file."""
    parsed = urlparse(source)
    target = target_dir / "packs.zip"
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path) if parsed.scheme == "file" else source)
        if not path.is_file():
            raise DownloadError(f"{source} is not a file that can be read")
        shutil.copyfile(path, target)
        return target
    if parsed.scheme not in ("http", "https"):
        raise DownloadError(f"{source}: only http, https and file sources are supported")
    try:
        with requests.get(source, stream=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise DownloadError(f"{source} answered HTTP {resp.status_code}, not the archive")
            size = 0
            with open(target, "wb") as out:
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > MAX_ARCHIVE_BYTES:
                        raise DownloadError(f"{source} sent more than {MAX_ARCHIVE_BYTES // 2**20} MB")
                    out.write(chunk)
    except requests.Timeout as exc:
        raise DownloadError(f"{source} did not answer within {timeout:g} s") from exc
    except requests.RequestException as exc:
        raise DownloadError(
            f"{source} cannot be reached (no connection); download the ZIP where the network allows and run "
            "mock-remd packs import FILE"
        ) from exc
    return target
