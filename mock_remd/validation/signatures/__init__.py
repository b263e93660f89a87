"""Machinery of the ``signatures`` validation layer: CMS inspection, verification, WS-Security (the GOST
primitives live in :mod:`mock_remd.gost`)."""
