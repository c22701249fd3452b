"""Benchmark of the Table 12 upsamplers (B1-B8), a kernel-3 deconv, and SAU with the `patches` reassembly.

Per row: forward + backward (gradients to the input and every trainable weight, reduced to one scalar so nothing is
pruned; loss mean(y^2)) inside one tf.function; 2 warm-up calls (tracing included), then `--reps` timed calls,
interleaved across the rows of a shape, median ms (min and max too). Memory (`peak_mib`): TF allocator peak of one
call minus the live bytes before it (perf_notes.md §3 "work"), stats reset before each row. Shapes (batch 1):
C=256, 64x128 -> 128x256 and C=1024, 16x32 -> 32x64. After the rows, one `goal` line per shape checks lean SAU
<= deconv time and <= 3x nearest memory.

    python bench/upsamplers.py --json [--rows nearest,sau,...] [--shapes 256x64x128] [--reps 7]
                                      [--policy mixed_bfloat16]
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

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from lggan_tf.layers.upsampling import UPSAMPLERS, build_upsampler  # noqa: E402

# row name -> (registry name, options)
ROWS = {name: (name, {}) for name in UPSAMPLERS}
ROWS["deconv_k3"] = ("deconv", {"kernel_size": 3})  # the official LGGAN G_l / G_w ConvTranspose shape
ROWS["sau_patches"] = ("sau", {"impl": "patches"})
SHAPES = ((256, 64, 128), (1024, 16, 32))  # (C, H, W), batch 1


def make_step(row, channels, height, width):
    """Build the row's layer and a traced fwd+bwd step; returns (step, x, trainable parameter count)."""
    name, options = ROWS[row]
    layer = build_upsampler(name, channels, **options)
    x = tf.random.stateless_normal([1, height, width, channels], seed=[0, 1])
    layer.build(x.shape)

    @tf.function
    def step(inp):
        with tf.GradientTape() as tape:
            tape.watch(inp)
            y = layer(inp, training=True) if name == "involution" else layer(inp)
            loss = tf.reduce_mean(tf.square(tf.cast(y, tf.float32)))
        grads = tape.gradient(loss, [inp] + layer.trainable_variables)
        return loss + tf.add_n([tf.reduce_sum(tf.cast(g, tf.float32)) for g in grads]) * 0.0

    for _ in range(2):  # warm-up, tracing included
        step(x).numpy()
    return step, x, sum(int(np.prod(v.shape)) for v in layer.trainable_variables)


def peak_mib(step, x):
    """TF allocator peak of one call minus the live bytes before it, MiB."""
    tf.config.experimental.reset_memory_stats("CPU:0")
    start = tf.config.experimental.get_memory_info("CPU:0")["current"]
    step(x).numpy()
    return (tf.config.experimental.get_memory_info("CPU:0")["peak"] - start) / 2**20


def measure_shape(rows, channels, height, width, reps):
    """All rows at one shape. Timed calls are interleaved (round r calls every row once) so that load changes on a
    shared machine hit every row alike."""
    steps = {row: make_step(row, channels, height, width) for row in rows}
    memory = {row: peak_mib(step, x) for row, (step, x, _) in steps.items()}
    times = {row: [] for row in rows}
    for _ in range(reps):
        for row, (step, x, _) in steps.items():
            t0 = time.perf_counter()
            step(x).numpy()
            times[row].append(1e3 * (time.perf_counter() - t0))
    shape = f"1x{height}x{width}x{channels}->1x{2 * height}x{2 * width}x{channels}"
    return {row: {"name": row, "shape": shape, "ms": round(statistics.median(times[row]), 1),
                  "ms_min": round(min(times[row]), 1), "ms_max": round(max(times[row]), 1),
                  "peak_mib": round(memory[row], 1), "params": steps[row][2]} for row in rows}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object per line (default: a text table)")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated subset of {', '.join(ROWS)}")
    parser.add_argument("--reps", type=int, default=7, help="timed calls per row (median reported), >= 5")
    parser.add_argument("--shapes", default=",".join("x".join(map(str, s)) for s in SHAPES),
                        help="comma-separated CxHxW input shapes (batch 1)")
    parser.add_argument("--policy", default="float32", choices=["float32", "mixed_bfloat16"],
                        help="Keras dtype policy for the layers")
    args = parser.parse_args(argv)
    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"--rows: unknown {unknown}; valid rows: {', '.join(ROWS)}")
    if args.reps < 5:
        parser.error(f"--reps must be >= 5, got {args.reps}")
    try:
        shapes = [tuple(int(v) for v in item.split("x")) for item in args.shapes.split(",") if item]
        assert shapes and all(len(shape) == 3 and min(shape) > 0 for shape in shapes)
    except (ValueError, AssertionError):
        parser.error(f"--shapes: expected comma-separated CxHxW with positive ints (e.g. 256x64x128), "
                     f"got {args.shapes!r}")
    keras.mixed_precision.set_global_policy(args.policy)

    emit = (lambda d: print(json.dumps(d), flush=True)) if args.json else (
        lambda d: print("  ".join(f"{k}={v}" for k, v in d.items()), flush=True))
    emit({"meta": "upsamplers fwd+bwd", "tf": tf.__version__, "keras": keras.__version__, "policy": args.policy,
          "reps": args.reps, "cpus": os.cpu_count(), "machine": platform.machine(),
          "load_avg_1m": round(os.getloadavg()[0], 2)})
    for channels, height, width in shapes:
        results = measure_shape(rows, channels, height, width, args.reps)
        for row in rows:
            emit(results[row])
        if {"sau", "deconv", "nearest"} <= results.keys():
            sau, deconv, nearest = results["sau"], results["deconv"], results["nearest"]
            time_ratio = sau["ms"] / deconv["ms"]
            mem_ratio = sau["peak_mib"] / max(nearest["peak_mib"], 1e-9)
            emit({"goal": "lean sau <= deconv time and <= 3x nearest peak memory", "shape": sau["shape"],
                  "time_vs_deconv": round(time_ratio, 2), "memory_vs_nearest": round(mem_ratio, 2),
                  "holds": bool(time_ratio <= 1.0 and mem_ratio <= 3.0)})


if __name__ == "__main__":
    main()
