"""Images/s of the published segmenters (lggan_tf.metrics.nets: drn_d_105, deeplabv2_coco, upernet_101) at their
protocol's input size, float32, and of the same reference networks in PyTorch on the same machine.

Each row: the Keras model (default-initialised weights: speed does not depend on their values) in one tf.function,
1 warm-up call (tracing included), then `--reps` timed calls on a fixed batch, median -> images/s. With
`--torch_python` (the fixture scripts' venv) the same rows run in PyTorch (tools/bench_segmenters_torch.py: the
reference code at the fixtures' commits, eval mode, no_grad) in the same invocation and each row gets
`torch_images_per_s` and `ratio` (torch / ours; the issue's goal is <= 1.5). One JSON line per row.

    python bench/metrics_segmenters.py [--rows drn_d_105,deeplabv2_coco,upernet_101] [--reps 3] [--batch 1] \\
        [--torch_python /work/torchvenv/bin/python]
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

# name -> (input [H, W] of the protocol, input range max, what one call computes)
SEGMENTER_ROWS = {
    "drn_d_105": ((256, 512), 1.0, "DRNSeg single scale, logits at 256x512"),
    "deeplabv2_coco": ((256, 256), 255.0, "DeepLab-v2 MSC (1, 0.5, 0.75), logits at 33x33"),
    "upernet_101": ((256, 256), 1.0, "UperNet-101, eval.py multi-scale (short sides 300-600), scores at 256x256"),
}


def bench_segmenter(name: str, reps: int = 3, batch: int = 1) -> dict:
    """One row: median images/s of network `name` at its protocol size."""
    from lggan_tf.metrics.nets import network

    (h, w), top, what = SEGMENTER_ROWS[name]
    model = network(name).build()
    fn = tf.function(lambda x: model(x, training=False))
    x = tf.constant(np.random.default_rng(0).uniform(0, top, (batch, h, w, 3)).astype(np.float32))
    start = time.perf_counter()
    fn(x).numpy()
    warmup = time.perf_counter() - start
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn(x).numpy()
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    return {"bench": "metrics_segmenters", "row": name, "what": what, "input": [batch, h, w, 3],
            "images_per_s": round(batch / med, 4), "median_s": round(med, 4), "reps": reps,
            "warmup_s": round(warmup, 2), "device": "CPU:0", "cpu_count": os.cpu_count(),
            "tf": tf.__version__, "machine": platform.machine()}


def torch_rows(python: str, rows, reps: int, batch: int) -> dict:
    """{row: torch images/s} from tools/bench_segmenters_torch.py run by `python`."""
    out = subprocess.run([python, str(REPO / "tools" / "bench_segmenters_torch.py"), "--rows", ",".join(rows),
                          "--reps", str(reps), "--batch", str(batch)], check=True, capture_output=True, text=True,
                         cwd=str(REPO / "tools")).stdout
    return {r["row"]: r for r in map(json.loads, filter(None, out.splitlines()))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", default=",".join(SEGMENTER_ROWS))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--torch_python", default="", help="python of a venv with torch + torchvision (optional)")
    args = ap.parse_args(argv)
    rows = [r for r in args.rows.split(",") if r]
    unknown = [r for r in rows if r not in SEGMENTER_ROWS]
    if unknown:
        print(f"error: --rows {unknown}: expected some of {sorted(SEGMENTER_ROWS)}", file=sys.stderr)
        return 2
    reference = torch_rows(args.torch_python, rows, args.reps, args.batch) if args.torch_python else {}
    for name in rows:
        row = bench_segmenter(name, args.reps, args.batch)
        if name in reference:
            ref = reference[name]
            row.update(torch_images_per_s=ref["images_per_s"], torch=ref["torch"], torch_threads=ref["threads"],
                       ratio=round(ref["images_per_s"] / row["images_per_s"], 3))
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
