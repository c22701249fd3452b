"""Generate the evaluation split of a dataset into image folders (fake/, real/, label/) for scoring.

    out = generate_split(run.generator, spec, "val", "runs/x/eval/val-400", num_samples=100, ...)

`generator` is the restored Keras generator (`lggan_tf.inference.load_run`) or `saved_model_generator(path)` (an
exported SavedModel with a `generate_onehot` signature: onehot float [B, H, W, C] -> image uint8).
Images are written as PNG named after the example (`<name>.png`); labels hold the pipeline's class ids (dontcare =
label_nc) as 8-bit (16-bit when > 255) grey PNGs, at the generated size.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil

import numpy as np
import tensorflow as tf
from PIL import Image

from lggan_tf import summaries
from lggan_tf.inference import generate_batch


@dataclasses.dataclass(frozen=True)
class GeneratedSplit:
    directory: str
    real_dir: str
    fake_dir: str
    label_dir: str
    count: int


def saved_model_generator(path: str):
    """Callable semantic [B, H, W, C] -> {"image": uint8} from an exported SavedModel's `generate_onehot`.
    `path` is the version directory or the export directory (its highest-numbered version is used)."""
    versions = [d for d in os.listdir(path) if d.isdigit()] if path and os.path.isdir(path) else []
    if versions and not os.path.isfile(os.path.join(path, "saved_model.pb")):
        path = os.path.join(path, max(versions, key=int))
    if not os.path.isfile(os.path.join(path or "", "saved_model.pb")):
        raise FileNotFoundError(f"--saved_model={path!r}: no saved_model.pb there; pass the export directory "
                                "written by the exporter (exports/)")
    loaded = tf.saved_model.load(path)
    fn = loaded.signatures.get("generate_onehot")
    if fn is None:
        raise ValueError(f"--saved_model={path!r} has no 'generate_onehot' signature (signatures: "
                         f"{sorted(loaded.signatures)}); re-export it with the current exporter")
    key = list(fn.structured_input_signature[1])[0]

    def generate(semantic, training=False):
        return fn(**{key: tf.cast(semantic, tf.float32)})

    generate.loaded = loaded  # keep the trackable alive
    return generate


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(name)) or "image"


def to_uint8(images) -> np.ndarray:
    """Generator output ([-1, 1] float, or uint8 from a SavedModel) -> uint8 [B, H, W, 3]."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return summaries.to_uint8(images)


def save_label(path: str, label: np.ndarray) -> None:
    label = np.asarray(label)
    Image.fromarray(label.astype(np.uint8) if label.max(initial=0) < 256 else label.astype(np.uint16)).save(path)


def generate_split(generator, spec, split: str, out_dir: str, num_samples: int | None, batch_size: int,
                   data_dir: str | None = None, height: int | None = None, width: int | None = None,
                   seed: int = 0) -> GeneratedSplit:
    """Run `generator` over `split` (first num_samples examples; None = all) and write fake/real/label PNGs."""
    from datasets import build_dataset
    from datasets.errors import DatasetError

    ds = build_dataset(spec, data_dir or None, split, batch_size, training=False, seed=seed,
                       num_examples=num_samples or None, height=height, width=width)
    result = GeneratedSplit(out_dir, *(os.path.join(out_dir, d) for d in ("real", "fake", "label")), 0)
    for d in (result.real_dir, result.fake_dir, result.label_dir):
        shutil.rmtree(d, ignore_errors=True)  # a rerun with another --num_samples must not leave stale pairs
        os.makedirs(d)
    count, seen = 0, set()
    for batch in ds:
        fake = to_uint8(generate_batch(generator, batch)["image"])
        real = to_uint8(batch["image"])
        for i, raw in enumerate(batch["name"].numpy()):
            name = safe_name(raw.decode())
            if name in seen:
                name = f"{name}_{count}"
            seen.add(name)
            Image.fromarray(fake[i]).save(os.path.join(result.fake_dir, name + ".png"))
            Image.fromarray(real[i]).save(os.path.join(result.real_dir, name + ".png"))
            save_label(os.path.join(result.label_dir, name + ".png"), batch["label"][i].numpy())
            count += 1
    if count == 0:
        raise DatasetError(f"{spec.name} split {split!r} yielded no examples (data_dir={data_dir!r}); check "
                           "--data_dir/--split or lower --num_samples")
    return dataclasses.replace(result, count=count)


__all__ = ["GeneratedSplit", "generate_split", "saved_model_generator", "to_uint8"]
