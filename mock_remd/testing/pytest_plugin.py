"""pytest plugin of mock-remd (being built: fixtures ``remd_server`` and ``remd``)."""
