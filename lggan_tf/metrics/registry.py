"""Metric registry (StyleGAN's metric_main pattern, structure_anchors.md §1).

    @register_metric("psnr")
    def psnr(ctx) -> tuple[str, dict]: ...        # (reported name, results), e.g. ("fid_uncalibrated", {...})

    result = compute_metric("psnr", ctx)          # MetricResult(metric, results, seconds)
    report_metric(result, out_dir, dataset="synthetic", split="val", ...)   # JSON line -> stdout + metric-<name>.jsonl
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Callable

_METRICS: dict[str, Callable] = {}


@dataclasses.dataclass(frozen=True)
class MetricResult:
    metric: str      # reported name (may differ from the registry name, e.g. fid -> fid_uncalibrated)
    results: dict
    seconds: float


def register_metric(name: str):
    """Decorator registering `fn(ctx) -> (reported_name, results_dict)` under `name`."""

    def wrap(fn):
        if name in _METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        _METRICS[name] = fn
        return fn

    return wrap


def list_metrics() -> list[str]:
    return sorted(_METRICS)


def validate_metrics(names) -> list[str]:
    """Split/validate a comma list or sequence of names; ValueError listing the valid names."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    names = [n for n in names if n]
    bad = [n for n in names if n not in _METRICS]
    if bad or not names:
        raise ValueError(f"--metrics: unknown metric(s) {bad or '(none given)'}; valid metrics: "
                         f"{', '.join(list_metrics())}")
    return list(dict.fromkeys(names))


def compute_metric(name: str, ctx) -> MetricResult:
    """Run metric `name` on an evaluation context (lggan_tf.metrics.definitions.EvalContext), timed."""
    validate_metrics([name])
    start = time.time()
    reported, results = _METRICS[name](ctx)
    return MetricResult(reported, results, time.time() - start)


def report_metric(result: MetricResult, out_dir: str | None, **info) -> str:
    """One JSON line {metric, results, <info: dataset, split, num_samples, checkpoint, seed, ...>, seconds,
    timestamp}: printed to stdout and appended to `<out_dir>/metric-<metric>.jsonl` (when out_dir is set)."""
    record = {"metric": result.metric, "results": result.results, **info, "seconds": round(result.seconds, 3),
              "timestamp": time.time()}
    line = json.dumps(record, sort_keys=False, allow_nan=True)
    print(line, flush=True)
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, f"metric-{result.metric}.jsonl"), "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return line


__all__ = ["MetricResult", "compute_metric", "list_metrics", "register_metric", "report_metric",
           "validate_metrics"]
