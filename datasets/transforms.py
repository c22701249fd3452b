"""TF preprocessing shared by every dataset: decode, resize, random crop/flip, label remap, one-hot and edge maps.

Follows SPADE's `base_dataset.get_transform` / `pix2pix_dataset` (spade_official_code.md §4.3): one random parameter
set per example applied identically to label, instance and image; NEAREST for labels and instances, BICUBIC for
images (antialiased like PIL, rounded back to uint8 like PIL), images to [-1, 1]; the instance edge map of
`get_edges`. Per-example tensors: image uint8 [h, w, 3], label uint8 [h, w], instance uint16 [h, w]
(int32 for generated data).
"""

from __future__ import annotations

import io

import numpy as np
import tensorflow as tf

from datasets.geometry import Geometry


# --- decoding --------------------------------------------------------------------------------------------------------
def _pil_indices(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)), np.uint8)


def decode_label(data, spec):
    """Encoded label map -> uint8 [h, w]. Palette PNGs (`spec.palette_labels`) keep their indices via PIL."""
    if spec.palette_labels:
        label = tf.numpy_function(_pil_indices, [data], tf.uint8, stateful=False)
        return tf.ensure_shape(label, [None, None])
    return tf.io.decode_image(data, channels=1, expand_animations=False)[..., 0]


def decode_instance(data):
    """Encoded 8- or 16-bit instance map -> uint16 [h, w] (8-bit values are scaled by 257: edges are unchanged)."""
    return tf.io.decode_image(data, channels=1, dtype=tf.uint16, expand_animations=False)[..., 0]


def decode_bytes(ex, spec):
    """{"name", "image", "label", "instance"} of encoded bytes -> decoded per-example tensors."""
    out = {"name": ex["name"], "image": tf.io.decode_image(ex["image"], channels=3, expand_animations=False),
           "label": decode_label(ex["label"], spec)}
    if spec.use_instance:
        out["instance"] = decode_instance(ex["instance"])
    return out


def _combine_parts_np(paths):
    from datasets.celebamask_hq import combine_part_masks

    return combine_part_masks([p.decode() for p in paths])


def file_decoder(spec):
    """Map function: {"name", "image", "label", "instance"[, "label_parts"]} of paths -> decoded tensors."""

    def decode(ex):
        if "label_parts" in ex:
            label = tf.numpy_function(_combine_parts_np, [ex["label_parts"]], tf.uint8, stateful=False)
            label = tf.ensure_shape(label, [None, None])
        else:
            label = decode_label(tf.io.read_file(ex["label"]), spec)
        out = {"name": ex["name"], "label": label,
               "image": tf.io.decode_image(tf.io.read_file(ex["image"]), channels=3, expand_animations=False)}
        if spec.use_instance:
            out["instance"] = decode_instance(tf.io.read_file(ex["instance"]))
        return out

    return decode


# --- geometry ----------------------------------------------------------------------------------------------------------
def _resize_nearest(x, size):
    same = tf.reduce_all(tf.equal(tf.shape(x)[:2], size))
    return tf.cond(same, lambda: x, lambda: tf.image.resize(x[..., None], size, "nearest")[..., 0])


def _resize_bicubic(image, size):
    def resize():
        y = tf.image.resize(tf.cast(image, tf.float32), size, "bicubic", antialias=True)
        return tf.cast(tf.round(tf.clip_by_value(y, 0.0, 255.0)), tf.uint8)

    same = tf.reduce_all(tf.equal(tf.shape(image)[:2], size))
    return tf.cond(same, lambda: image, resize)


def resize_stage(ex, g: Geometry):
    """Deterministic resize of label, instance and image to the mode's load size (target computed from the label)."""
    shape = tf.shape(ex["label"])
    if g.mode == "fixed":
        size = tf.constant([g.out_h, g.out_w])
    elif g.mode == "resize_and_crop":
        size = tf.constant([g.load, g.load])
    elif g.mode in ("scale_width", "scale_width_and_crop"):
        h = g.load * shape[0] // shape[1]
        size = tf.stack([tf.maximum(h, g.out_h) if g.crop else h, tf.constant(g.load)])
    else:
        size = shape
    out = dict(ex)
    out["label"] = _resize_nearest(ex["label"], size)
    out["image"] = _resize_bicubic(ex["image"], size)
    if "instance" in ex:
        out["instance"] = _resize_nearest(ex["instance"], size)
    return out


def augment_stage(ex, g: Geometry, spec, seed):
    """Crop (random when training, centred otherwise), flip, remap labels, scale the image to [-1, 1]."""
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    keys = [k for k in ("label", "image", "instance") if k in ex]
    out = {"name": ex["name"]}
    tensors = {k: ex[k] for k in keys}
    if g.crop:
        shape = tf.shape(ex["label"])
        room_h, room_w = shape[0] - g.out_h, shape[1] - g.out_w
        check = tf.debugging.Assert(
            tf.minimum(room_h, room_w) >= 0,
            [f"{spec.name}: image smaller than the {g.out_h}x{g.out_w} crop; raise load_size. File, size:",
             ex["name"], shape])
        with tf.control_dependencies([check]):
            if g.training:
                y = tf.random.stateless_uniform([], seeds[0], 0, room_h + 1, tf.int32)
                x = tf.random.stateless_uniform([], seeds[1], 0, room_w + 1, tf.int32)
            else:
                y, x = room_h // 2, room_w // 2
        tensors = {k: v[y:y + g.out_h, x:x + g.out_w] for k, v in tensors.items()}
    if g.flip:
        flip = tf.random.stateless_uniform([], seeds[2]) > 0.5
        tensors = {k: tf.cond(flip, lambda v=v: tf.reverse(v, [1]), lambda v=v: v) for k, v in tensors.items()}
    out["label"] = tf.ensure_shape(remap_label(tensors["label"], spec, ex["name"]), [g.out_h, g.out_w])
    image = tf.cast(tensors["image"], tf.float32) / 127.5 - 1.0
    out["image"] = tf.ensure_shape(image, [g.out_h, g.out_w, 3])
    if "instance" in tensors:
        out["instance"] = tf.ensure_shape(tensors["instance"], [g.out_h, g.out_w])
    return out


def remap_label(raw, spec, name):
    """uint8 label -> int32 class index: + label_shift; ignore_value / negatives -> dontcare index label_nc.

    Values that are still >= label_nc stop the pipeline with the file name (SPADE's scatter crash, made readable).
    """
    raw = tf.cast(raw, tf.int32)
    label = raw + spec.label_shift if spec.label_shift else raw
    if spec.contain_dontcare:
        dontcare = label < 0
        if spec.ignore_value is not None:
            dontcare = tf.logical_or(dontcare, tf.equal(raw, spec.ignore_value))
        label = tf.where(dontcare, spec.label_nc, label)
    high, low = tf.reduce_max(label), tf.reduce_min(label)
    check = tf.debugging.Assert(
        tf.logical_and(high < spec.onehot_nc, low >= 0),
        [f"{spec.name}: label value out of range 0..{spec.onehot_nc - 1} (label_nc={spec.label_nc}); pass a larger "
         f"--label_nc or remap the labels. File, raw min, raw max:", name, tf.reduce_min(raw), tf.reduce_max(raw)])
    with tf.control_dependencies([check]):
        return tf.identity(label)


def instance_edges(instance):
    """SPADE `get_edges`: 1 where the id differs from the right/left/lower/upper neighbour. int [B,H,W] -> f32."""
    dx = tf.not_equal(instance[:, :, 1:], instance[:, :, :-1])
    dy = tf.not_equal(instance[:, 1:, :], instance[:, :-1, :])
    zx = tf.zeros_like(dx[:, :, :1])
    zy = tf.zeros_like(dy[:, :1, :])
    edge = tf.logical_or(tf.concat([zx, dx], 2), tf.concat([dx, zx], 2))
    edge = tf.logical_or(edge, tf.logical_or(tf.concat([zy, dy], 1), tf.concat([dy, zy], 1)))
    return tf.cast(edge, tf.float32)


def semantic_from_labels(label, instance, spec):
    """Generator input: int label [B,H,W] (+ instance ids [B,H,W], or None for no edges) -> f32 [B,H,W,semantic_nc].

    One-hot over onehot_nc channels, then (with `spec.use_instance`) the instance-edge channel, written in one fused
    pass (no concat copy). Shared by the data pipeline and the SavedModel export (exports/serving.py).
    """
    if not spec.use_instance:
        return tf.one_hot(label, spec.onehot_nc, dtype=tf.float32)
    channels = tf.range(spec.semantic_nc)
    hit = tf.equal(label[..., None], channels)
    if instance is not None:
        edge = instance_edges(instance) > 0
        hit = tf.logical_or(hit, tf.logical_and(edge[..., None], tf.equal(channels, spec.onehot_nc)))
    return tf.cast(hit, tf.float32)


def finalize_batch(batch, spec):
    """Batched per-example tensors -> {"label", "image", "semantic" [B,H,W,semantic_nc], "name"}."""
    semantic = semantic_from_labels(batch["label"], batch.get("instance"), spec)
    return {"label": batch["label"], "image": batch["image"], "semantic": semantic, "name": batch["name"]}
