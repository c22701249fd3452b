"""Progress reporting: the one-line status per log interval and `stats.jsonl` (structure_anchors.md §9).

    step 120/600 (20.0%) | 1.42 steps/s | 5.7 img/s | elapsed 1m25s | eta 5m38s | g 3.21 d 1.02

The rate is an exponential moving average of the per-interval rate, so the ETA follows recent speed; the first
interval (which includes tf.function tracing) is dropped as soon as a second one is measured.
"""

from __future__ import annotations

import json
import math
import os
import time


def format_duration(seconds: float) -> str:
    """58s, 1m25s, 2h03m, 3d04h; '?' when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


class ProgressMeter:
    """Tracks steps/s (EMA over log intervals), images/s, elapsed time and ETA.

    Args:
      total_steps: the target global step. start_step: the step the run (or resume) starts from.
      global_batch: images per step. smoothing: EMA weight of the newest interval (0..1].
    """

    def __init__(self, total_steps: int, start_step: int, global_batch: int, smoothing: float = 0.3,
                 clock=time.monotonic):
        self.total_steps, self.global_batch, self.smoothing = int(total_steps), int(global_batch), float(smoothing)
        self.clock = clock
        self.start_time = self.last_time = clock()
        self.last_step = int(start_step)
        self.rate = None  # steps/s EMA
        self.intervals = 0

    def update(self, step: int) -> dict:
        """Record that `step` was reached now; returns {steps_per_sec, images_per_sec, elapsed_sec, eta_sec}."""
        now = self.clock()
        dt, dsteps = now - self.last_time, step - self.last_step
        if dsteps > 0 and dt > 0:
            rate = dsteps / dt
            self.intervals += 1
            if self.rate is None or self.intervals == 2:  # the first interval includes tf.function tracing
                self.rate = rate
            else:
                self.rate = (1 - self.smoothing) * self.rate + self.smoothing * rate
        self.last_time, self.last_step = now, step
        rate = self.rate or 0.0
        eta = (self.total_steps - step) / rate if rate > 0 else float("nan")
        return {"steps_per_sec": rate, "images_per_sec": rate * self.global_batch,
                "elapsed_sec": now - self.start_time, "eta_sec": eta}

    def line(self, step: int, timing: dict, g_loss: float, d_loss: float) -> str:
        pct = 100.0 * step / max(self.total_steps, 1)
        return (f"step {step}/{self.total_steps} ({pct:.1f}%) | {timing['steps_per_sec']:.2f} steps/s | "
                f"{timing['images_per_sec']:.1f} img/s | elapsed {format_duration(timing['elapsed_sec'])} | "
                f"eta {format_duration(timing['eta_sec'])} | g {g_loss:.2f} d {d_loss:.2f}")


class StatsWriter:
    """Appends one JSON object per line to `path` (stats.jsonl); no-op when path is None (non-chief workers)."""

    def __init__(self, path: str | None):
        self.path = path

    def write(self, record: dict) -> None:
        if self.path is None:
            return
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
