"""Time one cross-view training step (G forward, D_i + D_s update, G update; lggan_tf.train_steps.CrossViewSteps).

    python bench/cross_view_step.py --size 256 --batch 4 --ngf 64 --upsampler convtranspose --steps 10

Random batches (no data, no VGG: its weights need a download); official losses otherwise. Prints one JSON line per
configuration: median / min milliseconds per step, images per second, device, precision, trace time.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def bench(size, batch, ngf, ndf, upsampler, steps, precision):
    from lggan_tf import losses
    from lggan_tf.train_config import TrainConfig
    from lggan_tf.train_setup import build_models, build_optimizers, resolve_run
    from lggan_tf.train_steps import CrossViewSteps

    keras.mixed_precision.set_global_policy(precision)
    config = TrainConfig.cross_view(height=size, width=size, ngf=ngf, ndf=ndf, upsampler=upsampler,
                                    batch_size=batch, mixed_precision=precision)
    strategy = tf.distribute.get_strategy()
    g, d = build_models(config, resolve_run(config, count=False))
    g_opt, d_opt = build_optimizers(config, precision, g, d)
    steps_fn = CrossViewSteps(strategy, g, d, g_opt, d_opt, losses.LossWeights.cross_view(vgg=0.0),
                              global_batch=batch)
    rng = tf.random.Generator.from_seed(0)
    data = {k: rng.uniform([batch, size, size, 3], -1, 1) for k in ("input_image", "image", "semantic")}
    data["masks"] = tf.one_hot(rng.uniform([batch, size, size], -1, 6, tf.int32), 6)
    start = time.perf_counter()
    float(steps_fn.train_step(data, tf.constant(1, tf.int64))[0]["g_total"])
    trace_s = time.perf_counter() - start
    float(steps_fn.train_step(data, tf.constant(2, tf.int64))[0]["g_total"])
    times = []
    for i in range(steps):
        start = time.perf_counter()
        float(steps_fn.train_step(data, tf.constant(i + 3, tf.int64))[0]["g_total"])
        times.append(time.perf_counter() - start)
    device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    median = statistics.median(times)
    return {"bench": "cross_view_step", "device": device, "size": size, "batch": batch, "ngf": ngf, "ndf": ndf,
            "upsampler": upsampler, "precision": precision, "ms_per_step_median": round(1e3 * median, 1),
            "ms_per_step_min": round(1e3 * min(times), 1), "images_per_s": round(batch / median, 2),
            "first_step_s": round(trace_s, 1), "steps": steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="+", default=[256])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--upsampler", nargs="+", default=["convtranspose"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"])
    args = parser.parse_args()
    for size in args.size:
        for upsampler in args.upsampler:
            print(json.dumps(bench(size, args.batch, args.ngf, args.ndf, upsampler, args.steps, args.precision)),
                  flush=True)


if __name__ == "__main__":
    main()
