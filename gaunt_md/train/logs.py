"""Training messages through Python's logging: plain lines on stdout, and timestamped lines in
OUTPUT_DIR/train.log once the output directory exists (earlier lines included)."""
from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

LOGGER = logging.getLogger("gaunt_md.train")


def log(message: str) -> None:
    LOGGER.info(message)


class _Buffer(logging.Handler):
    """Keeps the records logged before the output directory exists."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record) -> None:
        self.records.append(record)


@contextlib.contextmanager
def training_log():
    """Within the block, LOGGER writes to stdout (as it is then: pytest's capture too)."""
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(message)s"))
    added = [console, _Buffer()]
    for handler in added:
        LOGGER.addHandler(handler)
    try:
        yield
    finally:
        for handler in list(LOGGER.handlers):
            if handler in added or getattr(handler, "_gaunt_md_file", False):
                LOGGER.removeHandler(handler)
                handler.close()


def log_to_file(directory) -> None:
    """From now on (and for what was logged so far in this block) also to directory/train.log."""
    buffers = [h for h in LOGGER.handlers if isinstance(h, _Buffer)]
    if not buffers:
        return  # not inside training_log(): a library caller chose its own logging
    handler = logging.FileHandler(Path(directory) / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler._gaunt_md_file = True
    for record in buffers[0].records:
        handler.handle(record)
    LOGGER.removeHandler(buffers[0])
    LOGGER.addHandler(handler)
