"""ISO Schematron (``queryBinding="xslt2"``) support: our own compiler to XSLT 3.0, run on saxonche.

* :mod:`.model` reads a ``.sch`` file into plain data;
* :mod:`.xpath` splits rule contexts (match patterns) into unions and steps;
* :mod:`.compiler` writes the XSLT — an optimised form and a straightforward reference form;
* :mod:`.cache` keeps compiled packs on disk, keyed by content hash;
* :mod:`.saxon` owns the one Saxon processor per process;
* :mod:`.runner` runs a compiled pack on a document and returns findings.
"""
