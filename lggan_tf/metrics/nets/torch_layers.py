"""Keras layers that reproduce PyTorch's semantics exactly where TF's differ (used by the segmenters' ports).

    TorchMaxPool2D(3, 2, 1, ceil_mode=True)   nn.MaxPool2d(3, 2, 1, ceil_mode=True): -inf padding, ceil output size
    AdaptiveAvgPool2D(6)                      nn.AdaptiveAvgPool2d(6): bins [floor(i*H/s), ceil((i+1)*H/s))
    TorchResize(scale=0.5) / TorchResize()([x, ref])
                                              F.interpolate(mode="bilinear", align_corners=False) by scale factor
                                              (size floor(H*s), source step 1/s) or to the size of `ref`
    DepthwiseConvTranspose2D(16, 8, 4)        nn.ConvTranspose2d(C, C, 16, 8, 4, groups=C, bias=False)

All take and return channels-last float tensors [B, H, W, C]; spatial sizes may be dynamic.
"""

from __future__ import annotations

import itertools

import keras
import tensorflow as tf

_CREATED = itertools.count()


def ordered(layer):
    """Stamp `layer` with its creation rank: the PyTorch state_dict order when layers are created in the reference
    module's registration order (torch_state.torch_layout sorts by it)."""
    layer.torch_rank = next(_CREATED)
    return layer


@keras.saving.register_keras_serializable("lggan_tf")
class ImageNormalize(keras.layers.Layer):
    """(x[..., order] - mean) / std per channel; `bgr=True` reverses RGB to BGR first (Caffe-trained networks)."""

    def __init__(self, mean, std=(1.0, 1.0, 1.0), bgr: bool = False, **kw):
        super().__init__(**kw)
        self.mean, self.std, self.bgr = tuple(float(m) for m in mean), tuple(float(s) for s in std), bgr

    def call(self, x):
        if self.bgr:
            x = x[..., ::-1]
        return (x - tf.constant(self.mean, x.dtype)) / tf.constant(self.std, x.dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "std": self.std, "bgr": self.bgr}


def _bilinear_axis(x, axis: int, out_size, step):
    """Resample one spatial axis like PyTorch's bilinear (align_corners=False): src = step*(dst+0.5)-0.5, >= 0."""
    in_size = tf.shape(x)[axis]
    dst = tf.cast(tf.range(out_size), tf.float32)
    src = tf.maximum(step * (dst + 0.5) - 0.5, 0.0)
    i0 = tf.minimum(tf.cast(tf.floor(src), tf.int32), in_size - 1)
    i1 = tf.minimum(i0 + 1, in_size - 1)
    lam = src - tf.cast(i0, tf.float32)
    shape = [1, 1, 1, 1]
    shape[axis] = -1
    lam = tf.reshape(lam, shape)
    return tf.gather(x, i0, axis=axis) * (1.0 - lam) + tf.gather(x, i1, axis=axis) * lam


def torch_bilinear(x, out_hw, scale=None):
    """F.interpolate(x, size=out_hw | scale_factor=scale, mode="bilinear", align_corners=False), NHWC.

    With `scale`, out_hw = floor(in * scale) and the source step is 1/scale (PyTorch's rule when
    recompute_scale_factor is unset); otherwise the step is in/out."""
    shape = tf.shape(x)
    if scale is not None:
        out_hw = [tf.cast(tf.floor(tf.cast(shape[i], tf.float32) * scale), tf.int32) for i in (1, 2)]
        steps = [1.0 / scale, 1.0 / scale]
    else:
        steps = [tf.cast(shape[i], tf.float32) / tf.cast(out_hw[i - 1], tf.float32) for i in (1, 2)]
    x = _bilinear_axis(x, 1, out_hw[0], steps[0])
    return _bilinear_axis(x, 2, out_hw[1], steps[1])


@keras.saving.register_keras_serializable("lggan_tf")
class TorchResize(keras.layers.Layer):
    """Bilinear resize as PyTorch's F.interpolate(align_corners=False): by `scale` (x -> floor(H*s) x floor(W*s)), or
    to the spatial size of a second input (`layer([x, ref])`)."""

    def __init__(self, scale: float | None = None, **kw):
        super().__init__(**kw)
        self.scale = scale

    def call(self, inputs):
        if self.scale is not None:
            return torch_bilinear(inputs, None, self.scale)
        x, ref = inputs
        return torch_bilinear(x, tf.unstack(tf.shape(ref)[1:3]))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable("lggan_tf")
class TorchMaxPool2D(keras.layers.Layer):
    """nn.MaxPool2d(kernel, stride, padding, ceil_mode): pads with -inf; ceil_mode drops a last window that would
    start in the right padding (PyTorch's rule)."""

    def __init__(self, kernel: int, stride: int, padding: int = 0, ceil_mode: bool = False, **kw):
        super().__init__(**kw)
        self.kernel, self.stride, self.padding, self.ceil_mode = kernel, stride, padding, ceil_mode

    def _right_pad(self, size):
        k, s, p = self.kernel, self.stride, self.padding
        if not self.ceil_mode:
            return tf.constant(p)
        out = (size + 2 * p - k + s - 1) // s + 1
        out = tf.where((out - 1) * s >= size + p, out - 1, out)
        return tf.maximum((out - 1) * s + k - size - p, 0)

    def call(self, x):
        shape = tf.shape(x)
        p = self.padding
        pads = [[0, 0], [p, self._right_pad(shape[1])], [p, self._right_pad(shape[2])], [0, 0]]
        x = tf.pad(x, pads, constant_values=float("-inf"))
        return tf.nn.max_pool2d(x, self.kernel, self.stride, "VALID")

    def get_config(self):
        return {**super().get_config(), "kernel": self.kernel, "stride": self.stride, "padding": self.padding,
                "ceil_mode": self.ceil_mode}


def _adaptive_matrix(size, bins: int):
    """[bins, size] averaging matrix of AdaptiveAvgPool: row i averages [floor(i*n/b), ceil((i+1)*n/b))."""
    i = tf.range(bins)[:, None]
    start = (i * size) // bins
    end = ((i + 1) * size + bins - 1) // bins
    j = tf.range(size)[None, :]
    inside = tf.cast((j >= start) & (j < end), tf.float32)
    return inside / tf.cast(end - start, tf.float32)


@keras.saving.register_keras_serializable("lggan_tf")
class AdaptiveAvgPool2D(keras.layers.Layer):
    """nn.AdaptiveAvgPool2d(bins): [B, H, W, C] -> [B, bins, bins, C], PyTorch's (possibly overlapping) bins."""

    def __init__(self, bins: int, **kw):
        super().__init__(**kw)
        self.bins = bins

    def call(self, x):
        shape = tf.shape(x)
        x = tf.einsum("ih,bhwc->biwc", _adaptive_matrix(shape[1], self.bins), x)
        return tf.einsum("jw,biwc->bijc", _adaptive_matrix(shape[2], self.bins), x)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


@keras.saving.register_keras_serializable("lggan_tf")
class DepthwiseConvTranspose2D(keras.layers.Layer):
    """nn.ConvTranspose2d(C, C, kernel, stride, padding, groups=C, bias=False): output (H-1)*stride - 2*padding +
    kernel. The per-channel kernel [k, k, C] is expanded to a block-diagonal [k, k, C, C] for one transposed conv."""

    def __init__(self, kernel: int, stride: int, padding: int, **kw):
        super().__init__(**kw)
        self.kernel, self.stride, self.padding = kernel, stride, padding

    def build(self, input_shape):
        self.channels = int(input_shape[-1])
        self.depthwise_kernel = self.add_weight(name="depthwise_kernel", trainable=False, initializer="zeros",
                                                shape=(self.kernel, self.kernel, self.channels))

    def call(self, x):
        k, s, p = self.kernel, self.stride, self.padding
        full = self.depthwise_kernel[:, :, :, None] * tf.eye(self.channels, dtype=x.dtype)[None, None]
        shape = tf.shape(x)
        out_h, out_w = (shape[1] - 1) * s + k, (shape[2] - 1) * s + k
        y = tf.nn.conv2d_transpose(x, full, [shape[0], out_h, out_w, self.channels], s, "VALID")
        return y[:, p:out_h - p, p:out_w - p, :]

    def get_config(self):
        return {**super().get_config(), "kernel": self.kernel, "stride": self.stride, "padding": self.padding}


def conv(x, filters: int, kernel: int, name: str, stride: int = 1, padding: int = 0, dilation: int = 1,
         bias: bool = False):
    """nn.Conv2d(..., padding, dilation, bias) as zero padding + a VALID Keras Conv2D named like the PyTorch module."""
    if padding:
        x = keras.layers.ZeroPadding2D(padding, name=f"{name}.pad")(x)
    return ordered(keras.layers.Conv2D(filters, kernel, strides=stride, dilation_rate=dilation, use_bias=bias,
                                       name=name))(x)


def batch_norm(x, name: str, eps: float = 1e-5):
    """nn.BatchNorm2d in eval mode (running statistics), named like the PyTorch module."""
    return ordered(keras.layers.BatchNormalization(epsilon=eps, name=name))(x)


def relu(x, name: str | None = None):
    return keras.layers.ReLU(name=name)(x)


def torch_bottleneck(x, name: str, planes: int, stride: int = 1, dilation: int = 1, downsample: bool = False):
    """torchvision-layout Bottleneck (conv1/bn1, conv2/bn2 3x3 with the stride and dilation, conv3/bn3 to 4*planes,
    downsample.0/.1), the block of DRN (fyu/drn) and of CSAIL's ResNet encoders."""
    h = relu(batch_norm(conv(x, planes, 1, f"{name}.conv1"), f"{name}.bn1"))
    h = relu(batch_norm(conv(h, planes, 3, f"{name}.conv2", stride, dilation, dilation), f"{name}.bn2"))
    h = batch_norm(conv(h, planes * 4, 1, f"{name}.conv3"), f"{name}.bn3")
    if downsample:
        x = batch_norm(conv(x, planes * 4, 1, f"{name}.downsample.0", stride), f"{name}.downsample.1")
    return relu(keras.layers.Add(name=f"{name}.add")([h, x]), f"{name}.relu")


__all__ = ["AdaptiveAvgPool2D", "DepthwiseConvTranspose2D", "ImageNormalize", "TorchMaxPool2D", "TorchResize", "batch_norm", "conv",
           "ordered", "relu", "torch_bilinear", "torch_bottleneck"]
