"""The JSON log line: the fields every line has, the event's own, and link tokens hidden in the
paths a line names."""

from __future__ import annotations

import json
import logging
import sys

from regua.logs import JsonFormatter, masked_path


def test_a_record_becomes_one_json_object_with_its_event_fields() -> None:
    record = logging.LogRecord("regua.x", logging.INFO, __file__, 1, "day %s", ("planned",), None)
    record.event = "day_planned"
    record.new_actions = 42
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "info" and entry["logger"] == "regua.x"
    assert entry["message"] == "day planned"
    assert entry["event"] == "day_planned" and entry["new_actions"] == 42
    assert entry["time"].endswith("+00:00")


def test_an_exception_is_named_with_its_traceback() -> None:
    try:
        raise ValueError("x")
    except ValueError:
        record = logging.LogRecord("r", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["exception"] == "ValueError"
    assert "Traceback" in entry["traceback"]


def test_an_access_line_names_no_client_and_no_token() -> None:
    token = "k3J9xQ2mP7vR4tY8wZ1aB5cD6eF0gH2"
    args = ("203.0.113.9:51234", "GET", f"/p/{token}/oferta/1?x=1", "1.1", 200)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s", args, None)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["path"] == "/p/***/oferta/1" and entry["status"] == 200
    assert token not in line and "203.0.113.9" not in line
    assert masked_path("/api/v1/webhooks/pix") == "/api/v1/webhooks/pix"
