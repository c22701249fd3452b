"""Convert a published PyTorch checkpoint of an evaluation network into a directory evaluate.py accepts.

    python -m lggan_tf.metrics.convert inception_fid --pytorch_checkpoint pt_inception-2015-12-05-6726825d.pth \\
        --out weights/inception_fid                          # -> --inception_weights=weights/inception_fid
    python -m lggan_tf.metrics.convert lpips_alex --pytorch_checkpoint alexnet-owt-7be5be79.pth,alex.pth \\
        --out weights/lpips_alex                             # backbone + v0.1 heads -> --lpips_weights=...

NAME is one of lggan_tf.metrics.nets.NETWORKS. Several files (comma list) are merged into one state_dict (their
keys must not overlap). A wrong file (another network's, truncated, not a state_dict) prints one line naming the
missing / unexpected / mis-shaped keys and exits 2; nothing is written (the directory is written aside and renamed).
"""

from __future__ import annotations

import argparse
import os
import sys

from lggan_tf.metrics.nets import NETWORKS, common, network


def read_checkpoints(paths, key: str | None = None) -> dict:
    """Merged state_dict of the comma-listed .pth files (torch-free reader); ConversionError on overlapping keys."""
    from lggan_tf.convert.pth_reader import load_state_dict

    state, owner = {}, {}
    for path in paths:
        for k, v in load_state_dict(path, key=key).items():
            if k in state:
                raise common.ConversionError(f"{path}: key {k!r} is also in {owner[k]}; pass each file once")
            state[k], owner[k] = v, path
    return state


def convert(name: str, checkpoints, out_dir: str, key: str | None = None) -> str:
    """Convert `checkpoints` (paths) for network `name` into `out_dir`; returns its absolute path."""
    module = network(name)
    common.check_out_dir(os.path.abspath(out_dir))
    for path in checkpoints:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--pytorch_checkpoint: {path!r} is not a file")
    weights = module.convert_state_dict(read_checkpoints(checkpoints, key))
    model = module.build()
    common.assign_weights(model, weights)
    return module.save_converted(model, out_dir, source=list(checkpoints))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lggan_tf.metrics.convert", description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=sorted(NETWORKS), help="network to convert")
    parser.add_argument("--pytorch_checkpoint", required=True,
                        help="the published .pth / .pth.tar file(s), comma-separated (see README)")
    parser.add_argument("--out", required=True, help="output directory (new, empty or a previous conversion)")
    parser.add_argument("--key", default=None, help="top-level key of a wrapped checkpoint (default: automatic)")
    args = parser.parse_args(argv)
    from lggan_tf.convert.pth_reader import CheckpointError

    files = [p for p in args.pytorch_checkpoint.split(",") if p]
    try:
        out = convert(args.name, files, args.out, args.key)
    except (CheckpointError, ValueError, FileNotFoundError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    print(f"wrote {out} ({args.name}); pass it to evaluate.py (see README, Reproducing the paper's numbers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
