"""The domain model every layer shares: the register request and its parts (``model``) and what a
request is made to do (``behaviour``: scenario actions, magic values). Plain dataclasses, no I/O."""
