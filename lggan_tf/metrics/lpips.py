"""LPIPS (Zhang et al. 2018) with a pluggable backbone and linear heads.

    d = LPIPS.load("weights/lpips_vgg")(real_uint8, fake_uint8)     # float64 [B]
    d = LPIPS.uncalibrated()(real_uint8, fake_uint8)                # built-in tiny extractor, unit heads

LPIPS(x, y) = sum_l mean_hw sum_c w_lc (f_l(x)/|f_l(x)| - f_l(y)/|f_l(y)|)^2, with channel-normalised features.
A weights directory holds `lpips.json`: {"backbone": "vgg16", "backbone_weights": "<Keras VGG16 no-top .h5 holding
torchvision's VGG16 weights>", "heads": "<.npz with lin0..lin4 float [C_l]>"}; the heads are richzhang's
`lpips/weights/v0.1/vgg.pth` tensors `linN.model.1.weight` [1, C, 1, 1] flattened. Inputs go through LPIPS'
ScalingLayer ([-1, 1] minus shift, over scale) as in the PyTorch package.
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

VGG_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3")  # relu1_2 .. relu5_3
_SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)
_SCALE = np.array([0.458, 0.448, 0.450], np.float32)


class LPIPS:
    """features: uint8 [B, H, W, 3] -> list of L maps [B, h_l, w_l, C_l]; heads: L non-negative [C_l] weights."""

    def __init__(self, features, heads, calibrated: bool):
        self.features, self.heads, self.calibrated = features, [tf.constant(h, tf.float32) for h in heads], calibrated

    @classmethod
    def uncalibrated(cls) -> "LPIPS":
        from lggan_tf.metrics.extractors import TinyExtractor

        tiny = TinyExtractor()
        return cls(tiny.stages, [np.ones(c, np.float32) / c for c in tiny.widths], calibrated=False)

    @classmethod
    def load(cls, weights_dir: str) -> "LPIPS":
        config_path = os.path.join(weights_dir or "", "lpips.json")
        if not os.path.isfile(config_path):
            raise FileNotFoundError(f"--lpips_weights={weights_dir!r}: no lpips.json there. Expected a folder with "
                                    "lpips.json naming the VGG16 backbone weights (.h5) and the linear heads (.npz); "
                                    "or use --lpips_weights=uncalibrated for the built-in (uncalibrated) variant")
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        if config.get("backbone", "vgg16") != "vgg16":
            raise ValueError(f"{config_path}: backbone {config['backbone']!r}; only 'vgg16' is supported")
        paths = {k: os.path.join(weights_dir, config[k]) for k in ("backbone_weights", "heads")}
        for key, path in paths.items():
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{config_path}: {key} file {path!r} not found")
        import keras

        vgg = keras.applications.VGG16(include_top=False, weights=paths["backbone_weights"])
        taps = keras.Model(vgg.input, [vgg.get_layer(n).output for n in VGG_LAYERS])
        with np.load(paths["heads"]) as f:
            heads = [np.asarray(f[f"lin{i}"], np.float32).reshape(-1) for i in range(len(VGG_LAYERS))]

        def features(images):
            x = (tf.cast(images, tf.float32) / 127.5 - 1.0 - _SHIFT) / _SCALE
            return list(taps(x, training=False))

        return cls(features, heads, calibrated=True)

    def __call__(self, real, fake) -> np.ndarray:
        total = 0.0
        for fr, ff, w in zip(self.features(real), self.features(fake), self.heads):
            nr = fr / (tf.norm(fr, axis=-1, keepdims=True) + 1e-10)
            nf = ff / (tf.norm(ff, axis=-1, keepdims=True) + 1e-10)
            total += tf.reduce_mean(tf.reduce_sum(w * (nr - nf) ** 2, axis=-1), axis=[1, 2])
        return np.asarray(total, np.float64)


__all__ = ["LPIPS", "VGG_LAYERS"]
