"""Cost of the two exact methods of `conv_transpose_torch` (a padding list; a window of the VALID map) and of the
layer (`ConvTranspose`, which picks one per dtype) against the Keras-'same' transposed conv it replaced (same kernel,
taps one pixel off PyTorch's).

Per row: forward + backward (gradients to the input, kernel and bias; loss mean(y^2)) in one tf.function, 2 warm-up
calls, then `--reps` timed calls interleaved between the two rows, median ms (min and max too), and the TF
allocator peak of one call minus the live bytes before it. Default shape: the first G_l upsampling of full-size
Cityscapes LGGAN, ConvTranspose2d(256 -> 128, 3, s2, p1, op1) on 1x64x128.

    python bench/conv_transpose.py [--shape 256x128x64x128] [--reps 7] [--policy mixed_bfloat16]
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
import tensorflow as tf  # noqa: E402

from lggan_tf.layers.common import ConvTranspose, conv_transpose_torch  # noqa: E402

ROWS = ("keras_same", "explicit", "window", "layer")


def make_step(row, cin, cout, height, width):
    layer = ConvTranspose(cout, 3, 2, name="up")
    x = tf.random.stateless_normal([1, height, width, cin], seed=[0, 1])
    layer.build(x.shape)

    def keras_same(inp):  # the replaced implementation: Conv2DTranspose(3, 2, padding='same')
        kernel = tf.cast(layer.deconv.kernel, layer.compute_dtype)
        y = tf.nn.conv2d_transpose(tf.cast(inp, layer.compute_dtype), kernel, [1, 2 * height, 2 * width, cout], 2,
                                   "SAME")
        return tf.nn.bias_add(y, tf.cast(layer.deconv.bias, layer.compute_dtype))

    def method(inp):
        kernel = tf.cast(layer.deconv.kernel, layer.compute_dtype)
        y = conv_transpose_torch(tf.cast(inp, layer.compute_dtype), kernel, 2, 1, 1, row)
        return tf.nn.bias_add(y, tf.cast(layer.deconv.bias, layer.compute_dtype))

    forward = {"keras_same": keras_same, "layer": layer}.get(row, method)

    @tf.function
    def step(inp):
        with tf.GradientTape() as tape:
            tape.watch(inp)
            loss = tf.reduce_mean(tf.square(tf.cast(forward(inp), tf.float32)))
        grads = tape.gradient(loss, [inp] + layer.trainable_variables)
        return loss + tf.add_n([tf.reduce_sum(tf.cast(g, tf.float32)) for g in grads]) * 0.0

    for _ in range(2):
        step(x).numpy()
    return step, x


def peak_mib(step, x):
    tf.config.experimental.reset_memory_stats("CPU:0")
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    step(x).numpy()
    return round((tf.config.experimental.get_memory_info("CPU:0")["peak"] - before) / 2**20, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", default="256x128x64x128", help="CINxCOUTxHxW of the input (batch 1)")
    parser.add_argument("--reps", type=int, default=7, help="timed calls per row (median reported)")
    parser.add_argument("--policy", default="float32", choices=["float32", "mixed_bfloat16"])
    args = parser.parse_args()
    cin, cout, height, width = (int(v) for v in args.shape.split("x"))
    keras.mixed_precision.set_global_policy(args.policy)
    print(json.dumps({"meta": "ConvTranspose fwd+bwd", "tf": tf.__version__, "keras": keras.__version__,
                      "policy": args.policy, "reps": args.reps, "cpus": os.cpu_count(),
                      "machine": platform.machine(), "load_avg_1m": round(os.getloadavg()[0], 2)}), flush=True)
    rows = {row: make_step(row, cin, cout, height, width) for row in ROWS}
    times = {row: [] for row in rows}
    for _ in range(args.reps):
        for row, (step, x) in rows.items():
            start = time.perf_counter()
            step(x).numpy()
            times[row].append((time.perf_counter() - start) * 1000)
    for row, (step, x) in rows.items():
        print(json.dumps({"name": row, "shape": f"1x{height}x{width}x{cin}->1x{2 * height}x{2 * width}x{cout}",
                          "ms": round(statistics.median(times[row]), 1), "ms_min": round(min(times[row]), 1),
                          "ms_max": round(max(times[row]), 1), "peak_mib": peak_mib(step, x)}), flush=True)


if __name__ == "__main__":
    main()
