"""Frozen VGG19 perceptual loss (pix2pixHD/SPADE `VGGLoss`), as used by LGGAN for both tasks.

loss(x, y) = sum_k w_k * mean |phi_k(x) - phi_k(y)|, phi_k = relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
(Keras `block{1..5}_conv1`, post-ReLU), w = 1/32, 1/16, 1/8, 1/4, 1; phi(y) of the real image is detached.

Deviation from the official code: the official loss feeds [-1, 1] images straight into torchvision's VGG19 (no
ImageNet normalisation). Keras ships the Caffe VGG19 weights, so images go through their own preprocessing:
`keras.applications.vgg19.preprocess_input(127.5 * (x + 1))` (RGB -> BGR, ImageNet mean subtracted, no scaling).
"""

from __future__ import annotations

import logging
import os
import warnings

import keras
import tensorflow as tf

from lggan_tf.layers.common import register

LAYER_NAMES = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
MIN_SIZE = 16  # block5_conv1 sits after 4 stride-2 max-pools
_RANDOM_WARNING = ("VGGPerceptual(weights='none'): VGG19 has RANDOM frozen weights, so the perceptual loss is NOT "
                   "meaningful (use only for tests/smoke runs). Pass weights='imagenet' (download) or "
                   "--vgg_weights=PATH to a local Keras VGG19 notop weights file.")

logger = logging.getLogger(__name__)


def _build_vgg19(weights: str):
    """Keras VGG19 without the classifier, loaded per `weights` ('imagenet' | 'none' | path)."""
    if weights == "none":
        warnings.warn(_RANDOM_WARNING, UserWarning, stacklevel=3)
        logger.warning(_RANDOM_WARNING)
        return keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights == "imagenet":
        try:
            return keras.applications.VGG19(include_top=False, weights="imagenet", input_shape=(None, None, 3))
        except Exception as err:  # network errors surface as several exception types
            raise RuntimeError(
                f"VGGPerceptual: could not download the Keras ImageNet VGG19 weights ({err}). Without internet, pass "
                "--vgg_weights=PATH to a local copy of vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 (or a "
                ".weights.h5 saved from keras.applications.VGG19(include_top=False)), or --vgg_weights=none for "
                "random weights (perceptual loss not meaningful).") from err
    path = os.path.expanduser(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"VGGPerceptual: VGG19 weights file {weights!r} does not exist. Pass --vgg_weights=PATH to an existing "
            "Keras VGG19 notop weights file (.h5 or .weights.h5), 'imagenet' to download, or 'none'.")
    model = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    try:
        model.load_weights(path)
    except Exception as err:
        raise ValueError(
            f"VGGPerceptual: could not load VGG19 weights from {weights!r} ({err}). Expected the Keras VGG19 notop "
            "weights (vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 or a .weights.h5 saved from "
            "keras.applications.VGG19(include_top=False)); pass --vgg_weights=PATH to such a file or 'none'.") from err
    return model


@register
class VGGPerceptual(keras.layers.Layer):
    """Frozen VGG19 perceptual loss, per example.

    Args:
      weights: 'imagenet' (Keras download, cached under ~/.keras/models), a path to a local `.h5` / `.weights.h5`
        VGG19 notop weights file, or 'none' (random frozen weights; warns loudly).

    Call: (fake [B, H, W, 3], real [B, H, W, 3]), both in [-1, 1], H, W >= 16 -> [B] float32. The layer is not
    trainable and owns no trainable variables, so no optimizer ever sees it. Skip it (do not build it) when the VGG
    weight is 0.
    """

    def __init__(self, weights: str = "imagenet", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(weights, str) or not weights:
            raise ValueError(f"VGGPerceptual: weights must be 'imagenet', 'none' or a file path, got {weights!r}")
        self.weights_source = weights
        vgg = _build_vgg19(weights)
        self.features = keras.Model(vgg.input, [vgg.get_layer(n).output for n in LAYER_NAMES], name="vgg19_features")
        self.features.trainable = False
        self.trainable = False

    @staticmethod
    def preprocess(x):
        """[-1, 1] RGB -> Caffe VGG input: `vgg19.preprocess_input(127.5 * (x + 1))` (BGR, ImageNet mean removed)."""
        return keras.applications.vgg19.preprocess_input(127.5 * (tf.cast(x, tf.float32) + 1.0))

    def feature_maps(self, x):
        """Five feature maps relu1_1 .. relu5_1 of a [-1, 1] image batch [B, H, W, 3]."""
        return self.features(self.preprocess(x), training=False)

    def call(self, fake, real):
        for name, t in (("fake", fake), ("real", real)):
            shape = t.shape
            if shape.rank != 4 or shape[-1] != 3 or any(d is not None and d < MIN_SIZE for d in shape[1:3]):
                raise ValueError(f"VGGPerceptual: {name} must be [B, H, W, 3] with H, W >= {MIN_SIZE} in [-1, 1], "
                                 f"got shape {shape}")
        batch = tf.shape(fake)[0]
        # One pass over fake and real together; the real features are detached (official `.detach()`).
        feats = self.feature_maps(tf.concat([tf.cast(fake, tf.float32), tf.cast(real, tf.float32)], axis=0))
        loss = 0.0
        for w, f in zip(LAYER_WEIGHTS, feats):
            f = tf.cast(f, tf.float32)
            diff = tf.abs(f[:batch] - tf.stop_gradient(f[batch:]))
            loss += w * tf.reduce_mean(diff, axis=[1, 2, 3])
        return loss

    def compute_output_shape(self, fake_shape, real_shape=None):
        return (fake_shape[0],)

    def get_config(self):
        config = super().get_config()
        config.update(weights=self.weights_source)
        return config
