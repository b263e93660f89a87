"""The failure of a callback POST, apart from the code that sends it (libcurl is loaded only by the
processes that send callbacks, not by the HTTP workers that import the sender's module)."""

from __future__ import annotations


class PostFailed(Exception):
    """The POST got no answer; ``kind`` is one of :data:`mock_remd.catalog.incidents.FAILURE_KINDS`."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
