"""Segmentation scores of generated images (mIoU, pixel accuracy, Tables 1-3) and the pluggable segmenter.

    seg = Segmenter.load("runs/segmenter")                 # .keras file / SavedModel dir / dir with segmenter.json
    pred = seg.predict(images_uint8)                       # int32 [B, H, W] segmenter class ids
    conf = confusion_matrix(seg.map_labels(labels), pred, seg.num_classes)
    miou_from_confusion(conf), pixel_accuracy_from_confusion(conf)

A segmenter directory holds `segmenter.json`: {"model": file or dir, "num_classes": K, "input_size": [h, w] or null,
"input_range": "-1,1" | "0,1" | "0,255", "label_map": null or a list mapping dataset label id -> class id (255 =
ignore), "class_names": [...]}. `python -m lggan_tf.segmenter train` writes one for the synthetic dataset.
A directory written by `python -m lggan_tf.metrics.convert drn_d_105 | deeplabv2_coco | upernet_101 ...` (network.json)
loads the published segmenter with its protocol's fields (lggan_tf.metrics.nets.segmenters).
"""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import tensorflow as tf

IGNORE = 255
INPUT_RANGES = {"-1,1": (1 / 127.5, -1.0), "0,1": (1 / 255.0, 0.0), "0,255": (1.0, 0.0)}

# Cityscapes label ids (0..33, the 35-class one-hot uses -1 -> 34) -> the 19 train ids DRN predicts; others ignored.
CITYSCAPES_TRAIN_IDS = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12,
                        26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
LABEL_MAPS = {"identity": None, "cityscapes_train_ids": CITYSCAPES_TRAIN_IDS}


def label_lookup(mapping, num_labels: int = 256) -> np.ndarray | None:
    """uint8 lookup table [num_labels] from a {label id: class id} dict or a list (others -> 255); None = identity."""
    if mapping is None:
        return None
    if isinstance(mapping, str):
        if mapping not in LABEL_MAPS:
            raise ValueError(f"label mapping {mapping!r}: expected one of {sorted(LABEL_MAPS)} or a list")
        return label_lookup(LABEL_MAPS[mapping], num_labels)
    lut = np.full(num_labels, IGNORE, np.int64)
    items = mapping.items() if isinstance(mapping, dict) else enumerate(mapping)
    for src, dst in items:
        lut[int(src)] = int(dst)
    return lut


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """int64 [K, K] counts, rows = ground-truth class, cols = predicted; labels outside [0, K) are ignored."""
    y, p = np.asarray(labels, np.int64).ravel(), np.asarray(predictions, np.int64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"confusion_matrix: {y.size} labels vs {p.size} predictions; pass maps of the same shape")
    keep = (y >= 0) & (y < num_classes) & (p >= 0) & (p < num_classes)
    return np.bincount(y[keep] * num_classes + p[keep], minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class_iou(conf) -> np.ndarray:
    """IoU per class [K] = TP / (TP + FP + FN); NaN for classes absent from both labels and predictions."""
    conf = np.asarray(conf, np.float64)
    tp = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def miou_from_confusion(conf) -> float:
    """Mean IoU over classes present in labels or predictions (the DRN / SPADE convention, nanmean)."""
    iou = per_class_iou(conf)
    return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")


def pixel_accuracy_from_confusion(conf) -> float:
    conf = np.asarray(conf, np.float64)
    return float(np.trace(conf) / conf.sum()) if conf.sum() else float("nan")


@dataclasses.dataclass
class Segmenter:
    """A segmentation network: uint8 images -> class ids. model: callable [B, h, w, 3] float -> logits [B, h', w', K]."""

    model: object
    num_classes: int
    input_size: tuple[int, int] | None = None
    input_range: str = "-1,1"
    label_map: object = None
    class_names: tuple[str, ...] = ()

    def __post_init__(self):
        if self.input_range not in INPUT_RANGES:
            raise ValueError(f"segmenter input_range {self.input_range!r}: expected one of {sorted(INPUT_RANGES)}")
        self._lut = label_lookup(self.label_map)

    @classmethod
    def load(cls, path: str, **overrides) -> "Segmenter":
        """Load from a directory with segmenter.json, a `.keras` file or a SavedModel directory (overrides set the
        num_classes / input_size / input_range / label_map fields when there is no segmenter.json)."""
        if not path or not os.path.exists(path):
            what = f"--segmenter={path!r} not found" if path else "miou / pixel_accuracy need --segmenter"
            raise FileNotFoundError(f"{what}: pass a segmenter directory (convert a published one with "
                                    "`python -m lggan_tf.metrics.convert drn_d_105|upernet_101|deeplabv2_coco "
                                    "--pytorch_checkpoint F --out DIR`, or train one with "
                                    "`python -m lggan_tf.segmenter train --dataset synthetic --out DIR`), a .keras "
                                    "file or a SavedModel directory")
        meta = {}
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, "network.json")):
            from lggan_tf.metrics.nets import segmenters

            model, net_meta = segmenters.load(path, "--segmenter")
            meta = dict(net_meta["segmenter"])
            meta.update({k: v for k, v in overrides.items() if v is not None})
            size, names = meta.pop("input_size", None), tuple(meta.pop("class_names", ()) or ())
            return cls(model=model, input_size=tuple(size) if size else None, class_names=names, **meta)
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, "segmenter.json")):
            with open(os.path.join(path, "segmenter.json"), encoding="utf-8") as f:
                meta = json.load(f)
            model_path = os.path.join(path, meta.pop("model"))
        else:
            model_path = path
        meta.update({k: v for k, v in overrides.items() if v is not None})
        if "num_classes" not in meta:
            raise ValueError(f"segmenter {path!r}: number of classes unknown; add segmenter.json or pass "
                             "--segmenter_classes")
        meta.pop("dataset", None)
        meta.pop("steps", None)
        size = meta.pop("input_size", None)
        names = tuple(meta.pop("class_names", ()) or ())
        return cls(model=load_model(model_path), input_size=tuple(size) if size else None, class_names=names, **meta)

    def logits(self, images) -> tf.Tensor:
        """uint8 [B, H, W, 3] -> float32 logits [B, H, W, K] (resized back to the image size, bilinear)."""
        x = tf.cast(images, tf.float32)
        h, w = x.shape[1], x.shape[2]
        if self.input_size and tuple(self.input_size) != (h, w):
            x = tf.image.resize(x, self.input_size, "bilinear")
        scale, offset = INPUT_RANGES[self.input_range]
        out = self.model(x * scale + offset)
        if isinstance(out, dict):
            out = next(iter(out.values()))
        out = tf.convert_to_tensor(out)
        if out.shape[-1] != self.num_classes:
            raise ValueError(f"segmenter outputs {out.shape[-1]} classes, expected num_classes={self.num_classes}")
        return tf.image.resize(out, (h, w), "bilinear") if tuple(out.shape[1:3]) != (h, w) else out

    def predict(self, images) -> np.ndarray:
        return tf.argmax(self.logits(images), axis=-1, output_type=tf.int32).numpy()

    def map_labels(self, labels) -> np.ndarray:
        """Dataset label ids [B, H, W] -> segmenter class ids (255 = ignore) through the label map."""
        labels = np.asarray(labels, np.int64)
        return labels if self._lut is None else self._lut[np.clip(labels, 0, len(self._lut) - 1)]


def load_model(path: str):
    """A Keras model (.keras / .h5 file) or a SavedModel directory (its `serving_default` signature)."""
    import keras

    if os.path.isfile(path) and path.endswith((".keras", ".h5")):
        return keras.saving.load_model(path, compile=False)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "saved_model.pb")):
        loaded = tf.saved_model.load(path)
        fn = loaded.signatures.get("serving_default") if hasattr(loaded, "signatures") else None
        if fn is None:
            return loaded
        key = list(fn.structured_input_signature[1])[0]
        return lambda x: fn(**{key: x})
    raise FileNotFoundError(f"model {path!r}: expected a .keras/.h5 file or a SavedModel directory "
                            "(with saved_model.pb)")


__all__ = ["CITYSCAPES_TRAIN_IDS", "IGNORE", "LABEL_MAPS", "Segmenter", "confusion_matrix", "label_lookup",
           "load_model", "miou_from_confusion", "per_class_iou", "pixel_accuracy_from_confusion"]
