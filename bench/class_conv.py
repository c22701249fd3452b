"""Benchmark of the class sub-generators (ClassConv): per-class loop vs the exact class-partitioned form.

Measures fwd+bwd (gradients to F, kernels and biases) inside one tf.function: 1 warm-up call (tracing included),
then `--reps` timed calls, median. Memory is the TF allocator peak during the timed calls (`live_peak_mib`) and that
peak minus the live bytes before them (`work_mib`), as in perf_notes.md. Input as perf_notes.md §2: F [1, 256, 512,
64], 35 classes, labels = random 16x32 cells upsampled x16. One JSON line per row with --json.

    python bench/class_conv.py --json [--rows loop_fp32,partition_fp32,...] [--height 256 --width 512]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from lggan_tf.layers.class_conv import ClassConv  # noqa: E402

# name -> ClassConv kwargs
ROWS = {
    "loop_fp32": dict(impl="loop"),
    "partition_fp32": dict(impl="partition"),
    "partition_fp32_novalidate": dict(impl="partition", validate_masks=False),
    "loop_bf16": dict(impl="loop", dtype="mixed_bfloat16"),
    "partition_bf16_sum_fp32": dict(impl="partition", dtype="mixed_bfloat16", sum_in_float32=True),
    "partition_bf16_sum_bf16": dict(impl="partition", dtype="mixed_bfloat16", sum_in_float32=False),
}


def blocky_masks(batch, height, width, num_classes, cell, seed=0):
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, num_classes, size=(batch, height // cell, width // cell))
    labels = np.repeat(np.repeat(cells, cell, axis=1), cell, axis=2)
    return tf.one_hot(labels, num_classes, dtype=tf.float32)


def device_name():
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def memory_info():
    try:
        return tf.config.experimental.get_memory_info(device_name())
    except (ValueError, tf.errors.OpError):
        return None


def run_row(name, kwargs, features, masks, reps):
    layer = ClassConv(int(masks.shape[-1]), **kwargs)
    layer(features[:, :16, :16], masks[:, :16, :16])  # build
    probe = tf.constant(np.random.default_rng(1).normal(size=(1, 1, 1, masks.shape[-1], 3)), tf.float32)

    @tf.function
    def step(f, m):
        with tf.GradientTape() as tape:
            tape.watch(f)
            loss = tf.reduce_sum(tf.cast(layer(f, m), tf.float32) * probe)
        grads = tape.gradient(loss, [f, layer.kernel, layer.bias])
        return loss + tf.add_n([tf.reduce_sum(tf.cast(g, tf.float32)) for g in grads])

    t0 = time.perf_counter()
    step(features, masks).numpy()
    warmup = time.perf_counter() - t0
    info = memory_info()
    if info is not None:
        tf.config.experimental.reset_memory_stats(device_name())
        before = tf.config.experimental.get_memory_info(device_name())["current"]
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step(features, masks).numpy()
        times.append(time.perf_counter() - t0)
    row = {"bench": "class_conv", "row": name, "impl": kwargs["impl"],
           "dtype": kwargs.get("dtype", "float32"), "sum_in_float32": kwargs.get("sum_in_float32", True),
           "validate_masks": kwargs.get("validate_masks", True), "shape": list(features.shape),
           "classes": int(masks.shape[-1]), "warmup_s": round(warmup, 3),
           "times_s": [round(t, 4) for t in times], "median_s": round(statistics.median(times), 4)}
    if info is not None:
        peak = tf.config.experimental.get_memory_info(device_name())["peak"]
        row.update(live_peak_mib=round(peak / 2**20, 1), work_mib=round((peak - before) / 2**20, 1))
    row.update(device=device_name(), tf=tf.__version__, machine=platform.machine())
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON line per row (default: a table)")
    parser.add_argument("--rows", default="loop_fp32,partition_fp32,partition_bf16_sum_fp32,partition_bf16_sum_bf16",
                        help=f"comma-separated rows out of {sorted(ROWS)}")
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--classes", type=int, default=35)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--cell", type=int, default=16, help="label cell size in pixels (16: 16x32 cells)")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    names = [r for r in args.rows.split(",") if r]
    unknown = [r for r in names if r not in ROWS]
    if unknown:
        parser.error(f"--rows: unknown row(s) {unknown}; expected names out of {sorted(ROWS)}")
    if args.height % args.cell or args.width % args.cell:
        parser.error(f"--height/--width must be multiples of --cell={args.cell}")
    features = tf.constant(np.random.default_rng(0).normal(
        size=(args.batch, args.height, args.width, args.channels)).astype("float32"))
    masks = blocky_masks(args.batch, args.height, args.width, args.classes, args.cell)
    for name in names:
        row = run_row(name, ROWS[name], features, masks, args.reps)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"{name:28s} median {row['median_s']:8.4f} s  live peak {row.get('live_peak_mib', '-')} MiB  "
                  f"work {row.get('work_mib', '-')} MiB  (warm-up {row['warmup_s']} s)", flush=True)


if __name__ == "__main__":
    main()
