"""The registered metrics: each fixes a protocol in a few lines and delegates to a math module.

A metric reads an `EvalContext` (paired image folders + options) and returns (reported name, results). Shared work
(features, confusion matrix, classifier probabilities) is computed once per context and reused by later metrics.
Percentages (mIoU, accuracy) are in %, as the paper's tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import numpy as np

from lggan_tf.metrics import pixel_metrics, scene_scores, segmentation
from lggan_tf.metrics.frechet import FeatureStats, frechet_distance, kernel_inception_distance, load_stats
from lggan_tf.metrics.image_folders import ImagePairs, iterate_batches
from lggan_tf.metrics.registry import register_metric


@dataclasses.dataclass(frozen=True)
class EvalOptions:
    """dataset/split: for cache keys and the record. See flags/eval_flags.py for every field's meaning."""

    dataset: str = "folder"
    split: str = "val"
    batch_size: int = 8
    seed: int = 0
    protocol: str = "standard"
    inception_weights: str = "imagenet"
    stats_cache_dir: str | None = None
    kid_subsets: int = 100
    segmenter: str | None = None
    segmenter_classes: int | None = None
    segmenter_input_size: tuple[int, int] | None = None
    segmenter_input_range: str | None = None
    label_mapping: str | None = None
    classifier: str | None = None
    classifier_preprocess: str = "places"
    classifier_outputs: str = "logits"
    lpips_weights: str | None = None


@dataclasses.dataclass
class EvalContext:
    pairs: ImagePairs
    options: EvalOptions
    cache: dict = dataclasses.field(default_factory=dict)

    def shared(self, key, make):
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def batches(self, with_labels=False):
        return iterate_batches(self.pairs, self.options.batch_size, with_labels)


# --- FID / KID ------------------------------------------------------------------------------------------------------

def _extractor(ctx):
    from lggan_tf.metrics.extractors import make_fid_extractor

    return ctx.shared("extractor", lambda: make_fid_extractor(ctx.options.inception_weights))


def _features(ctx, side: str):
    """(FeatureStats, features [N, D]) of the 'real' or 'fake' images; real ones cached on disk by key."""

    def compute():
        ext = _extractor(ctx)
        cache = _stats_cache_path(ctx, ext) if side == "real" else None
        if cache and os.path.isfile(cache):
            with np.load(cache) as f:
                return load_stats(cache), f["features"]
        stats, feats = FeatureStats(ext.dim), []
        for batch in ctx.batches():
            f = ext(batch[side])
            stats.update(f)
            feats.append(f)
        feats = np.concatenate(feats).astype(np.float32)
        if cache:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            np.savez(cache, mean=stats.mean, cov=stats.cov, count=stats.count, features=feats)
        return (stats.mean, stats.cov, stats.count), feats

    return ctx.shared(f"features/{side}", compute)


def _stats_cache_path(ctx, ext) -> str | None:
    o = ctx.options
    if not o.stats_cache_dir:
        return None
    first = ctx.pairs.real[0]
    from PIL import Image
    with Image.open(first) as img:
        size = img.size
    key = {"dataset": o.dataset, "split": o.split, "size": size, "extractor": ext.name, "n": len(ctx.pairs),
           "names": hashlib.md5("\n".join(ctx.pairs.names).encode()).hexdigest()}
    if o.dataset == "folder":
        key["real_dir"] = os.path.abspath(os.path.dirname(first))
    digest = hashlib.md5(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return os.path.join(o.stats_cache_dir, f"{o.dataset}-{o.split}-{ext.name}-{digest}.npz")


def _label(ctx, name):
    """fid / kid only for pytorch-fid's Inception; fid_keras (Keras ImageNet weights), fid_uncalibrated (tiny)."""
    return name + _extractor(ctx).suffix


@register_metric("fid")
def fid(ctx):
    (mr, cr, _), _ = _features(ctx, "real")
    (mf, cf, _), _ = _features(ctx, "fake")
    name = _label(ctx, "fid")
    return name, {name: frechet_distance(mr, cr, mf, cf), "extractor": _extractor(ctx).name}


@register_metric("kid")
def kid(ctx):
    real, fake = _features(ctx, "real")[1], _features(ctx, "fake")[1]
    name = _label(ctx, "kid")
    value = kernel_inception_distance(real, fake, ctx.options.kid_subsets, seed=ctx.options.seed)
    return name, {name: value, "extractor": _extractor(ctx).name}


# --- segmentation (Tables 1-3) --------------------------------------------------------------------------------------

def load_segmenter(options: EvalOptions):
    return segmentation.Segmenter.load(options.segmenter, num_classes=options.segmenter_classes,
                                       input_size=options.segmenter_input_size,
                                       input_range=options.segmenter_input_range, label_map=options.label_mapping)


def segmentation_confusion(ctx):
    """(Segmenter, int64 [K, K] confusion of segmenter(generated image) vs the mapped label maps)."""

    def compute():
        if ctx.pairs.label is None:
            raise ValueError("miou / pixel_accuracy need label maps: pass --label_dir (folder mode) or evaluate a run")
        seg = load_segmenter(ctx.options)
        conf = np.zeros((seg.num_classes, seg.num_classes), np.int64)
        for batch in ctx.batches(with_labels=True):
            labels = seg.map_labels(batch["label"])
            if labels.shape != batch["fake"].shape[:3]:
                raise ValueError(f"label maps {labels.shape[1:]} and generated images {batch['fake'].shape[1:3]} "
                                 f"differ in size (e.g. {batch['names'][0]}); save labels at the generated size")
            conf += segmentation.confusion_matrix(labels, seg.predict(batch["fake"]), seg.num_classes)
        return seg, conf

    return ctx.shared("confusion", compute)


@register_metric("miou")
def miou(ctx):
    seg, conf = segmentation_confusion(ctx)
    names = seg.class_names or tuple(str(i) for i in range(seg.num_classes))
    per_class = {n: (None if np.isnan(v) else round(100 * float(v), 3))
                 for n, v in zip(names, segmentation.per_class_iou(conf))}
    return "miou", {"miou": 100 * segmentation.miou_from_confusion(conf), "per_class_iou": per_class}


@register_metric("pixel_accuracy")
def pixel_accuracy(ctx):
    _, conf = segmentation_confusion(ctx)
    return "pixel_accuracy", {"pixel_accuracy": 100 * segmentation.pixel_accuracy_from_confusion(conf)}


# --- paired pixel metrics (Tables 4-6) ------------------------------------------------------------------------------

def _paired_mean(ctx, name, fn):
    values = np.concatenate([fn(b["real"], b["fake"], ctx.options.protocol) for b in ctx.batches()])
    return name, {name: float(np.mean(values)), "protocol": ctx.options.protocol}


register_metric("ssim")(lambda ctx: _paired_mean(ctx, "ssim", pixel_metrics.ssim))
register_metric("psnr")(lambda ctx: _paired_mean(ctx, "psnr", pixel_metrics.psnr))
register_metric("sharpness_difference")(lambda ctx: _paired_mean(ctx, "sharpness_difference",
                                                                 pixel_metrics.sharpness_difference))


@register_metric("lpips")
def lpips(ctx):
    from lggan_tf.metrics.lpips import LPIPS

    weights = ctx.options.lpips_weights
    if not weights:
        raise ValueError("lpips needs --lpips_weights=DIR (converted LPIPS v0.1: python -m lggan_tf.metrics.convert "
                         "lpips_alex --pytorch_checkpoint alexnet-owt-7be5be79.pth,alex.pth --out DIR) or "
                         "--lpips_weights=uncalibrated (built-in extractor, reported as lpips_uncalibrated)")
    model = ctx.shared("lpips", lambda: LPIPS.uncalibrated() if weights == "uncalibrated" else LPIPS.load(weights))
    name = "lpips" if model.calibrated else "lpips_uncalibrated"
    values = np.concatenate([model(b["real"], b["fake"]) for b in ctx.batches()])
    return name, {name: float(values.mean()), "network": model.name}


# --- cross-view scene-classifier scores (Tables 4-6) ----------------------------------------------------------------

def _class_probs(ctx):
    from lggan_tf.metrics.scene_classifier import SceneClassifier

    def compute():
        o = ctx.options
        clf = SceneClassifier.load(o.classifier, o.classifier_preprocess, o.classifier_outputs)
        real, fake = [], []
        for batch in ctx.batches():
            real.append(clf(batch["real"]))
            fake.append(clf(batch["fake"]))
        return np.concatenate(real), np.concatenate(fake)

    return ctx.shared("class_probs", compute)


@register_metric("inception_score")
def inception_score(ctx):
    real, fake = _class_probs(ctx)
    results = {}
    for prefix, probs in (("", fake), ("real_", real)):
        for tag, k in (("all", None), ("top1", 1), ("top5", min(5, probs.shape[1]))):
            results[f"{prefix}is_{tag}"] = scene_scores.inception_score(probs, top_k=k)
    return "inception_score", results


@register_metric("accuracy")
def accuracy(ctx):
    real, fake = _class_probs(ctx)
    return "accuracy", scene_scores.topk_accuracy(real, fake)


@register_metric("kl")
def kl(ctx):
    real, fake = _class_probs(ctx)
    return "kl", scene_scores.kl_score(fake, real)


__all__ = ["EvalContext", "EvalOptions", "load_segmenter", "segmentation_confusion"]
