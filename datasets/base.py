"""Dataset facts (`DatasetSpec`), the file-pair record (`Example`) and the shared tf.data builder.

Each dataset module (cityscapes.py, ade20k.py, ...) defines one `SPEC` and registers a discovery function with
`register_layout`; `build_dataset` turns (spec, data_dir, split) into batches of
`{"label": int32[B,H,W], "image": float32[B,H,W,3] in [-1,1], "semantic": float32[B,H,W,semantic_nc],
"name": string[B]}` following SPADE's data pipeline (spade_official_code.md §4.3).
"""

from __future__ import annotations

import dataclasses
import glob
import importlib
import os
from typing import TYPE_CHECKING, Callable

import numpy as np

from datasets import geometry as geometry_lib
from datasets.errors import DatasetError

if TYPE_CHECKING:  # annotations only: TensorFlow is imported where the pipeline is built
    import tensorflow as tf

PREPROCESS_MODES = ("fixed", "resize_and_crop", "scale_width", "scale_width_and_crop", "crop")
UPSAMPLING_LAYERS = ("normal", "more", "most")
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Example:
    """One training pair. Paths are absolute strings; `instance` is "" when the dataset has no instance maps.

    `label_parts` (CelebAMask-HQ distributed layout) holds one binary mask path per class 1..K ("" where the part is
    absent); `label` is then "" and the label map is combined on the fly (celebamask_hq.combine_part_masks).
    """

    name: str
    image: str
    label: str
    instance: str = ""
    label_parts: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Everything the pipeline and the model need to know about one dataset (SPADE option setters, LGGAN §1.3).

    Label handling: raw value + `label_shift`; with `contain_dontcare`, raw `ignore_value` and shifted values < 0
    become the dontcare index `label_nc`. `semantic_nc` = label_nc + dontcare + instance-edge channel.
    Preprocessing: `preprocess_mode`/`load_size`/`crop_size`/`aspect_ratio` as SPADE; test time uses
    `test_preprocess_mode` (default: same) and `test_load_size` (default: crop_size, as SPADE's test options).
    """

    name: str
    label_nc: int
    task: str = "synthesis"
    contain_dontcare: bool = False
    use_instance: bool = False
    crop_size: int = 256
    load_size: int = 286
    aspect_ratio: float = 1.0
    preprocess_mode: str = "resize_and_crop"
    test_preprocess_mode: str | None = None
    test_load_size: int | None = None
    no_flip: bool = False
    num_upsampling_layers: str = "normal"
    class_names: tuple[str, ...] = ()
    palette: tuple[tuple[int, int, int], ...] = ()
    default_metrics: tuple[str, ...] = ("fid",)
    local_rest_from: int | None = None
    batch_size: int = 1
    niter: int = 50
    niter_decay: int = 0
    label_shift: int = 0
    ignore_value: int | None = None
    palette_labels: bool = False
    image_label_same_size: bool = True
    layout: str = ""
    image_dir: str | None = None
    label_dir: str | None = None
    instance_dir: str | None = None

    def __post_init__(self):
        def bad(field, value, expected):
            raise DatasetError(f"DatasetSpec({self.name!r}).{field}={value!r}: expected {expected}")

        if int(self.label_nc) < 1:
            bad("label_nc", self.label_nc, "a positive number of classes (set --label_nc)")
        for field in ("preprocess_mode", "test_preprocess_mode"):
            value = getattr(self, field)
            if value is not None and value not in PREPROCESS_MODES:
                bad(field, value, f"one of {PREPROCESS_MODES}")
        if self.num_upsampling_layers not in UPSAMPLING_LAYERS:
            bad("num_upsampling_layers", self.num_upsampling_layers, f"one of {UPSAMPLING_LAYERS}")
        if self.class_names and len(self.class_names) != self.label_nc:
            bad("class_names", f"<{len(self.class_names)} names>", f"{self.label_nc} names (one per label)")
        if self.palette and len(self.palette) != self.label_nc:
            bad("palette", f"<{len(self.palette)} colours>", f"{self.label_nc} colours")
        if self.local_rest_from is not None and not 0 < self.local_rest_from < self.label_nc:
            bad("local_rest_from", self.local_rest_from, f"None or 0 < value < label_nc={self.label_nc}")
        if self.crop_size < 1 or self.load_size < 1 or self.aspect_ratio <= 0:
            bad("crop_size/load_size/aspect_ratio", (self.crop_size, self.load_size, self.aspect_ratio), "> 0")

    @property
    def semantic_nc(self) -> int:
        """One-hot width seen by the generator: label_nc (+1 dontcare) (+1 instance edges)."""
        return self.label_nc + int(self.contain_dontcare) + int(self.use_instance)

    @property
    def onehot_nc(self) -> int:
        return self.label_nc + int(self.contain_dontcare)

    @property
    def layout_name(self) -> str:
        return self.layout or self.name

    def palette_array(self) -> np.ndarray:
        """uint8 [label_nc, 3] colours for visualisation (SPADE `labelcolormap` when the dataset has none)."""
        if self.palette:
            return np.asarray(self.palette, np.uint8)
        return bit_interleave_palette(self.label_nc)

    def output_size(self, training: bool, height: int | None = None, width: int | None = None) -> tuple[int, int]:
        """Static (H, W) of the batches `build_dataset` yields."""
        geometry = geometry_lib.plan_geometry(self, training, height, width)
        return geometry.out_h, geometry.out_w


def bit_interleave_palette(n: int) -> np.ndarray:
    """SPADE/pix2pixHD `labelcolormap(N)` for N != 35: class id bits spread over the R, G, B high bits."""
    out = np.zeros((n, 3), np.uint8)
    for i in range(n):
        r = g = b = 0
        cid = i
        for j in range(7):
            r |= ((cid >> 0) & 1) << (7 - j)
            g |= ((cid >> 1) & 1) << (7 - j)
            b |= ((cid >> 2) & 1) << (7 - j)
            cid >>= 3
        out[i] = (r, g, b)
    return out


# --- layouts: dataset name -> discovery function ------------------------------------------------------------------
# Modules are imported on first use, so `python -m datasets.<name>` runs without a double import.
MODULES = {
    "cityscapes": "datasets.cityscapes", "ade20k": "datasets.ade20k", "coco_stuff": "datasets.coco_stuff",
    "deepfashion": "datasets.deepfashion", "celebamask_hq": "datasets.celebamask_hq", "facades": "datasets.facades",
    "custom": "datasets.custom", "synthetic": "datasets.synthetic_spec",
    "dayton": "datasets.cross_view", "dayton_g2a": "datasets.cross_view", "cvusa": "datasets.cross_view",
    "sva": "datasets.cross_view",
}
LAYOUTS: dict[str, Callable[[DatasetSpec, str, str], list[Example]]] = {}
PROCEDURAL: dict[str, tuple[Callable, dict]] = {}


def register_layout(name: str):
    """Decorator registering `discover(spec, data_dir, split) -> list[Example]` for the layout `name`."""

    def wrap(fn):
        LAYOUTS[name] = fn
        return fn

    return wrap


def register_procedural(name: str, render: Callable, split_sizes: dict):
    """Register a generated dataset: `render(seed, split, index, height, width) -> dict(image, label, instance)`."""
    PROCEDURAL[name] = (render, dict(split_sizes))


def load_layout(name: str) -> None:
    """Import the module that registers layout `name` (no-op when registered or unknown)."""
    if name not in LAYOUTS and name not in PROCEDURAL and name in MODULES:
        importlib.import_module(MODULES[name])


def discover(spec: DatasetSpec, data_dir: str, split: str) -> list[Example]:
    """The dataset's file pairs for `split`, naturally sorted (raises DatasetError on missing dirs/unpaired files)."""
    if split not in SPLITS:
        raise DatasetError(f"split {split!r}: expected one of {SPLITS}")
    load_layout(spec.layout_name)
    if spec.layout_name not in LAYOUTS:
        raise DatasetError(f"dataset {spec.name!r} has no file layout (layout {spec.layout_name!r}); "
                           f"known layouts: {sorted(LAYOUTS)}")
    if not spec.image_dir and (not data_dir or not os.path.isdir(data_dir)):
        raise DatasetError(f"--data_dir {data_dir!r} is not a directory: point it at the {spec.name} root folder")
    return LAYOUTS[spec.layout_name](spec, data_dir, split)


def tfrecord_shards(data_dir: str | None, split: str) -> list[str]:
    """`<data_dir>/<split>-*-of-*.tfrecord` shards written by datasets.make_tfrecords (empty if none)."""
    if not data_dir or not os.path.isdir(data_dir):
        return []
    return sorted(glob.glob(os.path.join(glob.escape(data_dir), f"{split}-*-of-*.tfrecord")))


def build_dataset(spec: DatasetSpec, data_dir: str | None, split: str, batch_size: int, training: bool, seed: int = 0,
                  deterministic: bool = False, input_context: tf.distribute.InputContext | None = None,
                  num_examples: int | None = None, height: int | None = None, width: int | None = None,
                  cache: bool = False, scene_seed: int | None = None):
    """tf.data pipeline of (label, image, semantic, name) batches; see the module docstring for shapes.

    training: shuffle (seeded), repeat forever, random crop/flip, `drop_remainder=True`. Otherwise one ordered pass
    without augmentation. Augmentation is stateless, seeded by (seed, input pipeline id, element index), so a run
    is reproducible; `deterministic=True` also fixes the element order of the parallel map.
    input_context: per-replica batch `input_context.get_per_replica_batch_size(batch_size)` and
    `shard(num_input_pipelines, input_pipeline_id)` for multi-worker input.
    height/width: override the output size (e.g. 64x128 for tests); the load size scales with it.
    cache: keep decoded, deterministically resized examples in memory (before crop/flip).
    scene_seed: which scenes a generated (synthetic) dataset draws; None = `seed`. Training fixes it
    (--synthetic_seed) so runs with different --seed see the same scenes, shuffled differently.
    Raises DatasetError on a missing/unpaired dataset (see datasets.checks.validate for content checks).
    """
    import tensorflow as tf

    from datasets import transforms

    if spec.task == "cross_view":  # six-panel files, their own batch keys (datasets/cross_view.py)
        from datasets.cross_view import build_cross_view_dataset

        return build_cross_view_dataset(spec, data_dir, split, batch_size, training, seed, deterministic,
                                        input_context, num_examples, height, width, cache)
    if batch_size < 1:
        raise DatasetError(f"batch_size={batch_size}: expected >= 1")
    geometry = geometry_lib.plan_geometry(spec, training, height, width)
    load_layout(spec.layout_name)
    pipelines, pipeline_id = 1, 0
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
        pipelines, pipeline_id = input_context.num_input_pipelines, input_context.input_pipeline_id

    if spec.layout_name in PROCEDURAL:
        scenes = seed if scene_seed is None else scene_seed
        source, count, decode = _procedural_source(spec, split, scenes, num_examples, geometry)
        source = source.shard(pipelines, pipeline_id)
    elif tfrecord_shards(data_dir, split):
        from datasets import make_tfrecords

        source, count = make_tfrecords.record_source(data_dir, split, pipelines, pipeline_id, num_examples,
                                                     geometry)
        decode = make_tfrecords.decode_fn(spec)
    else:
        examples = discover(spec, data_dir, split)
        if num_examples is not None:
            examples = examples[:num_examples]
        source = _file_source(spec, examples).shard(pipelines, pipeline_id)
        count = len(examples)
        decode = transforms.file_decoder(spec)
    if training and count < batch_size * pipelines:
        raise DatasetError(f"{spec.name} {split}: {count} examples in {data_dir!r} < batch size {batch_size} x "
                           f"{pipelines} input pipelines; lower --batch_size or add data")

    ds = source
    if cache:
        if decode is not None:
            ds = map_plain(ds, decode, deterministic=True)
            decode = None
        ds = map_plain(ds, lambda ex: transforms.resize_stage(ex, geometry), deterministic=True).cache()
    if training:
        # File paths and indices are cheap to buffer; decoded examples and records are not.
        heavy = cache or bool(tfrecord_shards(data_dir, split)) and spec.layout_name not in PROCEDURAL
        buffer = max(1, min(count, 256 if heavy else count))
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.enumerate()
    base_seed = tf.constant([seed, pipeline_id], tf.int64)

    def per_example(index, ex):
        if decode is not None:
            ex = decode(ex)
        if not cache:
            ex = transforms.resize_stage(ex, geometry)
        return transforms.augment_stage(ex, geometry, spec, base_seed + tf.stack([tf.constant(0, tf.int64), index]))

    ds = map_plain(ds, per_example, deterministic=deterministic or None)
    ds = ds.batch(batch_size, drop_remainder=training)
    ds = map_plain(ds, lambda b: transforms.finalize_batch(b, spec), deterministic=True)
    return finish_pipeline(ds, deterministic, input_context)


def map_plain(ds, fn, **kwargs):
    """`ds.map(fn, num_parallel_calls=AUTOTUNE, **kwargs)` without AutoGraph: the pipelines' functions have no
    tensor-dependent Python control flow (tensor conditions are tf.cond), so AutoGraph's source conversion of them
    (~3.5 s of each process's first pipeline build on 2 CPU cores) is skipped."""
    import tensorflow as tf

    return ds.map(tf.autograph.experimental.do_not_convert(fn), num_parallel_calls=tf.data.AUTOTUNE, **kwargs)


def finish_pipeline(ds, deterministic: bool, input_context=None):
    """Options shared by every pipeline (determinism; no auto-sharding when the pipeline shards itself per input
    context) and a final prefetch."""
    import tensorflow as tf

    options = tf.data.Options()
    options.deterministic = bool(deterministic)
    if input_context is not None:
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def _file_source(spec: DatasetSpec, examples: list[Example]):
    import tensorflow as tf

    columns = {
        "name": [e.name for e in examples],
        "image": [e.image for e in examples],
        "label": [e.label for e in examples],
        "instance": [e.instance for e in examples],
    }
    if examples and examples[0].label_parts:
        columns["label_parts"] = [list(e.label_parts) for e in examples]
    return tf.data.Dataset.from_tensor_slices({k: tf.constant(v, tf.string) for k, v in columns.items()})


def _procedural_source(spec, split, seed, num_examples, geometry):
    import tensorflow as tf

    render, sizes = PROCEDURAL[spec.layout_name]
    if split == "test":
        split = "val"
    if split not in sizes:
        raise DatasetError(f"{spec.name}: split {split!r} unknown; expected one of {sorted(sizes)}")
    count = int(num_examples if num_examples is not None else sizes[split])
    h, w = geometry.render_size

    def render_np(index):
        out = render(int(seed), split, int(index), h, w)
        return (np.asarray(out["image"], np.uint8), np.asarray(out["label"], np.uint8),
                np.asarray(out["instance"], np.int32))

    def render_example(ex):
        index = ex["index"]
        image, label, instance = tf.numpy_function(render_np, [index], (tf.uint8, tf.uint8, tf.int32), stateful=False)
        name = tf.strings.join([f"{split}_{seed}_", tf.strings.as_string(index)])
        return {"name": name, "image": tf.ensure_shape(image, [h, w, 3]), "label": tf.ensure_shape(label, [h, w]),
                "instance": tf.ensure_shape(instance, [h, w])}

    return map_plain(tf.data.Dataset.range(count), lambda i: {"index": i}), count, render_example
