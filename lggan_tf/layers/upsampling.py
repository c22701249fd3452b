"""The feature upsamplers of the paper's Table 12 (B1-B8), behind one registry.

Every layer maps [B, H, W, C] -> [B, sH, sW, C] (keeps C). Parameter counts per upsampler (s = 2, C channels):

| name | form | params |
|---|---|---|
| nearest, bilinear, bicubic | `upsample_nearest` / `tf.image.resize` (half-pixel centres = PyTorch align_corners=False) | 0 |
| deconv | ConvTranspose2d kernel s (option kernel_size), stride s, C -> C, bias | s^2 C^2 + C |
| pixel_shuffle | `Conv` 3x3 C -> s^2 C, depth_to_space(s) [16] | 9 s^2 C^2 + s^2 C |
| spatial_attention | DANet position attention [17] at H x W (q, k 1x1 C -> C/8, v 1x1 C -> C, softmax over positions, gamma init 0, residual), then nearest x s | 1.25 C^2 + 1.25 C + 1 |
| involution | involution [67] on the nearest expansion: 1x1 C -> 16, param-free BN, ReLU, 1x1 16 -> K^2 (K = 7, one group), kernels per pixel, `reassemble` | 16 C + 16 + 16 K^2 + K^2 |
| sau | `SemanticAwareUpsampling` (C' = 64, k = 5, encoder 3x3) | 64 C + 64 + 57,600 + 100 |
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, ConvTranspose, register, upsample_nearest
from lggan_tf.layers.norms import make_norm
from lggan_tf.layers.sau import SemanticAwareUpsampling, reassemble

UPSAMPLERS = ("nearest", "bilinear", "bicubic", "deconv", "pixel_shuffle", "spatial_attention", "involution", "sau")


class _Upsampler(keras.layers.Layer):
    """Shared scale / channel bookkeeping. channels=None: channel-agnostic."""

    def __init__(self, scale=2, channels=None, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)
        self.channels = None if channels is None else int(channels)
        if self.scale < 1:
            raise ValueError(f"{type(self).__name__}: scale must be >= 1, got {scale}")

    def _check_input(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{type(self).__name__}: expected an NHWC input [B, H, W, C], got shape {input_shape}")
        if self.channels is not None and int(input_shape[-1]) != self.channels:
            raise ValueError(f"{type(self).__name__} '{self.name}' was built for channels={self.channels} but got an "
                             f"input with {input_shape[-1]} channels; pass the input's channel count to "
                             f"build_upsampler")

    def compute_output_shape(self, input_shape):
        s = self.scale
        return (input_shape[0], None if input_shape[1] is None else s * input_shape[1],
                None if input_shape[2] is None else s * input_shape[2], input_shape[3])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "channels": self.channels}


@register
class NearestUpsampling(_Upsampler):
    """B1: nearest x s (PyTorch `nn.Upsample(scale_factor=s)`)."""

    def call(self, x):
        return upsample_nearest(x, self.scale)


@register
class ResizeUpsampling(_Upsampler):
    """B2/B3: `tf.image.resize` x s, method 'bilinear' or 'bicubic', half-pixel centres (align_corners=False)."""

    def __init__(self, method="bilinear", **kwargs):
        super().__init__(**kwargs)
        if method not in ("bilinear", "bicubic"):
            raise ValueError(f"ResizeUpsampling: method must be 'bilinear' or 'bicubic', got {method!r}")
        self.method = method

    def call(self, x):
        h, w = int(x.shape[1]), int(x.shape[2])
        y = tf.image.resize(x, [self.scale * h, self.scale * w], method=self.method)
        return tf.cast(y, x.dtype)

    def get_config(self):
        return {**super().get_config(), "method": self.method}


@register
class DeconvUpsampling(_Upsampler):
    """B4 [15]: ConvTranspose2d(C, C, kernel s, stride s) with bias: s^2 C^2 + C parameters.

    kernel_size=None means s (non-overlapping, the form that matches Table 12's 98.6M); kernel_size=3 with s=2 is
    the official LGGAN G_l / G_w ConvTranspose2d(k=3, s=2, p=1, output_padding=1) shape (9 C^2 + C).
    """

    def __init__(self, channels, scale=2, kernel_size=None, **kwargs):
        super().__init__(scale=scale, channels=channels, **kwargs)
        self.kernel_size = self.scale if kernel_size is None else int(kernel_size)
        self.deconv = ConvTranspose(self.channels, kernel_size=self.kernel_size, strides=self.scale, name="deconv")

    def build(self, input_shape):
        self._check_input(input_shape)
        self.deconv.build(input_shape)

    def call(self, x):
        return self.deconv(x)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@register
class PixelShuffleUpsampling(_Upsampler):
    """B5 [16]: `Conv` k x k C -> s^2 C, then depth_to_space(s): 9 s^2 C^2 + s^2 C parameters for k = 3."""

    def __init__(self, channels, scale=2, kernel_size=3, **kwargs):
        super().__init__(scale=scale, channels=channels, **kwargs)
        self.kernel_size = int(kernel_size)
        if self.kernel_size % 2 != 1:
            raise ValueError(f"PixelShuffleUpsampling: kernel_size must be odd, got {kernel_size}")
        self.conv = Conv(self.scale**2 * self.channels, self.kernel_size, name="conv")

    def build(self, input_shape):
        self._check_input(input_shape)
        self.conv.build(input_shape)

    def call(self, x):
        return tf.nn.depth_to_space(self.conv(x), self.scale)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


@register
class PositionAttentionUpsampling(_Upsampler):
    """B6 [17]: DANet position attention module at the input resolution, then nearest x s.

    q = Conv1x1(C -> C/r)(x), k = Conv1x1(C -> C/r)(x), v = Conv1x1(C -> C)(x) flattened over the N = H*W positions;
    A = softmax_j(q_i . k_j) (float32); out = gamma * (A v) + x with gamma a scalar initialised to 0.
    The attention matrix is N x N (8192^2 at 64x128). Parameters: 2 (C^2/r + C/r) + C^2 + C + 1.
    """

    def __init__(self, channels, scale=2, reduction=8, **kwargs):
        super().__init__(scale=scale, channels=channels, **kwargs)
        self.reduction = int(reduction)
        if self.channels % self.reduction != 0:
            raise ValueError(f"PositionAttentionUpsampling: channels ({self.channels}) must be divisible by "
                             f"reduction ({self.reduction})")
        inner = self.channels // self.reduction
        self.query_conv = Conv(inner, 1, name="query_conv")
        self.key_conv = Conv(inner, 1, name="key_conv")
        self.value_conv = Conv(self.channels, 1, name="value_conv")

    def build(self, input_shape):
        self._check_input(input_shape)
        for conv in (self.query_conv, self.key_conv, self.value_conv):
            conv.build(input_shape)
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def call(self, x):
        h, w, c = int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
        n = h * w
        q = tf.reshape(self.query_conv(x), [-1, n, c // self.reduction])
        k = tf.reshape(self.key_conv(x), [-1, n, c // self.reduction])
        v = tf.reshape(self.value_conv(x), [-1, n, c])
        attention = tf.nn.softmax(tf.cast(tf.matmul(q, k, transpose_b=True), tf.float32), axis=-1)  # [B, N, N]
        out = tf.reshape(tf.matmul(tf.cast(attention, v.dtype), v), [-1, h, w, c])
        out = tf.cast(self.gamma, out.dtype) * out + x
        return upsample_nearest(out, self.scale)

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction}


@register
class InvolutionUpsampling(_Upsampler):
    """B7 [67]: involution applied on the nearest x s expansion, one K x K kernel per output pixel.

    Kernel generation (involution's phi): Conv1x1 C -> R, param-free BatchNorm, ReLU, Conv1x1 R -> K^2 (one group:
    every channel shares the pixel's kernel). Generated on x and expanded x s, which equals generating on the
    expansion (pointwise ops, same batch moments). Then out = reassemble(x, kernels, s, K) (no softmax).
    Parameters: C R + R + R K^2 + K^2 (34,116 over the four GauGAN ups 1024/512/256/128 with R = 16, K = 7).
    """

    def __init__(self, channels, scale=2, kernel_size=7, reduced_channels=16, norm="batch", impl="lean", **kwargs):
        super().__init__(scale=scale, channels=channels, **kwargs)
        self.kernel_size, self.reduced_channels = int(kernel_size), int(reduced_channels)
        self.norm, self.impl = norm, impl
        self.reduce_conv = Conv(self.reduced_channels, 1, name="reduce_conv")
        self.reduce_norm = make_norm(norm, name="reduce_norm")
        self.span_conv = Conv(self.kernel_size**2, 1, name="span_conv")

    def build(self, input_shape):
        self._check_input(input_shape)
        self.reduce_conv.build(input_shape)
        reduced = tuple(input_shape[:-1]) + (self.reduced_channels,)
        self.reduce_norm.build(reduced)
        self.span_conv.build(reduced)

    def call(self, x, training=None):
        hidden = tf.nn.relu(self.reduce_norm(self.reduce_conv(x), training=training))
        kernels = upsample_nearest(tf.cast(self.span_conv(hidden), tf.float32), self.scale)
        return reassemble(x, kernels, self.scale, self.kernel_size, 1, self.impl)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "reduced_channels": self.reduced_channels,
                "norm": self.norm, "impl": self.impl}


def build_upsampler(name: str, channels: int, scale: int = 2, **options) -> keras.layers.Layer:
    """Build the Table 12 upsampler `name` for `channels` input channels: [B, H, W, C] -> [B, sH, sW, C].

    `options` go to the layer's constructor (e.g. kernel_size=, impl= for 'sau'; reduction= for
    'spatial_attention'). nearest, bilinear, bicubic and sau do not depend on `channels`.
    """
    if name not in UPSAMPLERS:
        raise ValueError(f"unknown upsampler {name!r}; valid names: {', '.join(UPSAMPLERS)}")
    if name == "nearest":
        return NearestUpsampling(scale=scale, **options)
    if name in ("bilinear", "bicubic"):
        return ResizeUpsampling(method=name, scale=scale, **options)
    if name == "deconv":
        return DeconvUpsampling(channels, scale=scale, **options)
    if name == "pixel_shuffle":
        return PixelShuffleUpsampling(channels, scale=scale, **options)
    if name == "spatial_attention":
        return PositionAttentionUpsampling(channels, scale=scale, **options)
    if name == "involution":
        return InvolutionUpsampling(channels, scale=scale, **options)
    return SemanticAwareUpsampling(scale=scale, **options)
