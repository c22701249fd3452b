"""Classification-based discriminative feature learning (paper §3.3, Eq. (6); Fig. 6).

Each class-filtered feature map F_i = F * M_i is pooled to a C-vector and classified into N classes by one
fully connected layer; the cross-entropy of row i against target i counts only for classes present in the sample
(void classes are filtered, Eq. (6)). The paper's "semantic-guided average pooling" (§3.3) averages F_i over its
class region M_i (`pooling='paper'`, default); the official SIS code takes a plain mean over all H*W pixels, zeros
included (`pooling='official'`; lggan_official_code.md §1.4, §7.2), which shrinks small classes' features towards 0.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import official_init, register


def class_valid(masks, num_classes_classified=None):
    """H_i of Eq. (6), per sample: 1.0 where mask i has any pixel. masks [B, H, W, N] -> float32 [B, K]."""
    k = num_classes_classified or masks.shape[-1]
    return tf.cast(tf.reduce_any(masks[..., :k] > 0, axis=[1, 2]), tf.float32)


CLASS_POOLINGS = ("paper", "official")


def pool_class_features(features, masks, pooling="paper"):
    """pooled[b, i, :] = sum_hw F[b] * M[b, ..., i] / area: area = |M_i| (at least 1) for 'paper' (the mean over the
    class region), H*W for 'official' (zeros included). [B, H, W, C], [B, H, W, K] -> [B, K, C]."""
    if pooling not in CLASS_POOLINGS:
        raise ValueError(f"class pooling must be one of {CLASS_POOLINGS}, got {pooling!r}")
    masks = tf.cast(masks, features.dtype)
    pooled = tf.einsum("bhwc,bhwk->bkc", features, masks)
    if pooling == "official":
        return pooled / tf.cast(int(features.shape[1]) * int(features.shape[2]), features.dtype)
    area = tf.maximum(tf.reduce_sum(tf.cast(masks, tf.float32), axis=[1, 2]), 1.0)  # [B, K], exact in float32
    return pooled / tf.cast(area, features.dtype)[..., None]


@register
class ClassFeatureClassifier(keras.layers.Layer):
    """The classification module: pool each masked feature map, then Dense C -> K (official `fc2`, 64 -> 35).

    Args:
      num_classes: N, the number of masks passed in.
      num_classes_classified: K <= N, classify only the first K masks (ADE20K: 51 of 52); None = N.
      kernel_initializer: None = official xavier_normal(gain 0.02) on the [C, K] kernel; bias starts at 0.
      pooling: 'paper' (mean over each class region) or 'official' (mean over the whole image); see module doc.

    Call: `layer(features, masks)`, features [B, H, W, C], masks [B, H, W, N].
    Returns (logits [B, K, K] in the compute dtype, row i = prediction for F_i; valid [B, K] float32).
    Feed both to `class_cross_entropy` / `per_example_class_cross_entropy`.
    """

    def __init__(self, num_classes, num_classes_classified=None, kernel_initializer=None, pooling="paper", **kwargs):
        super().__init__(**kwargs)
        if pooling not in CLASS_POOLINGS:
            raise ValueError(f"ClassFeatureClassifier: pooling must be one of {CLASS_POOLINGS}, got {pooling!r}")
        self.num_classes, self.pooling = int(num_classes), pooling
        k = self.num_classes if num_classes_classified is None else int(num_classes_classified)
        if not 1 <= k <= self.num_classes:
            raise ValueError(f"ClassFeatureClassifier: num_classes_classified must be in [1, num_classes="
                             f"{self.num_classes}], got {num_classes_classified}")
        self.num_classes_classified = k
        self.kernel_initializer = keras.initializers.get(kernel_initializer or official_init())
        self.fc = keras.layers.Dense(k, kernel_initializer=self.kernel_initializer, dtype=self.dtype_policy,
                                     name="fc")

    def build(self, features_shape, masks_shape):
        if len(features_shape) != 4 or len(masks_shape) != 4:
            raise ValueError(f"ClassFeatureClassifier: expected features [B, H, W, C] and masks [B, H, W, N], got "
                             f"shapes {tuple(features_shape)} and {tuple(masks_shape)}")
        if None in tuple(features_shape[1:]):
            raise ValueError(f"ClassFeatureClassifier: H, W and C must be static, got {tuple(features_shape)}")
        if tuple(masks_shape[1:3]) != tuple(features_shape[1:3]) or masks_shape[3] != self.num_classes:
            raise ValueError(f"ClassFeatureClassifier: masks must be [B, {features_shape[1]}, {features_shape[2]}, "
                             f"num_classes={self.num_classes}] to match the features, got {tuple(masks_shape)}")
        self.fc.build((None, int(features_shape[3])))

    def call(self, features, masks):
        k = self.num_classes_classified
        masks = masks[..., :k]
        pooled = pool_class_features(tf.cast(features, self.compute_dtype), masks, self.pooling)  # [B, K, C]
        return self.fc(pooled), class_valid(masks)

    def compute_output_shape(self, features_shape, masks_shape):
        k = self.num_classes_classified
        return (features_shape[0], k, k), (features_shape[0], k)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "num_classes_classified": self.num_classes_classified, "pooling": self.pooling,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def _check_logits_valid(logits, valid):
    ls, vs = tuple(logits.shape), tuple(valid.shape)
    if len(ls) != 3 or len(vs) != 2 or None not in (ls[1], ls[2]) and ls[1] != ls[2] \
            or None not in (ls[1], vs[1]) and vs[1] != ls[1]:
        raise ValueError(f"class cross-entropy: expected logits [B, K, K] and valid [B, K] (the outputs of "
                         f"ClassFeatureClassifier), got shapes {ls} and {vs}")


def per_example_class_cross_entropy(logits, valid):
    """Eq. (6) per sample: the mean CE over the sample's valid classes, 0 when it has none. In float32.

    CE_i = -log softmax(logits[b, i])[i] (row i targets class i);
    loss[b] = sum_i valid[b, i] * CE_i / sum_i valid[b, i].
    With batch 1 this is exactly the official Cityscapes loss (which divides by the valid count of its single
    per-GPU sample). A distributed trainer averages it over the global batch, e.g.
    `tf.nn.compute_average_loss(per_example, global_batch_size=...)`.
    logits [B, K, K], valid [B, K] -> [B].
    """
    logits = tf.cast(logits, tf.float32)
    valid = tf.cast(valid, tf.float32)
    _check_logits_valid(logits, valid)
    targets = tf.broadcast_to(tf.range(tf.shape(logits)[1]), tf.shape(logits)[:2])
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)  # [B, K]
    return tf.reduce_sum(ce * valid, axis=-1) / tf.maximum(tf.reduce_sum(valid, axis=-1), 1.0)


def class_cross_entropy(logits, valid):
    """The batch mean of `per_example_class_cross_entropy` (each sample weighs the same, whatever its number of
    valid classes). logits [B, K, K], valid [B, K] -> float32 scalar."""
    return tf.reduce_mean(per_example_class_cross_entropy(logits, valid))
