"""Raw dataset folders -> sharded TFRecords of the encoded files, and the reader `build_dataset` uses for them.

    python -m datasets.make_tfrecords --dataset cityscapes --data_dir D --split train --out DIR [--shards N]

Writes `DIR/<split>-00000-of-0000N.tfrecord` (+ `DIR/<split>-meta.json`). Each record holds the file bytes as
they are on disk (`name`, `image`, `label`, `instance`; CelebAMask-HQ part masks are combined and PNG-encoded;
cross-view datasets (dayton, dayton_g2a, cvusa, sva) keep the six-panel file in `image`),
so decoding and preprocessing are identical to reading the folders. `build_dataset(spec, DIR, split, ...)` reads
the shards whenever DIR holds `<split>-*-of-*.tfrecord` files.

`--presize` stores the output of the deterministic resize step instead (PNG at the load size: 512x256 for
Cityscapes instead of 2048x1024; cross-view: I_a | I_g | S_g and the target classes, datasets/cross_view.py), which makes decoding ~16x cheaper and yields identical batches, as long as
the training run uses the same preprocessing (checked: a different geometry raises DatasetError).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys

import tensorflow as tf

from datasets.base import DatasetSpec, Example, discover, load_layout
from datasets.errors import DatasetError

FEATURES = ("name", "image", "label", "instance")
DEFAULT_PER_SHARD = 256


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def encode_example(ex: Example) -> bytes:
    """Serialised tf.train.Example with the raw bytes of the example's files."""
    if ex.label_parts:
        from PIL import Image

        from datasets.celebamask_hq import combine_part_masks

        buffer = io.BytesIO()
        Image.fromarray(combine_part_masks(ex.label_parts)).save(buffer, format="PNG")
        label = buffer.getvalue()
    else:
        label = _read(ex.label)
    return _serialize({"name": ex.name.encode(), "image": _read(ex.image), "label": label,
                       "instance": _read(ex.instance) if ex.instance else b""})


def _serialize(values: dict) -> bytes:
    """{feature: bytes} -> serialised tf.train.Example."""
    feature = {k: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v])) for k, v in values.items()}
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def presized_example(ex: Example, spec: DatasetSpec, geometry) -> bytes:
    """Serialised record of the example after decode + the deterministic resize (PNG-encoded, lossless)."""
    from datasets import transforms

    paths = {"name": ex.name, "image": ex.image, "label": ex.label, "instance": ex.instance or ex.label}
    if ex.label_parts:
        paths["label_parts"] = list(ex.label_parts)
    out = transforms.resize_stage(transforms.file_decoder(spec)({k: tf.constant(v) for k, v in paths.items()}),
                                  geometry)
    return _serialize({"name": ex.name.encode(), "image": tf.io.encode_png(out["image"]).numpy(),
                       "label": tf.io.encode_png(out["label"][..., None]).numpy(),
                       "instance": tf.io.encode_png(out["instance"][..., None]).numpy() if spec.use_instance else b""})


def geometry_key(geometry) -> dict:
    return {"mode": geometry.mode, "load": geometry.load, "out_h": geometry.out_h, "out_w": geometry.out_w}


def write_tfrecords(spec: DatasetSpec, data_dir: str, split: str, out_dir: str, num_shards: int | None = None,
                    num_examples: int | None = None, presize: bool = False, training: bool = True) -> dict:
    """Write the split's examples (checked first with datasets.checks.validate) into `num_shards` shards.

    presize: store examples resized for `spec`'s train (or, with training=False, test) preprocessing.
    """
    from datasets.checks import validate
    from datasets.geometry import plan_geometry

    validate(spec, data_dir, split)
    examples = discover(spec, data_dir, split)[:num_examples]
    geometry = plan_geometry(spec, training) if presize else None
    shards = num_shards or max(1, -(-len(examples) // DEFAULT_PER_SHARD))
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, f"{split}-{i:05d}-of-{shards:05d}.tfrecord") for i in range(shards)]
    if spec.task == "cross_view":  # one six-panel file per example (datasets/cross_view.py)
        from datasets.cross_view import record_values

        def encode(ex):
            return _serialize(record_values(spec, ex, geometry))
    else:
        def encode(ex):
            return presized_example(ex, spec, geometry) if presize else encode_example(ex)
    for i, path in enumerate(paths):
        with tf.io.TFRecordWriter(path) as writer:
            for ex in examples[i::shards]:
                writer.write(encode(ex))
    meta = {"dataset": spec.name, "split": split, "num_examples": len(examples), "num_shards": shards,
            "order": "example k is record k // num_shards of shard k % num_shards",
            "presized": geometry_key(geometry) if presize else None}
    with open(os.path.join(out_dir, f"{split}-meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
    return meta


def read_meta(data_dir: str, split: str) -> dict:
    path = os.path.join(data_dir, f"{split}-meta.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as fh:
        return json.load(fh)


def _count(data_dir: str, split: str, files: list[str]) -> int:
    meta = read_meta(data_dir, split)
    if meta:
        return int(meta["num_examples"])
    return int(sum(1 for _ in tf.data.TFRecordDataset(files)))


def record_source(data_dir: str, split: str, pipelines: int = 1, pipeline_id: int = 0,
                  num_examples: int | None = None, geometry=None) -> tuple[tf.data.Dataset, int]:
    """Serialised records of `split` in writing order (round-robin over shards), sharded per input pipeline.

    Raises DatasetError when the shards were presized for another geometry than `geometry`.
    """
    from datasets.base import tfrecord_shards

    files = tfrecord_shards(data_dir, split)
    presized = read_meta(data_dir, split).get("presized")
    if presized and geometry is not None and presized != geometry_key(geometry):
        raise DatasetError(f"{data_dir}: {split} shards were presized for {presized}, this run needs "
                           f"{geometry_key(geometry)}; rewrite them with the same preprocessing or without --presize")
    count = _count(data_dir, split, files)
    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TFRecordDataset, cycle_length=len(files), block_length=1)
    if num_examples is not None:
        ds = ds.take(num_examples)
        count = min(count, int(num_examples))
    return ds.shard(pipelines, pipeline_id), count


def decode_fn(spec: DatasetSpec):
    """Map function: serialised record -> decoded per-example tensors (as transforms.file_decoder)."""
    from datasets import transforms

    description = {k: tf.io.FixedLenFeature([], tf.string, default_value=b"") for k in FEATURES}

    def decode(serialized):
        return transforms.decode_bytes(tf.io.parse_single_example(serialized, description), spec)

    return decode


def main(argv=None) -> int:
    from datasets import get_spec, list_datasets

    parser = argparse.ArgumentParser(description="Write a dataset split as sharded TFRecords of encoded files.")
    parser.add_argument("--dataset", required=True, choices=list_datasets())
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--split", default="train", choices=("train", "val", "test"))
    parser.add_argument("--out", required=True, help="output folder for <split>-*-of-*.tfrecord")
    parser.add_argument("--shards", type=int, default=None, help=f"default: one per {DEFAULT_PER_SHARD} examples")
    parser.add_argument("--label_nc", type=int, default=None)
    parser.add_argument("--presize", action="store_true", help="store examples resized to the load size")
    parser.add_argument("--test", action="store_true", help="with --presize: use the test preprocessing")
    args = parser.parse_args(argv)
    try:
        overrides = {"label_nc": args.label_nc} if args.label_nc else {}
        spec = get_spec(args.dataset, **overrides)
        load_layout(spec.layout_name)
        print(json.dumps(write_tfrecords(spec, args.data_dir, args.split, args.out, args.shards,
                                                    presize=args.presize, training=not args.test)))
    except DatasetError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
