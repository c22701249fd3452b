"""Mean style code per semantic class of a SEAN run, the fallback for regions a style image lacks.

    python -m lggan_tf.mean_style_codes --model_dir runs/celebamask_hq-sean-nearest --data_dir D [--split val]
        [--num_samples 0] [--out PATH]      # default PATH: <model_dir>/mean_style_codes.npz

As the official calculate_mean_style_code.py (sean_official_code.md §4): the raw Zencoder code of every region
present in an image (region-averaged, after tanh, before fc_mu), averaged per class over the images, but for any
class count. The .npz holds `codes` float32 [S, D], `counts` int64 [S] (images with the class; a class never seen
keeps a zero code) and `checkpoint`. Exit 2 on a bad run, data or flag.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MEAN_CODES_FILE = "mean_style_codes.npz"


def require_sean(run, flag="--model_dir"):
    """ValueError unless the loaded run is a SEAN run."""
    if run.config.model != "sean":
        raise ValueError(f"{flag}: the run is --model={run.config.model}; per-region style codes need a "
                         "--model=sean run")


def compute_mean_codes(run, data_dir, split="val", num_samples=0, batch_size=4):
    """(codes [S, D] float32, counts [S] int64) over `split` of the run's dataset."""
    import numpy as np
    import tensorflow as tf

    from datasets import build_dataset
    from lggan_tf.layers.common import nearest_resize_to

    ds = build_dataset(run.plan.spec, data_dir or None, split, batch_size, training=False,
                       num_examples=num_samples or None, height=run.plan.data_height, width=run.plan.data_width)
    total, counts = None, None
    for batch in ds:
        codes = run.generator.encode_styles(batch["image"], batch["semantic"]).numpy()  # [B, S, D]
        h, w = run.plan.height // 2, run.plan.width // 2
        present = tf.reduce_max(nearest_resize_to(batch["semantic"], h, w), axis=[1, 2]).numpy() > 0  # [B, S]
        summed = np.einsum("bsd,bs->sd", codes, present.astype(np.float64))
        total = summed if total is None else total + summed
        counts = present.sum(0) if counts is None else counts + present.sum(0)
    if total is None:
        raise ValueError(f"--data_dir={data_dir!r}: no {split} examples")
    mean = np.where(counts[:, None] > 0, total / np.maximum(counts, 1)[:, None], 0.0)
    return mean.astype(np.float32), counts.astype(np.int64)


def save_mean_codes(path, codes, counts, checkpoint):
    """Write aside, then rename (never a half-written file)."""
    import numpy as np

    tmp = path + ".tmp.npz"
    np.savez(tmp, codes=codes, counts=counts, checkpoint=np.array(checkpoint))
    os.replace(tmp, path)


def load_mean_codes(path, semantic_nc, style_dim):
    """codes [S, D] from a saved .npz; ValueError naming the file on a missing or mismatched file."""
    import numpy as np

    if not os.path.isfile(path):
        raise ValueError(f"mean style codes {path!r} not found; run `python -m lggan_tf.mean_style_codes "
                         "--model_dir R --data_dir D` first (or pass --mean_codes PATH)")
    codes = np.load(path)["codes"]
    if codes.shape != (semantic_nc, style_dim):
        raise ValueError(f"mean style codes {path!r} have shape {codes.shape}, the run expects "
                         f"({semantic_nc}, {style_dim}); recompute them for this run")
    return codes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lggan_tf.mean_style_codes", description=__doc__.split("\n")[0])
    parser.add_argument("--model_dir", required=True)
    parser.add_argument("--data_dir", default="")
    parser.add_argument("--split", default="val", choices=["train", "val", "test"])
    parser.add_argument("--num_samples", type=int, default=0, help="first N examples (0 = all)")
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--out", default=None, help=f"default <model_dir>/{MEAN_CODES_FILE}")
    args = parser.parse_args(argv)
    from datasets.errors import DatasetError
    from lggan_tf.inference import load_run

    try:
        run = load_run(args.model_dir, args.checkpoint)
        require_sean(run)
        codes, counts = compute_mean_codes(run, args.data_dir, args.split, args.num_samples, args.batch_size)
    except (ValueError, DatasetError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = args.out or os.path.join(args.model_dir, MEAN_CODES_FILE)
    save_mean_codes(out, codes, counts, run.checkpoint)
    print(f"mean style codes of {int((counts > 0).sum())}/{len(counts)} classes -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
