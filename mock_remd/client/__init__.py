"""MIS-side tooling: build a ``registerDocument`` request from a CDA file and learn its outcome.

Used by ``mock-remd send``; usable from scripts:

>>> from mock_remd.client.document import read_facts, build_request   # doctest: +SKIP
"""
