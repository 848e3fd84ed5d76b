"""What the functions log, as records: the root logger (the local gateway logs a crashed function
there) and the Powertools logger every function shares, which reaches the root logger unless it was
told not to propagate."""
from __future__ import annotations

import logging

import pytest


class LogRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def clear(self) -> None:
        self.records.clear()

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == level]

    def with_traceback(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info or r.exc_text or r.stack_info]

    def text(self) -> str:
        """Every record as a log reader would see it: message, structured fields, any traceback."""
        formatter = logging.Formatter()
        out = []
        for r in self.records:
            fields = {k: v for k, v in r.__dict__.items() if k not in _STANDARD}
            out.append(f"{r.levelname} {r.getMessage()} {fields}")
            if r.exc_info:
                out.append(formatter.formatException(r.exc_info))
        return "\n".join(out)


_STANDARD = set(logging.LogRecord("x", 0, "x", 0, "x", None, None).__dict__) | {"message", "asctime"}


@pytest.fixture
def logs():
    from livecommerce.shared.observability import logger

    records = LogRecords()
    targets = [logging.getLogger()]
    if not logging.getLogger(logger.name).propagate:
        targets.append(logging.getLogger(logger.name))
    for target in targets:
        target.addHandler(records)
    yield records
    for target in targets:
        target.removeHandler(records)
