"""Ctrl-C as a request to stop, for the long-running commands (md-stability, train).

Inside `stop_on_interrupt()`, the first SIGINT sets a flag instead of raising KeyboardInterrupt
wherever the interpreter happens to be (inside TorchScript, a custom op or a progress bar it
would surface as another exception, or be swallowed).  The loops poll the flag between steps,
stop cleanly, write what they have and exit with EXIT_CODE.  A second Ctrl-C raises
KeyboardInterrupt at once.  Outside the main thread it changes nothing (signals go there)."""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Tuple, Type

EXIT_CODE = 130          # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
USAGE_ERROR = 2          # bad input: one line on stderr, as argparse reports bad arguments


def run_command(prog: str, call: Callable[[], int],
                errors: Tuple[Type[BaseException], ...] = (ValueError, FileNotFoundError)) -> int:
    """call()'s exit code, with the commands' contract for what goes wrong: an expected error is
    one line `prog: error: ...` on stderr and USAGE_ERROR (no traceback), Ctrl-C is EXIT_CODE."""
    try:
        return call()
    except errors as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_CODE


class StopFlag:
    """Callable: True once a stop was requested (here, or through the shared `event`)."""

    def __init__(self, event=None):
        self.requested = False
        self.event = event

    def request(self) -> None:
        self.requested = True
        if self.event is not None:
            self.event.set()

    def __call__(self) -> bool:
        return self.requested or (self.event is not None and self.event.is_set())


@contextmanager
def stop_on_interrupt(message: Optional[str] = None, event=None) -> Iterator[StopFlag]:
    """A StopFlag that the first Ctrl-C sets (printing `message` to stderr); the second raises
    KeyboardInterrupt.  The previous SIGINT handler is restored on exit."""
    flag = StopFlag(event)
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.requested:
            raise KeyboardInterrupt
        flag.request()
        if message:
            print(f"\n{message}", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)
