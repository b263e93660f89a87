"""Fetching a packs archive (``mock-remd packs download``): http(s) with requests, or a local file."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

from mock_remd.catalog.user_messages import Text, text

MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


class DownloadError(RuntimeError):
    """The source cannot be reached or did not give a ZIP: ``text`` is the sentence for the user, rendered in
    their language; ``str()`` is the English one (logs)."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.render("en"))
        self.text = message


def fetch_archive(source: str, target_dir: Path, *, timeout: float = 60.0) -> Path:
    """Download ``source`` (``http(s)://…``, ``file://…`` or a path) into ``target_dir``; returns the file."""
    parsed = urlparse(source)
    target = target_dir / "packs.zip"
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path) if parsed.scheme == "file" else source)
        if not path.is_file():
            raise DownloadError(text("download.not_readable", source=source))
        shutil.copyfile(path, target)
        return target
    if parsed.scheme not in ("http", "https"):
        raise DownloadError(text("download.scheme", source=source))
    try:
        with requests.get(source, stream=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise DownloadError(text("download.http", source=source, status=resp.status_code))
            size = 0
            with open(target, "wb") as out:
                for chunk in resp.iter_content(chunk_size=1 << 16):
                    size += len(chunk)
                    if size > MAX_ARCHIVE_BYTES:
                        raise DownloadError(text("download.too_big", source=source, limit=MAX_ARCHIVE_BYTES // 2**20))
                    out.write(chunk)
    except requests.Timeout as exc:
        raise DownloadError(text("download.timeout", source=source, seconds=f"{timeout:g}")) from exc
    except requests.RequestException as exc:
        raise DownloadError(text("download.unreachable", source=source)) from exc
    return target
