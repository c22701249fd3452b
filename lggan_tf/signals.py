"""Graceful stop on SIGINT / SIGTERM: the handler only records the request; the training loop finishes the current
step, saves a checkpoint and returns. A second SIGINT while stopping raises KeyboardInterrupt (hard stop)."""

from __future__ import annotations

import signal
import threading


class StopRequest:
    """Context manager installing the handlers (main thread only); `requested` is None or 'SIGINT' / 'SIGTERM'."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = None
        self._previous = {}

    def _handle(self, signum, frame):
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt("second SIGINT while saving: stopping without waiting")
        self.requested = signal.Signals(signum).name
        print(f"\n{self.requested} received: finishing the current step, then saving a checkpoint "
              "(press Ctrl-C again to abort)", flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        return False
