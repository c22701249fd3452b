"""Throughput of the evaluation networks (issue 16): images/s at each protocol's input size, float32, this CPU.

Per network: the Keras model (random weights: speed does not depend on them) with its input path, inside one
tf.function, on a batch of uint8 images; 2 warm-up calls (tracing included), then `--reps` timed calls, median.
With `--torch_python` the same reference networks run in PyTorch in a subprocess of that interpreter
(tools/bench_metrics_torch.py: pytorch-fid's InceptionV3, torchvision AlexNet(365), the lpips package) right after,
and a `ratio` line gives tf images/s over torch images/s (goal: >= 1 / 1.5).

    python bench/metrics.py --json [--networks inception_fid,lpips_alex] [--batch 8] [--reps 5]
        [--torch_python /work/torchvenv/bin/python --pytorch_fid /tmp/pytorch-fid --lpips /tmp/PerceptualSimilarity]

Input sizes: inception_fid gets 256x256 images (resized to 299 inside, as pytorch-fid), alexnet_places365 224x224
(after the Places transform), LPIPS pairs of 256x256 images (a pair counts as one image).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

NETWORKS = ("inception_fid", "alexnet_places365", "lpips_alex", "lpips_vgg")


def make_call(name: str, inception_input: int, lpips_input: int):
    """(tf.function on uint8 images [B(*2 for LPIPS), H, W, 3], (H, W), parameters) of network `name`."""
    from lggan_tf.metrics.nets import alexnet_places365, inception_fid, lpips_nets

    spec = tf.TensorSpec([None, None, None, 3], tf.uint8)
    if name == "inception_fid":
        model = inception_fid.build()
        fn = tf.function(lambda x: model(inception_fid.preprocess(x), training=False)["pool3"], input_signature=[spec])
        size = (inception_input, inception_input)
    elif name == "alexnet_places365":
        model = alexnet_places365.build()
        mean, std = np.array([0.485, 0.456, 0.406], np.float32), np.array([0.229, 0.224, 0.225], np.float32)
        fn = tf.function(lambda x: model((tf.cast(x, tf.float32) / 255.0 - mean) / std, training=False)["logits"],
                         input_signature=[spec])
        size = (224, 224)
    else:
        model = lpips_nets.build(name.split("_", 1)[1])

        def lpips(x):
            x = tf.cast(x, tf.float32) / 127.5 - 1.0
            half = tf.shape(x)[0] // 2
            return model([x[:half], x[half:]], training=False)["lpips"]

        fn, size = tf.function(lpips, input_signature=[spec]), (lpips_input, lpips_input)
    return fn, size, int(sum(np.prod(v.shape) for v in model.weights))


def measure_tf(name, batch, reps, inception_input, lpips_input) -> dict:
    fn, (h, w), params = make_call(name, inception_input, lpips_input)
    n = batch * (2 if name.startswith("lpips") else 1)
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (n, h, w, 3), np.uint8))
    times = []
    for i in range(2 + reps):
        start = time.perf_counter()
        fn(images).numpy()
        if i >= 2:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return {"network": name, "framework": "tensorflow", "tensorflow": tf.__version__, "dtype": "float32",
            "input": [h, w], "batch": batch, "parameters": params, "median_s": round(median, 4),
            "images_per_s": round(batch / median, 2), "calls_s": [round(t, 4) for t in times]}


def measure_torch(args, names) -> list:
    cmd = [args.torch_python, str(REPO / "tools" / "bench_metrics_torch.py"), "--networks", ",".join(names),
           "--batch", str(args.batch), "--reps", str(args.reps), "--inception_input", str(args.inception_input),
           "--lpips_input", str(args.lpips_input), "--pytorch_fid", args.pytorch_fid, "--lpips", args.lpips]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON lines (the only output format)")
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--inception_input", type=int, default=256, help="image size fed to the FID Inception")
    parser.add_argument("--lpips_input", type=int, default=256)
    parser.add_argument("--torch_python", default="", help="python of a venv with torch + torchvision")
    parser.add_argument("--pytorch_fid", default="", help="pytorch-fid checkout, for the torch inception_fid")
    parser.add_argument("--lpips", default="", help="PerceptualSimilarity checkout, for the torch LPIPS")
    args = parser.parse_args()
    names = [n for n in args.networks.split(",") if n]
    bad = [n for n in names if n not in NETWORKS]
    if bad:
        print(f"error: --networks: unknown {bad}; expected some of {', '.join(NETWORKS)}", file=sys.stderr)
        return 2
    print(json.dumps({"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                      "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads()}), flush=True)
    ours = {}
    for name in names:
        ours[name] = measure_tf(name, args.batch, args.reps, args.inception_input, args.lpips_input)
        print(json.dumps(ours[name]), flush=True)
    if args.torch_python:
        for record in measure_torch(args, names):
            print(json.dumps(record), flush=True)
            tf_ips = ours[record["network"]]["images_per_s"]
            print(json.dumps({"network": record["network"], "ratio_tf_over_torch": round(
                tf_ips / record["images_per_s"], 3), "goal_within_1.5x": tf_ips * 1.5 >= record["images_per_s"]}),
                flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
