"""mock-remd: an offline, faithful stand-in for the regional REMD of ЕМИАС МО."""

__version__ = "0.1.0"
