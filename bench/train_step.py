"""Benchmark one full training iteration (G step + D step, lggan_tf.train_steps) of LGGAN++ on this machine.

    python bench/train_step.py --json                                   # tiny + medium, float32 + mixed_bfloat16
    python bench/train_step.py --configs=full --precisions=float32 --steps=2 --json
    python bench/train_step.py --configs=tiny --precisions=float32 --optimizers=keras,fused   # FusedAdam's gain

Each (config, precision) runs in a fresh subprocess, so the peak RSS (resource.getrusage ru_maxrss) is its own.
Input: a blocky random label map (16x16-pixel cells over `classes_present` classes) one-hot + an edge channel.
Prints one JSON line per run: steps_per_sec (median of the timed steps), first_call_sec (tracing + first step),
peak_rss_mib, parameter counts and the settings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIGS = {
    # name: (height, width, ngf, ndf, spade_hidden, semantic_nc, label_channels, num_upsampling_layers, batch,
    #        classes_present)
    "tiny": (64, 64, 8, 16, 32, 14, 13, "normal", 4, 13),        # the quick start (synthetic.cfg)
    "medium": (128, 256, 32, 32, 128, 36, 35, "more", 1, 19),
    "full": (256, 512, 64, 64, 128, 36, 35, "more", 1, 19),      # Cityscapes, paper size
}


def run_child(name: str, precision: str, steps: int, optimizer: str = "fused") -> dict:
    sys.path.insert(0, REPO)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from lggan_tf import losses
    from lggan_tf.models import build_discriminator, build_generator, parameter_counts
    from lggan_tf.optimizers import FusedAdam
    from lggan_tf.train_steps import GANSteps

    h, w, ngf, ndf, hidden, s, k, n_up, batch, present = CONFIGS[name]
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        g = build_generator("lggan", semantic_nc=s, label_channels=k, crop_size=w, aspect_ratio=w / h,
                            num_upsampling_layers=n_up, ngf=ngf, upsampler="sau", spade_hidden=hidden)
        g.build((None, h, w, s))
        d = build_discriminator(s, ndf)
        d.build((None, h, w, s + 3))
        opts = []
        for model in (g, d):
            adam = FusedAdam if optimizer == "fused" else keras.optimizers.Adam
            opt = adam(1e-4, beta_1=0.0, beta_2=0.9, epsilon=1e-8)
            opt.build(model.trainable_variables)
            opts.append(opt)
    rng = np.random.default_rng(0)
    cells = rng.integers(0, present, (batch, h // 16 + 1, w // 16 + 1))
    label = np.repeat(np.repeat(cells, 16, 1), 16, 2)[:, :h, :w].astype(np.int32)
    onehot = np.eye(k, dtype=np.float32)[label]
    edges = np.zeros((batch, h, w, s - k), np.float32)
    data = {"label": tf.constant(label), "image": tf.constant(rng.uniform(-1, 1, (batch, h, w, 3)), tf.float32),
            "semantic": tf.constant(np.concatenate([onehot, edges], -1))}
    steps_fn = GANSteps(strategy, g, d, opts[0], opts[1], losses.LossWeights(vgg=0.0), global_batch=batch)
    dist = next(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(data))))
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        scalars, _ = steps_fn.g_step(dist, tf.constant(i + 1, tf.int64))
        d_scalars = steps_fn.d_step(dist)
        float(scalars["g_total"]), float(d_scalars["d_total"])
        times.append(time.perf_counter() - t0)
    step_sec = statistics.median(times[1:])
    return {"config": name, "precision": precision, "optimizer": optimizer, "height": h, "width": w, "ngf": ngf,
            "ndf": ndf, "spade_hidden": hidden, "semantic_nc": s, "batch": batch,
            "first_call_sec": round(times[0], 2), "step_sec": round(step_sec, 3),
            "steps_per_sec": round(1.0 / step_sec, 3), "images_per_sec": round(batch / step_sec, 2),
            "timed_steps": steps, "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "generator_params": parameter_counts(g, d)["generator_total"],
            "discriminator_params": parameter_counts(g, d)["discriminator_total"], "tensorflow": tf.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="tiny,medium", help=f"comma list of {sorted(CONFIGS)}")
    parser.add_argument("--precisions", default="float32,mixed_bfloat16")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after the first (tracing) call")
    parser.add_argument("--json", action="store_true", help="JSON lines only (default also prints a summary)")
    parser.add_argument("--optimizers", default="fused",
                        help="comma list of fused (lggan_tf.optimizers.FusedAdam, what train.py uses) and keras "
                             "(keras.optimizers.Adam, ~37 graph ops per variable)")
    parser.add_argument("--child", nargs=3, metavar=("CONFIG", "PRECISION", "OPTIMIZER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(run_child(*args.child[:2], args.steps, args.child[2])), flush=True)
        return 0
    for name in args.configs.split(","):
        if name not in CONFIGS:
            parser.error(f"--configs: unknown config {name!r}; expected some of {sorted(CONFIGS)}")
    for optimizer in args.optimizers.split(","):
        if optimizer not in ("fused", "keras"):
            parser.error(f"--optimizers: unknown optimizer {optimizer!r}; expected fused and/or keras")
    runs = [(n, p, o) for n in args.configs.split(",") for p in args.precisions.split(",")
            for o in args.optimizers.split(",")]
    for name, precision, optimizer in runs:
        proc = subprocess.run([sys.executable, __file__, "--child", name, precision, optimizer,
                               f"--steps={args.steps}"], capture_output=True, text=True, cwd=REPO)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not lines:
            record = {"config": name, "precision": precision, "optimizer": optimizer,
                      "error": proc.stderr.strip().splitlines()[-3:]}
        else:
            record = json.loads(lines[-1][len("RESULT "):])
        print(json.dumps(record), flush=True)
        if not args.json and "step_sec" in record:
            print(f"# {name} {precision} {optimizer}: first call {record['first_call_sec']} s, "
                  f"{record['steps_per_sec']} steps/s, peak {record['peak_rss_mib']} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
