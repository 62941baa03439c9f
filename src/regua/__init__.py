"""regua: a collections (cobrança) engine for Brazilian businesses."""

__version__ = "0.1.0"
