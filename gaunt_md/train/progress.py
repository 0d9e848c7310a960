"""Progress bars only where someone watches them: on a terminal, unless turned off
(`gaunt-md train --no-progress`).  A log redirected to a file gets no carriage-return frames,
only the plain line per epoch that the trainer logs."""
from __future__ import annotations

import sys

from tqdm.auto import tqdm

_enabled = True


def set_progress(enabled: bool) -> None:
    global _enabled
    _enabled = bool(enabled)


def progress(iterable, **kwargs):
    """tqdm over `iterable`, on stderr, shown only when enabled and stderr is a terminal."""
    shown = _enabled and sys.stderr.isatty()
    return tqdm(iterable, disable=not shown, file=sys.stderr, **kwargs)
