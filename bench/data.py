"""Input-pipeline throughput: Cityscapes layout at 256x512 with flip augmentation, batch 1 and 8.

    python bench/data.py --json [--data /path/to/shared/data] [--examples 64] [--copies 4] [--variants ...]

Lays the 4 Cityscapes sample triples (2048x1024 PNGs) out natively in a temp dir, repeated `--copies` times under
new city names, and prints one JSON line per (variant, batch size): examples/s after a warm-up. Variants:
`folders` (decode the 2048x1024 PNGs every step), `cache` (cache=True: decoded+resized examples kept in memory),
`presized` (TFRecords written with make_tfrecords --presize: 512x256 PNGs). Timings only; no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402

import datasets  # noqa: E402
from datasets import make_tfrecords  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


def layout(samples: pathlib.Path, root: pathlib.Path, copies: int) -> int:
    """Symlink the sample triples as gtFine/leftImg8bit train/<city>/ files; returns the example count."""
    count = 0
    for c in range(copies):
        city = f"copy{c}"
        for label in sorted((samples / "train_label").glob("*_gtFine_labelIds.png")):
            key = "_".join(label.name.split("_")[1:3])
            stem = label.name.split("_gtFine")[0]
            gt = root / "gtFine" / "train" / city
            left = root / "leftImg8bit" / "train" / city
            gt.mkdir(parents=True, exist_ok=True)
            left.mkdir(parents=True, exist_ok=True)
            os.symlink(label, gt / f"{city}_{key}_gtFine_labelIds.png")
            os.symlink(samples / "train_inst" / f"{stem}_gtFine_instanceIds.png", gt / f"{city}_{key}_gtFine_instanceIds.png")
            os.symlink(samples / "train_img" / f"{stem}_leftImg8bit.png", left / f"{city}_{key}_leftImg8bit.png")
            count += 1
    return count


def measure(spec, root, batch_size, examples, variant):
    cache = variant == "cache"
    ds = datasets.build_dataset(spec, str(root), "train", batch_size, training=True, seed=0, cache=cache)
    it = iter(ds)
    warmup = max(2, 16 // batch_size)
    for _ in range(warmup):
        next(it)
    steps = max(1, examples // batch_size)
    start = time.perf_counter()
    for _ in range(steps):
        batch = next(it)
    batch["semantic"].numpy()
    seconds = time.perf_counter() - start
    return {"bench": "data", "dataset": "cityscapes", "size": list(batch["image"].shape[1:3]), "flip": True,
            "batch_size": batch_size, "variant": variant, "examples": steps * batch_size,
            "examples_per_s": round(steps * batch_size / seconds, 2), "seconds": round(seconds, 2),
            "cpus": os.cpu_count(), "tf": tf.__version__}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON lines (the only output format)")
    parser.add_argument("--data", default=os.environ.get("LGGAN_SHARED_DATA", str(REPO.parent / "shared" / "data")))
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--copies", type=int, default=4)
    parser.add_argument("--batch_sizes", default="1,8")
    parser.add_argument("--variants", default="folders,cache,presized")
    args = parser.parse_args()
    samples = pathlib.Path(args.data) / "cityscapes_samples"
    if not samples.is_dir():
        print(f"error: {samples} not found; pass --data pointing at shared/data", file=sys.stderr)
        return 2
    spec = datasets.get_spec("cityscapes")
    with tempfile.TemporaryDirectory() as tmp:
        folders = pathlib.Path(tmp) / "folders"
        layout(samples, folders, args.copies)
        for variant in args.variants.split(","):
            root = folders
            if variant == "presized":
                root = pathlib.Path(tmp) / "records"
                make_tfrecords.write_tfrecords(spec, str(folders), "train", str(root), num_shards=4, presize=True)
            for batch_size in (int(b) for b in args.batch_sizes.split(",")):
                print(json.dumps(measure(spec, root, batch_size, args.examples, variant)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
