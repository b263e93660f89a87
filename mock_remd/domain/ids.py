"""Random identifiers of messages: version 4 UUIDs as text, cheap to make.

An answer's or callback's ``wsa:MessageID`` must be unique, not secret. ``uuid.uuid4()`` reads
``os.urandom``, a system call that lets the GIL go (under load a thread hand-off per message); here
the bits come from a generator of this module's own, seeded from the system once per process and
again in every forked child. It is not the ``random`` module's shared generator: a test suite that
calls ``random.seed()`` (the pytest plugin runs the server in its process) must not make two
messages share an id.
"""

from __future__ import annotations

import os
import random

_generator = random.Random()
# a forked worker must not repeat its parent's ids
os.register_at_fork(after_in_child=_generator.seed)

#: the version (4) and variant (RFC 4122) bits of a random UUID
_V4_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_V4_BITS = (0x4000 << 64) | (0x8000 << 48)


def message_uuid() -> str:
    """A random version 4 UUID, as text (``xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx``)."""
    h = f"{_generator.getrandbits(128) & _V4_MASK | _V4_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
