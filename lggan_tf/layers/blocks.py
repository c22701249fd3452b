"""Plain convolutional blocks of the encoder E, the local generator G_l and the weight-map generator G_w.

lggan_official_code.md §1.4 / §2.2: every InstanceNorm is affine-free with eps 1e-5; "pad3" is reflection padding.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, ConvTranspose, register, serialize_initializer
from lggan_tf.layers.norms import InstanceNorm


@register
class ConvNormAct(keras.layers.Layer):
    """Conv -> InstanceNorm -> ReLU. [B,H,W,Cin] -> [B,(H+2p-k)/s+1,...,filters]."""

    def __init__(self, filters, kernel_size, strides=1, padding=None, pad_mode="zero", kernel_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        self.padding, self.pad_mode = padding, pad_mode
        self.kernel_initializer = kernel_initializer
        self.conv = Conv(filters, kernel_size, strides, padding, pad_mode,
                         kernel_initializer=kernel_initializer, name="conv")
        self.norm = InstanceNorm(name="norm")

    def build(self, input_shape):
        self.conv.build(input_shape)

    def call(self, x):
        return tf.nn.relu(self.norm(self.conv(x)))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "pad_mode": self.pad_mode,
                "kernel_initializer": serialize_initializer(self.kernel_initializer)}


@register
class ResnetBlock(keras.layers.Layer):
    """pix2pixHD residual block: reflect-pad1, Conv3x3, IN, ReLU, reflect-pad1, Conv3x3, IN, + x. Keeps the shape."""

    def __init__(self, kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = kernel_initializer

    def build(self, input_shape):
        c = int(input_shape[-1])
        self.conv_0 = Conv(c, 3, pad_mode="reflect", kernel_initializer=self.kernel_initializer, name="conv_0")
        self.norm_0 = InstanceNorm(name="norm_0")
        self.conv_1 = Conv(c, 3, pad_mode="reflect", kernel_initializer=self.kernel_initializer, name="conv_1")
        self.norm_1 = InstanceNorm(name="norm_1")
        self.conv_0.build(input_shape)
        self.conv_1.build(input_shape)

    def call(self, x):
        y = tf.nn.relu(self.norm_0(self.conv_0(x)))
        return x + self.norm_1(self.conv_1(y))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kernel_initializer": serialize_initializer(self.kernel_initializer)}


@register
class UpNormAct(keras.layers.Layer):
    """x2 upsampling to `filters` channels -> InstanceNorm -> ReLU. [B,H,W,Cin] -> [B,2H,2W,filters].

    `upsampler='convtranspose'` is the official ConvTranspose2d(3, s2, p1, op1). Any other name from the upsampler
    registry (e.g. 'sau' for LGGAN++) upsamples at Cin channels and then a 1x1 conv does the channel change the
    transposed conv used to do (lggan_official_code.md §3, placement (c)).
    """

    def __init__(self, filters, upsampler="convtranspose", upsampler_options=None, kernel_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters, self.upsampler = int(filters), upsampler
        self.upsampler_options = dict(upsampler_options or {})
        self.kernel_initializer = kernel_initializer
        self.norm = InstanceNorm(name="norm")

    def build(self, input_shape):
        cin = int(input_shape[-1])
        if self.upsampler == "convtranspose":
            self.up = ConvTranspose(self.filters, 3, 2, kernel_initializer=self.kernel_initializer, name="up")
            self.up.build(input_shape)
            self.proj = None
        else:
            from lggan_tf.layers.upsampling import build_upsampler

            self.up = build_upsampler(self.upsampler, cin, scale=2, **self.upsampler_options)
            self.up.build(input_shape)
            self.proj = Conv(self.filters, 1, kernel_initializer=self.kernel_initializer, name="proj")
            self.proj.build((input_shape[0], None, None, cin))

    def call(self, x):
        y = self.up(x)
        if self.proj is not None:
            y = self.proj(y)
        return tf.nn.relu(self.norm(y))

    def compute_output_shape(self, input_shape):
        b, h, w, _ = input_shape
        return (b, None if h is None else 2 * h, None if w is None else 2 * w, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "upsampler": self.upsampler,
                "upsampler_options": self.upsampler_options,
                "kernel_initializer": serialize_initializer(self.kernel_initializer)}
