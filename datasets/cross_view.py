"""Cross-view datasets (Dayton, CVUSA, SVA) in the LGGAN six-panel format (lggan_official_code.md §2.1).

Layout: `<data_dir>/{train,test}/*.png|jpg`, each file six panels side by side (1536x256 for 256x256 panels):
    I_a (input-view RGB) | I_g (target-view RGB) | S_a | S_g (colour semantic maps) | L_a | L_g (grey label panels).
Label panels hold grey values 10, 20, ..., 60 for the six merged classes (CLASS_NAMES); void stays 0. An optional
split file `<data_dir>/{split}.txt` (or exactly one `<data_dir>/*_{split}.txt`, e.g. the official
`dayton_train.txt`) lists the file names to use, one per line.

Directions: `dayton`, `cvusa`, `sva` read the panels as stored (input view first: a2g for the official a2g
folders, and g2a for an official, separately prepared g2a folder such as `dayton_g2a_lggan`). `dayton_g2a` reads the
a2g files and swaps the two views (I_g | I_a | S_g | S_a | L_g | L_a), so one a2g folder serves both directions.

Preprocessing (official `aligned_dataset.py`, with its faults fixed): RGB panels bicubic to the load size (286 for
256 models, 72 for 64 models); the target label panel is mapped to classes at its native size, JPEG noise included
(|v - class value| <= LABEL_TOLERANCE, anything else void), then resized with NEAREST (the official bicubic creates
in-between values at class borders); one random crop for all panels in training (offset in [0, load - fine - 1],
as official), a centre crop at test time (the official crop is random there too); no flip.

TFRecords (`python -m datasets.make_tfrecords --dataset dayton ...`, read when `<data_dir>/<split>-*-of-*.tfrecord`
exist): the six-panel file bytes, or presized panels (`record_values`); both give the batches of the files.

Batches: {"input_image" [B,H,W,3], "image" (target view) [B,H,W,3], "semantic" (target colour map S_g, the
condition) [B,H,W,3], all float32 in [-1, 1]; "masks" float32 [B,H,W,6] one-hot of the target label panel (void = all
zero); "name" string [B]}.
"""

from __future__ import annotations

import glob
import os
import warnings

import numpy as np

from datasets.base import DatasetSpec, Example, finish_pipeline, map_plain, register_layout, tfrecord_shards
from datasets.errors import DatasetError
from datasets.files import IMAGE_EXTS, list_files, natural_key, split_folder, stem

NUM_PANELS = 6
CLASS_NAMES = ("vehicle", "road", "pole_person", "building", "sky", "vegetation")
CLASS_VALUES = (10, 20, 30, 40, 50, 60)  # grey value of class i = 10 * (i + 1) (CV/scripts/data_preprocessing.m)
LABEL_TOLERANCE = 4  # |v - class value| <= 4 keeps JPEG-noisy labels (CVUSA); must stay < 5 (classes are 10 apart)
# Cityscapes colours of a representative class of each merged group (for sample grids).
PALETTE = ((0, 0, 142), (128, 64, 128), (220, 20, 60), (70, 70, 70), (70, 130, 180), (107, 142, 35))
G2A_LAYOUTS = ("dayton_g2a",)
PANEL_ORDER = {"a2g": (0, 1, 2, 3, 4, 5), "g2a": (1, 0, 3, 2, 5, 4)}
GREY_SPREAD = 24  # |R - G| + |G - B| above this on a label-panel pixel means the panel is not grey
PAPER_METRICS = ("inception_score", "accuracy", "kl", "ssim", "psnr", "sharpness_difference")


def _spec(name, niter, niter_decay, layout=""):
    return DatasetSpec(name=name, label_nc=len(CLASS_NAMES), task="cross_view", crop_size=256, load_size=286,
                       test_load_size=286, no_flip=True, preprocess_mode="resize_and_crop", class_names=CLASS_NAMES,
                       palette=PALETTE, default_metrics=PAPER_METRICS, batch_size=4, niter=niter,
                       niter_decay=niter_decay, layout=layout)


SPECS = {
    "dayton": _spec("dayton", 20, 15),
    "dayton_g2a": _spec("dayton_g2a", 20, 15, layout="dayton_g2a"),
    "cvusa": _spec("cvusa", 15, 15),
    "sva": _spec("sva", 10, 10),
}


def direction(spec: DatasetSpec) -> str:
    """'g2a' when the views are swapped on reading, else 'a2g' (panels as stored)."""
    return "g2a" if spec.layout_name in G2A_LAYOUTS else "a2g"


def label_to_class_np(grey: np.ndarray, tolerance: int = LABEL_TOLERANCE) -> np.ndarray:
    """Grey label values -> int32 class index 0..5, -1 (void) when no class value lies within `tolerance`."""
    v = np.asarray(grey, np.int32)
    idx = np.clip((v + 5) // 10 - 1, 0, NUM_PANELS - 1)
    near = np.abs(v - 10 * (idx + 1)) <= tolerance
    return np.where(near, idx, -1).astype(np.int32)


def label_to_class(grey, tolerance: int = LABEL_TOLERANCE):
    """TF twin of `label_to_class_np`: uint8 [h, w] -> int32 [h, w] (-1 = void)."""
    import tensorflow as tf

    v = tf.cast(grey, tf.int32)
    idx = tf.clip_by_value((v + 5) // 10 - 1, 0, len(CLASS_VALUES) - 1)
    return tf.where(tf.abs(v - 10 * (idx + 1)) <= tolerance, idx, -1)


# --- discovery ------------------------------------------------------------------------------------------------------
def split_file(data_dir: str, split: str) -> str | None:
    """`<data_dir>/{split}.txt`, else the single `<data_dir>/*_{split}.txt`, else None."""
    path = os.path.join(data_dir, f"{split}.txt")
    if os.path.isfile(path):
        return path
    found = sorted(glob.glob(os.path.join(glob.escape(data_dir), f"*_{split}.txt")))
    if len(found) > 1:
        raise DatasetError(f"{data_dir}: several split files {[os.path.basename(f) for f in found]} match "
                           f"*_{split}.txt; keep one or name it {split}.txt")
    return found[0] if found else None


def discover(spec: DatasetSpec, data_dir: str, split: str) -> list[Example]:
    """Six-panel files of `<data_dir>/<split>/` (val falls back to test), filtered by the split file if any."""
    folder = split_folder(data_dir, split, "{}")
    files = list_files(folder, IMAGE_EXTS, f"{spec.name} {split} six-panel images (I_a|I_g|S_a|S_g|L_a|L_g)")
    listing = split_file(data_dir, split)
    if listing:
        by_stem = {stem(f): f for f in files}
        with open(listing) as fh:
            wanted = [stem(line.strip()) for line in fh if line.strip()]
        unknown = [w for w in wanted if w not in by_stem]
        if unknown:
            raise DatasetError(f"{listing} lists {len(unknown)} name(s) not found in {folder}, e.g. {unknown[:5]}; "
                               "fix the split file or add the images")
        files = sorted((by_stem[w] for w in set(wanted)), key=lambda f: natural_key(os.path.basename(f)))
    return [Example(name=stem(f), image=os.path.abspath(f), label=os.path.abspath(f)) for f in files]


for _layout in SPECS:
    register_layout(_layout)(discover)


# --- checks (PIL only) ----------------------------------------------------------------------------------------------
def check_example(spec: DatasetSpec, ex: Example) -> tuple[list[str], np.ndarray | None]:
    """Problems of one six-panel file and the class indices of its target label panel (None when unreadable)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(ex.image)
            im.load()
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        return [f"{ex.image}: corrupt or truncated six-panel image ({type(err).__name__}: {err}); re-download or "
                "remove it"], None
    if im.mode not in ("RGB", "L"):
        return [f"{ex.image}: mode {im.mode!r} ({len(im.getbands())} channels), expected 8-bit RGB six-panel "
                "images; convert it with PIL .convert('RGB')"], None
    w, h = im.size
    if w % NUM_PANELS or w < NUM_PANELS:
        return [f"{ex.image}: image is {w}x{h}, expected six panels side by side (width = 6 x panel width, e.g. "
                f"1536x256 for 256x256 panels: I_a|I_g|S_a|S_g|L_a|L_g); re-export it in the LGGAN format"], None
    array = np.asarray(im.convert("RGB"), np.int32)
    pw = w // NUM_PANELS
    index = PANEL_ORDER[direction(spec)][5]
    panel = array[:, index * pw:(index + 1) * pw]
    problems = []
    spread = np.abs(panel[..., 0] - panel[..., 1]) + np.abs(panel[..., 1] - panel[..., 2])
    if np.mean(spread > GREY_SPREAD) > 0.05:
        coloured = np.mean(spread > GREY_SPREAD)
        problems.append(f"{ex.image}: panel {index + 1} (target label L) is not grey ({coloured:.0%} coloured pixels)"
                        "; expected grey values 10..60: check the panel order I_a|I_g|S_a|S_g|L_a|L_g")
        return problems, None
    classes = label_to_class_np(panel[..., 0])
    present = np.unique(classes[classes >= 0])
    if present.size == 0:
        problems.append(f"{ex.image}: target label panel {index + 1} holds no class value (10, 20, ..., 60 within "
                        f"+-{LABEL_TOLERANCE}); expected the merged six-class grey labels of the LGGAN format")
    return problems, present


# --- tf.data pipeline -----------------------------------------------------------------------------------------------
def _decode_and_resize(data, name, order, load, source):
    """Decode one six-panel file's bytes (`source`: its path or record name, for the message); bicubic RGB panels
    and NEAREST target classes at load x load."""
    import tensorflow as tf

    from datasets.transforms import _resize_bicubic, _resize_nearest

    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    width = tf.shape(image)[1]
    check = tf.debugging.Assert(tf.equal(width % NUM_PANELS, 0), [
        "cross-view: image width is not 6 x panel width (expected I_a|I_g|S_a|S_g|L_a|L_g); file, shape:", source,
        tf.shape(image)])
    with tf.control_dependencies([check]):
        pw = width // NUM_PANELS

    def panel(i):
        return image[:, i * pw:(i + 1) * pw]

    size = tf.constant([load, load])
    rgb = _resize_bicubic(tf.concat([panel(order[0]), panel(order[1]), panel(order[3])], axis=-1), size)
    classes = _resize_nearest(label_to_class(panel(order[5])[..., 0]), size)
    return {"name": name, "rgb": rgb, "classes": classes}


# --- TFRecords (written by datasets/make_tfrecords.py) ----------------------------------------------------------------
def record_values(spec: DatasetSpec, ex: Example, geometry=None) -> dict:
    """Record fields of one six-panel file: its bytes as on disk ('image'), or with `geometry` (--presize) the
    decoded, resized panels of `spec`'s direction: 'image' PNG [load, 3 load, 3] = I_a | I_g | S_g and 'label' PNG
    [load, load] of target class + 1 (0 = void); lossless, so the batches equal those read from the files."""
    import tensorflow as tf

    if geometry is None:
        with open(ex.image, "rb") as fh:
            return {"name": ex.name.encode(), "image": fh.read(), "label": b"", "instance": b""}
    out = _decode_and_resize(tf.io.read_file(ex.image), ex.name, PANEL_ORDER[direction(spec)], geometry.load,
                             ex.image)
    panels = tf.concat(tf.split(out["rgb"], 3, axis=-1), axis=1)
    label = tf.cast(out["classes"] + 1, tf.uint8)[..., None]
    return {"name": ex.name.encode(), "image": tf.io.encode_png(panels).numpy(),
            "label": tf.io.encode_png(label).numpy(), "instance": b""}


def _record_loader(spec: DatasetSpec, data_dir: str, split: str, order, load: int):
    """Map function: serialised record -> the per-example dict `_decode_and_resize` gives for the file."""
    import tensorflow as tf

    from datasets.make_tfrecords import FEATURES, read_meta

    meta = read_meta(data_dir, split)
    presized = bool(meta.get("presized"))
    written_for = SPECS.get(meta.get("dataset"))
    if presized and written_for is not None and direction(written_for) != direction(spec):
        raise DatasetError(f"{data_dir}: {split} shards were presized for --dataset={meta['dataset']} "
                           f"({direction(written_for)}); --dataset={spec.name} reads {direction(spec)}: rewrite "
                           "them with this --dataset, or without --presize")
    description = {k: tf.io.FixedLenFeature([], tf.string, default_value=b"") for k in FEATURES}

    def load_record(serialized):
        record = tf.io.parse_single_example(serialized, description)
        if not presized:
            return _decode_and_resize(record["image"], record["name"], order, load, record["name"])
        panels = tf.ensure_shape(tf.io.decode_png(record["image"], channels=3), [load, 3 * load, 3])
        classes = tf.cast(tf.io.decode_png(record["label"], channels=1)[..., 0], tf.int32) - 1
        return {"name": record["name"], "rgb": tf.concat(tf.split(panels, 3, axis=1), axis=-1), "classes": classes}

    return load_record


def _crop(ex, out_h, out_w, training, seed):
    """Same crop for every panel: official random offset in [0, room - 1] when training, centred otherwise."""
    import tensorflow as tf

    room_h, room_w = tf.shape(ex["rgb"])[0] - out_h, tf.shape(ex["rgb"])[1] - out_w
    if training:
        seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
        y = tf.random.stateless_uniform([], seeds[0], 0, tf.maximum(room_h, 1), tf.int32)
        x = tf.random.stateless_uniform([], seeds[1], 0, tf.maximum(room_w, 1), tf.int32)
    else:
        y, x = room_h // 2, room_w // 2
    rgb = tf.cast(ex["rgb"][y:y + out_h, x:x + out_w], tf.float32) / 127.5 - 1.0
    rgb = tf.ensure_shape(rgb, [out_h, out_w, 9])
    return {"name": ex["name"], "input_image": rgb[..., 0:3], "image": rgb[..., 3:6], "semantic": rgb[..., 6:9],
            "classes": tf.ensure_shape(ex["classes"][y:y + out_h, x:x + out_w], [out_h, out_w])}


def test_example(spec: DatasetSpec, path: str, height: int | None = None, width: int | None = None) -> dict:
    """One six-panel file preprocessed as the test split (load-size resize, centre crop, spec's direction), for
    serving clients: {"input_image", "image", "semantic"} uint8 [H,W,3], "classes" int32 [H,W] (-1 = void)."""
    import numpy as np
    import tensorflow as tf

    from datasets.geometry import plan_geometry

    geometry = plan_geometry(spec, False, height, width)
    ex = _decode_and_resize(tf.io.read_file(path), path, PANEL_ORDER[direction(spec)], geometry.load, path)
    out = _crop(ex, geometry.out_h, geometry.out_w, False, None)
    views = {k: np.round((out[k].numpy() + 1.0) * 127.5).astype(np.uint8)  # exact: the crop is u / 127.5 - 1
             for k in ("input_image", "image", "semantic")}
    return {**views, "classes": out["classes"].numpy()}


def _finalize(batch):
    import tensorflow as tf

    masks = tf.one_hot(batch["classes"], len(CLASS_NAMES), dtype=tf.float32)  # class -1 (void) -> all zeros
    return {"input_image": batch["input_image"], "image": batch["image"], "semantic": batch["semantic"],
            "masks": masks, "name": batch["name"]}


def build_cross_view_dataset(spec: DatasetSpec, data_dir, split, batch_size, training, seed=0, deterministic=False,
                             input_context=None, num_examples=None, height=None, width=None, cache=False):
    """tf.data pipeline of cross-view batches (module docstring); arguments as `datasets.build_dataset`.

    Sizes: the spec's 286 -> 256, or `height`/`width` with the load size scaled (64 -> 72, as the official 64x64
    scripts). training: seeded shuffle, repeat, random crop, drop_remainder; otherwise one ordered pass, centre crop.
    """
    import tensorflow as tf

    from datasets.geometry import plan_geometry

    if batch_size < 1:
        raise DatasetError(f"batch_size={batch_size}: expected >= 1")
    geometry = plan_geometry(spec, training, height, width)
    if geometry.out_h != geometry.out_w:
        raise DatasetError(f"{spec.name}: cross-view panels are square; got height={height}, width={width}")
    pipelines, pipeline_id = 1, 0
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
        pipelines, pipeline_id = input_context.num_input_pipelines, input_context.input_pipeline_id
    order = PANEL_ORDER[direction(spec)]
    records = tfrecord_shards(data_dir, split)
    if records:  # datasets/make_tfrecords.py output: records in the files' order
        from datasets.make_tfrecords import record_source

        source, count = record_source(data_dir, split, pipelines, pipeline_id, num_examples, geometry)
        load = _record_loader(spec, data_dir, split, order, geometry.load)
    else:
        from datasets.base import discover as base_discover

        examples = base_discover(spec, data_dir, split)[:num_examples]
        count = len(examples)
        source = tf.data.Dataset.from_tensor_slices({"path": [e.image for e in examples],
                                                     "name": [e.name for e in examples]}).shard(pipelines, pipeline_id)

        def load(ex):
            return _decode_and_resize(tf.io.read_file(ex["path"]), ex["name"], order, geometry.load, ex["path"])

    if training and count < batch_size * pipelines:
        raise DatasetError(f"{spec.name} {split}: {count} examples in {data_dir!r} < batch size {batch_size} x "
                           f"{pipelines} input pipelines; lower --batch_size or add data")

    ds = source
    if cache:
        ds = map_plain(ds, load, deterministic=True).cache()
    if training:
        heavy = cache or bool(records)  # decoded examples and file bytes are costly to buffer; paths are not
        ds = ds.shuffle(max(1, min(count, 256 if heavy else count)), seed=seed, reshuffle_each_iteration=True)
        ds = ds.repeat()
    base_seed = tf.constant([seed, pipeline_id], tf.int64)

    def per_example(index, ex):
        if not cache:
            ex = load(ex)
        return _crop(ex, geometry.out_h, geometry.out_w, training,
                     base_seed + tf.stack([tf.constant(0, tf.int64), index]))

    ds = map_plain(ds.enumerate(), per_example, deterministic=deterministic or None)
    ds = map_plain(ds.batch(batch_size, drop_remainder=training), _finalize, deterministic=True)
    return finish_pipeline(ds, deterministic, input_context)
