"""Discriminators: the semantic-guided multiscale PatchGAN D_s (SIS) and the cross-view PatchGAN (D_i / D_s).

SIS (spade_official_code.md §2): 2 scales, each 4x4 convs with padding 2: conv s2 -> ndf + LReLU; SN-conv s2 -> 2ndf,
IN, LReLU; SN-conv s2 -> 4ndf, IN, LReLU; SN-conv s1 -> 8ndf, IN, LReLU; conv s1 -> 1. The norm wrapper removes the
bias of the normalised convs. Scale 2 sees the input after a 3x3/2 average pool that excludes the padding.
SEAN's older variant (sean_official_code.md §2.4): n_layers 3 and the last feature conv keeps stride 2
(`last_stride=2`: 129, 65, 33 features and a 34x34 prediction at 256x256).
Cross-view (lggan_official_code.md §2.3): the pix2pix NLayerDiscriminator, padding 1, biases kept, no spectral
norm, a final sigmoid.

Output contract (losses.py): a list over scales of lists `[f_0, ..., f_{L-1}, pred]`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, normal_init, register, serialize_initializer
from lggan_tf.layers.norms import InstanceNorm


def avg_pool_exclude_pad(x):
    """avg_pool2d(kernel 3, stride 2, padding 1, count_include_pad=False) on NHWC: [B,H,W,C] -> [B,H',W',C]."""
    padded = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    ones = tf.pad(tf.ones_like(x[:1, :, :, :1]), [[0, 0], [1, 1], [1, 1], [0, 0]])
    total = tf.nn.avg_pool2d(padded, 3, 2, "VALID")
    count = tf.nn.avg_pool2d(ones, 3, 2, "VALID")
    return total / count


@register
class PatchDiscriminator(keras.layers.Layer):
    """One PatchGAN: `num_convs - 1` feature convs then a 1-channel prediction conv.

    call(x [B,H,W,Cin]) -> [f_0, ..., f_{num_convs-2}, pred]; with `padding=2` (SPADE) a 256x512 input gives
    129x257, 65x129, 33x65, 34x66 features and a 35x67 prediction.
    """

    def __init__(self, ndf=64, num_convs=5, padding=2, spectral=True, norm_bias=False, sigmoid=False,
                 kernel_initializer=None, track_running_stats=False, last_stride=1, **kwargs):
        super().__init__(**kwargs)
        self.ndf, self.num_convs, self.padding = int(ndf), int(num_convs), int(padding)
        self.last_stride = int(last_stride)
        self.spectral, self.norm_bias, self.sigmoid = bool(spectral), bool(norm_bias), bool(sigmoid)
        self.kernel_initializer, self.track_running_stats = kernel_initializer, bool(track_running_stats)
        nf = self.ndf
        n_mid = self.num_convs - 2
        self.conv_0 = Conv(nf, 4, 2, self.padding, kernel_initializer=kernel_initializer, name="conv_0")
        for n in range(1, n_mid + 1):
            nf = min(nf * 2, 512)
            stride = self.last_stride if n == n_mid else 2
            setattr(self, f"conv_{n}", Conv(nf, 4, stride, self.padding, spectral=self.spectral,
                                            use_bias=self.norm_bias, kernel_initializer=kernel_initializer,
                                            name=f"conv_{n}"))
            setattr(self, f"norm_{n}", InstanceNorm(track_running_stats=self.track_running_stats, name=f"norm_{n}"))
        self.conv_out = Conv(1, 4, 1, self.padding, kernel_initializer=kernel_initializer, name="conv_out")

    def build(self, input_shape):
        shape = input_shape
        for n in range(self.num_convs - 1):
            conv = getattr(self, f"conv_{n}")
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            if n > 0:
                getattr(self, f"norm_{n}").build(shape)
        self.conv_out.build(shape)

    def call(self, x, training=None):
        feats = [tf.nn.leaky_relu(self.conv_0(x), 0.2)]
        for n in range(1, self.num_convs - 1):
            h = getattr(self, f"conv_{n}")(feats[-1], training=training)
            feats.append(tf.nn.leaky_relu(getattr(self, f"norm_{n}")(h, training=training), 0.2))
        pred = self.conv_out(feats[-1])
        if self.sigmoid:
            pred = tf.sigmoid(pred)
        return feats + [pred]

    def get_config(self):
        return {**super().get_config(), "ndf": self.ndf, "num_convs": self.num_convs, "padding": self.padding,
                "spectral": self.spectral, "norm_bias": self.norm_bias, "sigmoid": self.sigmoid,
                "kernel_initializer": serialize_initializer(self.kernel_initializer),
                "track_running_stats": self.track_running_stats, "last_stride": self.last_stride}


@register
class MultiscaleDiscriminator(keras.layers.Layer):
    """`num_d` PatchGANs on successively 3x3/2 average-pooled inputs (SPADE MultiscaleDiscriminator).

    call(x [B,H,W,Cin]) -> list over scales of `[f_0, ..., pred]`. The caller concatenates label map and image.
    """

    def __init__(self, ndf=64, num_d=2, n_layers=4, spectral=True, last_stride=1, **kwargs):
        super().__init__(**kwargs)
        self.ndf, self.num_d, self.n_layers, self.spectral = int(ndf), int(num_d), int(n_layers), bool(spectral)
        self.last_stride = int(last_stride)
        for i in range(self.num_d):
            setattr(self, f"d_{i}", PatchDiscriminator(self.ndf, self.n_layers + 1, padding=2,
                                                       spectral=self.spectral, last_stride=self.last_stride,
                                                       name=f"d_{i}"))

    def build(self, input_shape):
        b, h, w, c = input_shape
        for i in range(self.num_d):
            getattr(self, f"d_{i}").build((b, h, w, c))
            h = None if h is None else (h - 1) // 2 + 1
            w = None if w is None else (w - 1) // 2 + 1

    def call(self, x, training=None):
        outputs = []
        for i in range(self.num_d):
            outputs.append(getattr(self, f"d_{i}")(x, training=training))
            if i + 1 < self.num_d:
                x = avg_pool_exclude_pad(x)
        return outputs

    def get_config(self):
        return {**super().get_config(), "ndf": self.ndf, "num_d": self.num_d, "n_layers": self.n_layers,
                "spectral": self.spectral, "last_stride": self.last_stride}


def cross_view_discriminator(ndf=64, name="d"):
    """Official cross-view `NLayerDiscriminator(6, 64, n_layers=3, IN, use_sigmoid=True)`: 2,767,809 parameters.
    Its InstanceNorms track running statistics (`--norm instance` = InstanceNorm2d(track_running_stats=True)): the
    instance moments in training, the running ones in eval mode (what an official checkpoint's D computes)."""
    return PatchDiscriminator(ndf, num_convs=5, padding=1, spectral=False, norm_bias=True, sigmoid=True,
                              kernel_initializer=normal_init(0.02), track_running_stats=True, name=name)
