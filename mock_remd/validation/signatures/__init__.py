"""Machinery of the ``signatures`` validation layer: GOST OIDs, Streebog, CMS inspection, verification, WS-Security."""
