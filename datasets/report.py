"""Dataset inspection: a JSON summary of a split and the `python -m datasets` command line.

    python -m datasets --dataset cityscapes --data_dir D --split train --summary   # sampled checks, exit 2 on error
    python -m datasets --dataset cityscapes --data_dir D --split train --check     # read every file, exit 1 if bad

DatasetError (missing folders, unpaired files, bad content in the sample) -> one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from datasets.base import PROCEDURAL, DatasetSpec, load_layout, tfrecord_shards
from datasets.checks import DEFAULT_SAMPLE, find_problems, format_problems, sample_indices
from datasets.errors import DatasetError

NUM_PAIRS_SHOWN = 3


def _procedural_summary(spec: DatasetSpec, split: str, sample: int) -> dict:
    render, sizes = PROCEDURAL[spec.layout_name]
    split = "val" if split == "test" else split
    h, w = spec.output_size(False)
    seen: set[int] = set()
    indices = sample_indices(sizes[split], sample)
    for i in indices:
        seen.update(int(v) for v in np.unique(render(0, split, i, h, w)["label"]))
    return {"num_examples": sizes[split], "image_size": [h, w], "seen": seen, "checked": len(indices), "pairs": []}


def summarize(spec: DatasetSpec, data_dir: str | None, split: str, check: bool = False,
              sample: int = DEFAULT_SAMPLE) -> tuple[dict, list[str]]:
    """(summary dict, problems). Label statistics are over the checked examples (all with `check`)."""
    from PIL import Image

    load_layout(spec.layout_name)
    problems: list[str] = []
    if spec.layout_name in PROCEDURAL:
        info = _procedural_summary(spec, split, sample)
    elif tfrecord_shards(data_dir, split):
        from datasets.make_tfrecords import _count

        shards = tfrecord_shards(data_dir, split)
        info = {"num_examples": _count(data_dir, split, shards), "image_size": None, "seen": set(), "checked": 0,
                "pairs": [{"tfrecord": os.path.basename(s)} for s in shards[:NUM_PAIRS_SHOWN]]}
    else:
        examples, problems, seen, checked = find_problems(spec, data_dir, split, check_all=check, sample=sample)
        with Image.open(examples[0].image) as first:
            size = [first.size[1], first.size[0]]
        root = os.path.abspath(data_dir) if data_dir else ""
        pairs = [{"name": e.name, **{k: (os.path.relpath(v, root) if root and v else v) for k, v in
                                     (("image", e.image), ("label", e.label), ("instance", e.instance))}}
                 for e in examples[:NUM_PAIRS_SHOWN]]
        info = {"num_examples": len(examples), "image_size": size, "seen": seen, "checked": checked, "pairs": pairs}
    seen = sorted(info["seen"])
    summary = {
        "dataset": spec.name, "split": split, "data_dir": data_dir, "num_examples": info["num_examples"],
        "image_size": info["image_size"], "output_size": list(spec.output_size(True)), "label_nc": spec.label_nc,
        "semantic_nc": spec.semantic_nc, "contain_dontcare": spec.contain_dontcare, "use_instance": spec.use_instance,
        "label_min": seen[0] if seen else None, "label_max": seen[-1] if seen else None, "classes_present": seen,
        "labels_scanned": info["checked"], "pairs": info["pairs"],
    }
    if spec.task == "cross_view" and info["image_size"]:
        from datasets.cross_view import NUM_PANELS, direction

        h, w = info["image_size"]
        summary.update(task="cross_view", direction=direction(spec), panel_size=[h, w // NUM_PANELS], semantic_nc=3)
    return summary, problems


def parse_args(argv):
    from datasets import list_datasets

    parser = argparse.ArgumentParser(prog="python -m datasets", description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=list_datasets())
    parser.add_argument("--data_dir", default=None, help="dataset root (not needed for 'synthetic')")
    parser.add_argument("--split", default="train", choices=("train", "val", "test"))
    parser.add_argument("--summary", action="store_true", help="print the JSON summary (default action)")
    parser.add_argument("--check", action="store_true", help="read every file and report every problem")
    parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="examples read without --check")
    parser.add_argument("--label_nc", type=int, default=None)
    parser.add_argument("--contain_dontcare_label", action="store_true", default=None)
    parser.add_argument("--no_instance", action="store_true")
    parser.add_argument("--image_dir", default=None)
    parser.add_argument("--label_dir", default=None)
    parser.add_argument("--instance_dir", default=None)
    return parser.parse_args(argv)


def spec_from_args(args) -> DatasetSpec:
    from datasets import get_spec

    overrides = {k: getattr(args, k) for k in ("label_nc", "image_dir", "label_dir", "instance_dir")
                 if getattr(args, k) is not None}
    if args.contain_dontcare_label:
        overrides["contain_dontcare"] = True
    if args.no_instance:
        overrides["use_instance"] = False
    return get_spec(args.dataset, **overrides)


def main(argv=None) -> int:
    """CLI entry: 0 = fine, 1 = --check found problems, 2 = DatasetError (one line on stderr)."""
    args = parse_args(argv)
    try:
        spec = spec_from_args(args)
        summary, problems = summarize(spec, args.data_dir, args.split, check=args.check, sample=args.sample)
        if problems and not args.check:
            raise DatasetError(format_problems(problems))
    except DatasetError as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    if args.check:
        summary["problems"] = problems
    print(json.dumps(summary))
    if problems:
        print(f"error: {format_problems(problems)}", file=sys.stderr)
        return 1
    return 0
