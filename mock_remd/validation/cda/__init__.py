"""Helpers for reading a CDA ``ClinicalDocument``: namespaces, paths, timestamps, SNILS, the header facts.

Layers import what they need from the submodules:

* :mod:`.access` — namespace map, child lookup, registry-style element paths;
* :mod:`.timestamps` — HL7 ``TS`` values and request ``xs:date``/``xs:dateTime`` values;
* :mod:`.snils` — SNILS shape and check digit;
* :mod:`.document` — :class:`~.document.CdaHeader`, the header facts the checks compare;
* :mod:`.checker` — :class:`~.checker.RuleChecker`, assertions that produce registry-shaped findings.
"""
