"""Forward+backward time and peak RSS of GauGAN, LGGAN, LGGAN++, SEAN and SEAN+SAU generators (plus D) on this CPU.

    python bench/generators.py --json [--configs lggan:cityscapes:float32,...] [--calls 3]

Each row runs in a fresh subprocess (peak RSS = ru_maxrss of that process). Input: batch 1, random 16x32 label cells
upsampled to the image size (all classes present), zero instance channel; loss = mean|I_C| + mean|I_G| + mean|I_L| +
class CE, gradients to every generator variable inside one tf.function (as perf_notes.md §1 and the official anchor).
One warm-up call (tracing included), then the median of `--calls` timed calls. SEAN rows (`celebamask_hq` size:
256x256, 19 classes, no instance channel) take a random style image through the Zencoder; loss = mean|image|.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SIZES = {  # name -> (H, W, label_nc, ngf, num_upsampling_layers)
    "cityscapes": (256, 512, 35, 64, "more"),
    "medium": (128, 256, 35, 32, "more"),
    "tiny": (64, 64, 13, 8, "normal"),
    "celebamask_hq": (256, 256, 19, 64, "normal"),
    "celebamask_hq_medium": (128, 128, 19, 32, "normal"),
}
MODELS = {  # name -> (model, upsampler)
    "gaugan": ("gaugan", "nearest"),
    "lggan": ("lggan", "nearest"),
    "lggan_pp": ("lggan", "sau"),
    "sean": ("sean", "nearest"),
    "sean_sau": ("sean", "sau"),
    "discriminator": (None, None),
}
DEFAULT = ("lggan:cityscapes:float32,lggan:cityscapes:mixed_bfloat16,lggan_pp:cityscapes:float32,"
           "lggan_pp:cityscapes:mixed_bfloat16,gaugan:cityscapes:float32,discriminator:cityscapes:float32,"
           "lggan:medium:float32,lggan_pp:medium:float32")


def run_one(model_name, size_name, dtype, calls, recompute):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    from lggan_tf.layers.classifier import class_cross_entropy
    from lggan_tf.models import build_discriminator, build_generator, count_trainable

    keras.mixed_precision.set_global_policy(dtype)
    h, w, label_nc, ngf, n_up = SIZES[size_name]
    rng = np.random.default_rng(0)
    cells = rng.permutation(np.resize(np.arange(label_nc), 16 * 32)).reshape(16, 32)
    labels = np.kron(cells, np.ones((h // 16, w // 32), np.int64))
    model, upsampler = MODELS[model_name]
    extra = 0 if model == "sean" else 1  # SEAN's CelebAMask-HQ has no instance channel
    seg = np.concatenate([np.eye(label_nc, dtype=np.float32)[labels], np.zeros((h, w, extra), np.float32)], -1)[None]
    seg = tf.constant(seg)
    style = tf.random.uniform((1, h, w, 3), -1, 1)
    if model is None:
        net = build_discriminator(label_nc + 1)
        net.build((None, h, w, label_nc + 4))
        x = tf.concat([seg, tf.random.uniform((1, h, w, 3), -1, 1)], -1)

        def loss_fn():
            return tf.add_n([tf.reduce_mean(tf.cast(s[-1], tf.float32)) for s in net(x, training=True)])
    else:
        blocks = ("up_2", "up_3", "local") + (("branch_ups",) if upsampler == "sau" else ())
        options = {"recompute": blocks} if recompute else {}
        if model == "sean":
            options = {"recompute": ("up_1", "up_2", "up_3")} if recompute else {}
        net = build_generator(model, semantic_nc=label_nc + extra, label_channels=label_nc, crop_size=w,
                              aspect_ratio=w / h, num_upsampling_layers=n_up, ngf=ngf, upsampler=upsampler,
                              **options)
        net.build((None, h, w, label_nc + extra))

        def loss_fn():
            out = net(seg, style, training=True) if model == "sean" else net(seg, training=True)
            loss = tf.add_n([tf.reduce_mean(tf.abs(tf.cast(out[k], tf.float32)))
                             for k in ("image", "image_global", "image_local") if k in out])
            if "class_logits" in out:
                loss += class_cross_entropy(out["class_logits"], out["class_valid"])
            return loss

    variables = net.trainable_weights

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, variables)
        return loss + tf.add_n([tf.reduce_sum(g) * 0.0 for g in grads if g is not None])

    t0 = time.perf_counter()
    step().numpy()
    warmup = time.perf_counter() - t0
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        step().numpy()
        times.append(time.perf_counter() - t0)
    return {"model": model_name, "size": size_name, "hw": [h, w], "ngf": ngf, "dtype": dtype,
            "recompute": bool(recompute and model is not None), "params": count_trainable(net),
            "warmup_s": round(warmup, 2), "calls_s": [round(t, 3) for t in times],
            "median_s": round(sorted(times)[len(times) // 2], 3),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object per row (default)")
    parser.add_argument("--configs", default=DEFAULT, help="comma list of model:size:dtype")
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--no_recompute", action="store_true",
                        help="do not recompute up_2, up_3, the G_l blocks (and, for LGGAN++, the SAU stages of G_l/G_w)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        model, size, dtype = args.one.split(":")
        print(json.dumps(run_one(model, size, dtype, args.calls, not args.no_recompute)))
        return
    for config in args.configs.split(","):
        cmd = [sys.executable, __file__, "--one", config, "--calls", str(args.calls)]
        if args.no_recompute:
            cmd.append("--no_recompute")
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
        if proc.returncode != 0 or not line.startswith("{"):
            print(json.dumps({"config": config, "error": proc.stderr.strip().splitlines()[-1:]}), flush=True)
        else:
            print(line, flush=True)


if __name__ == "__main__":
    main()
