"""LPIPS (Zhang et al. 2018) for evaluation: the converted v0.1 networks, or a built-in uncalibrated variant.

    d = LPIPS.load("weights/lpips_alex")(real_uint8, fake_uint8)    # float64 [B]; lpips_alex or lpips_vgg directory
    d = LPIPS.uncalibrated()(real_uint8, fake_uint8)                # built-in tiny extractor, unit heads

LPIPS(x, y) = sum_l mean_hw sum_c w_lc (f_l(x)/|f_l(x)| - f_l(y)/|f_l(y)|)^2 with channel-normalised features
(lggan_tf.metrics.nets.lpips_nets: LPIPS' ScalingLayer, torchvision AlexNet / VGG16 taps, the v0.1 linear heads).
A directory comes from `python -m lggan_tf.metrics.convert lpips_alex --pytorch_checkpoint
alexnet-owt-7be5be79.pth,alex.pth --out DIR` (AlexNet-lin is the PerceptualSimilarity default).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


class LPIPS:
    """distance(real, fake): uint8 [B, H, W, 3] pairs -> float [B]."""

    def __init__(self, distance, calibrated: bool, name: str):
        self.distance, self.calibrated, self.name = distance, calibrated, name

    @classmethod
    def uncalibrated(cls) -> "LPIPS":
        from lggan_tf.metrics.extractors import TinyExtractor

        tiny = TinyExtractor()
        heads = [tf.constant(np.ones(c, np.float32) / c) for c in tiny.widths]

        def distance(real, fake):
            total = 0.0
            for fr, ff, w in zip(tiny.stages(real), tiny.stages(fake), heads):
                nr = fr / (tf.norm(fr, axis=-1, keepdims=True) + 1e-10)
                nf = ff / (tf.norm(ff, axis=-1, keepdims=True) + 1e-10)
                total += tf.reduce_mean(tf.reduce_sum(w * (nr - nf) ** 2, axis=-1), axis=[1, 2])
            return total

        return cls(distance, calibrated=False, name="tiny")

    @classmethod
    def load(cls, weights_dir: str) -> "LPIPS":
        """A converted lpips_alex / lpips_vgg directory (FileNotFoundError / ValueError naming --lpips_weights)."""
        from lggan_tf.metrics.nets import lpips_nets

        model, net = lpips_nets.load_converted(weights_dir)

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)] * 2)
        def distance(real, fake):
            scale = lambda x: tf.cast(x, tf.float32) / 127.5 - 1.0  # noqa: E731  (lpips: images in [-1, 1])
            return model([scale(real), scale(fake)], training=False)["lpips"]

        return cls(distance, calibrated=True, name=f"lpips_{net}")

    def __call__(self, real, fake) -> np.ndarray:
        real, fake = (tf.convert_to_tensor(np.asarray(x, np.uint8)) for x in (real, fake))
        return np.asarray(self.distance(real, fake), np.float64)


__all__ = ["LPIPS"]
