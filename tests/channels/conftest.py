"""Fixtures for the channel tests; the loopback servers themselves live in tests/servers.py."""

from __future__ import annotations

from tests.servers import http_provider, smtp_server

__all__ = ["http_provider", "smtp_server"]
