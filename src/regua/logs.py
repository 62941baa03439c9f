"""How regua's processes log: as today (text), or one JSON object per line
(REGUA_LOG_FORMAT=json) for the CLI, the workers and the API.

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and the event's
fields (what a caller passed in ``extra=``: ``event``, counts, ids, the day). Log lines carry
ids and counts, never a customer's name, document, e-mail, phone or address; the web server's
access lines leave out the client's address and hide the tokens in link paths (``/p/<token>``),
which open a debtor's page.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from regua.config import Settings

# The attributes every LogRecord has: anything else on a record came in `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
)
# A path segment as long as a link token (the portal's and the unsubscribe page's).
_TOKEN_SEGMENT = re.compile(r"/[A-Za-z0-9_\-.=~]{20,}")


def masked_path(path: str) -> str:
    """A request path without its link tokens: ``/p/<token>/oferta/1`` -> ``/p/***/oferta/1``."""
    return _TOKEN_SEGMENT.sub("/***", path.split("?", 1)[0])


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if (
            record.name == "uvicorn.access"
            and isinstance(record.args, tuple)
            and len(record.args) == 5
        ):
            _client, method, path, _version, status = record.args
            entry["message"] = f"{method} {masked_path(str(path))} {status}"
            entry |= {"event": "http_request", "method": method, "path": masked_path(str(path))}
            entry["status"] = status
        else:
            entry["message"] = record.getMessage()
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class _JsonHandler(logging.StreamHandler[Any]):
    """The root's JSON handler, on the stderr of the moment it was installed: a Celery worker
    later points sys.stderr at a logger, which must not be written back into the log."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(JsonFormatter())


def configure_logging(settings: Settings) -> None:
    """Send the process's logs as JSON lines to stderr when REGUA_LOG_FORMAT=json; with the
    text format leave Python's and the servers' own logging as it is. Idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _JsonHandler)]:
        root.removeHandler(handler)
    if settings.log_format != "json":
        return
    root.addHandler(_JsonHandler())
    root.setLevel(settings.log_level)
    logging.captureWarnings(True)  # a library's warning is a JSON line too, not loose text
    # The schema check at every start: alembic's setup chatter is not an event.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """The web server's logging config: None for its own (text); with JSON, its loggers
    handed to the root's JSON handler."""
    if settings.log_format != "json":
        return None
    configure_logging(settings)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": settings.log_level}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_web_logging(settings: Settings) -> None:
    """For an app built by a server already running (``uvicorn --factory``): with JSON, its
    loggers too go through the root's JSON handler."""
    config = uvicorn_log_config(settings)
    if config is not None:
        logging.config.dictConfig(config)
