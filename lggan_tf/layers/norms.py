"""Parameter-free normalisations used by SPADE, the encoder, G_l, G_w and D.

`standardize` is the shared kernel: (x - mean) / sqrt(var + eps) over the given axes, in float32, with a
hand-written gradient that keeps only y and 1/sigma for the backward pass (perf_notes.md §1: 0.7-1 GB less peak
memory on the Cityscapes generator than autodiff through `tf.nn.moments`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import register
from lggan_tf.layers.recompute import is_recomputing


def standardize(x, axes, eps=1e-5):
    """Return ((x - mean) * rstd, mean, var) with moments over `axes`; computed in float32 (float64 for float64 x).

    The gradient to x is exact (d/dx of the standardisation, tests/layers/test_norm_gradient.py); mean and var are
    returned for running statistics and carry no gradient.
    """
    out_dtype = x.dtype
    dtype = tf.float64 if x.dtype == tf.float64 else tf.float32
    x32 = tf.cast(x, dtype)
    mean, var = tf.nn.moments(x32, axes=axes, keepdims=True)
    mean, var = tf.stop_gradient(mean), tf.stop_gradient(var)

    @tf.custom_gradient
    def _norm(x_in):
        rstd = tf.math.rsqrt(var + eps)
        y = (x_in - mean) * rstd

        def grad(dy):
            dy = tf.cast(dy, dtype)
            mean_dy = tf.reduce_mean(dy, axis=axes, keepdims=True)
            mean_dy_y = tf.reduce_mean(dy * y, axis=axes, keepdims=True)
            return rstd * (dy - mean_dy - y * mean_dy_y)

        return y, grad

    return tf.cast(_norm(x32), out_dtype), mean, var


@register
class InstanceNorm(keras.layers.Layer):
    """InstanceNorm2d(affine=False, eps=1e-5): per-sample, per-channel moments over H and W. [B,H,W,C] -> same.

    `track_running_stats=True` is PyTorch's InstanceNorm2d(track_running_stats=True) (the official cross-view D):
    training normalises with the instance moments and updates `moving_mean` / `moving_variance` with the batch mean
    of the per-instance mean and unbiased variance (momentum 0.1); inference normalises with the running statistics.
    """

    def __init__(self, epsilon=1e-5, track_running_stats=False, momentum=0.1, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.track_running_stats, self.momentum = float(epsilon), bool(track_running_stats), float(momentum)

    def build(self, input_shape):
        if self.track_running_stats:
            c = int(input_shape[-1])
            self.moving_mean = self.add_weight(name="moving_mean", shape=(c,), initializer="zeros", trainable=False,
                                               aggregation="mean", autocast=False)
            self.moving_variance = self.add_weight(name="moving_variance", shape=(c,), initializer="ones",
                                                   trainable=False, aggregation="mean", autocast=False)

    def call(self, x, training=None):
        if self.track_running_stats and not training:
            y = (tf.cast(x, tf.float32) - self.moving_mean) * tf.math.rsqrt(self.moving_variance + self.epsilon)
            return tf.cast(y, x.dtype)
        y, mean, var = standardize(x, axes=[1, 2], eps=self.epsilon)
        if self.track_running_stats and not is_recomputing():
            n = tf.cast(tf.shape(x)[1] * tf.shape(x)[2], tf.float32)
            unbiased = var * n / tf.maximum(n - 1.0, 1.0)
            m = self.momentum
            self.moving_mean.assign((1.0 - m) * self.moving_mean + m * tf.reduce_mean(mean, axis=[0, 1, 2]))
            self.moving_variance.assign((1.0 - m) * self.moving_variance + m * tf.reduce_mean(unbiased, axis=[0, 1, 2]))
        return y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "track_running_stats": self.track_running_stats,
                "momentum": self.momentum}


@register
class BatchNorm(keras.layers.Layer):
    """Parameter-free BatchNorm2d (affine=False, eps 1e-5, PyTorch momentum 0.1) with running statistics.

    Training uses batch moments over (B, H, W) and updates `moving_mean` / `moving_variance` (unbiased variance,
    as PyTorch); inference uses the running statistics. With `synchronized=True` the moments are all-reduced
    across replicas (SyncBatchNorm, as the official `spectralspadesyncbatch3x3`); with one replica it is the plain
    form (and keeps its memory-lean custom gradient). [B,H,W,C] -> same.
    """

    def __init__(self, epsilon=1e-5, momentum=0.1, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.momentum, self.synchronized = float(epsilon), float(momentum), bool(synchronized)

    def build(self, input_shape):
        c = int(input_shape[-1])
        self.moving_mean = self.add_weight(name="moving_mean", shape=(c,), initializer="zeros", trainable=False,
                                           aggregation="mean", autocast=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=(c,), initializer="ones",
                                               trainable=False, aggregation="mean", autocast=False)

    @staticmethod
    def _sync_moments(x32, ctx):
        """Batch moments over every replica's (B, H, W): one all-reduce of (count, sum, sum of squares)."""
        n = tf.cast(tf.reduce_prod(tf.shape(x32)[:-1]), tf.float32)
        n, s1, s2 = ctx.all_reduce("sum", [n, tf.reduce_sum(x32, axis=[0, 1, 2]),
                                           tf.reduce_sum(tf.square(x32), axis=[0, 1, 2])])
        mean = s1 / n
        return mean, tf.maximum(s2 / n - tf.square(mean), 0.0), n

    def call(self, x, training=None):
        x32 = tf.cast(x, tf.float32)
        if not training:
            y = (x32 - self.moving_mean) * tf.math.rsqrt(self.moving_variance + self.epsilon)
            return tf.cast(y, x.dtype)
        ctx = tf.distribute.get_replica_context()
        if self.synchronized and ctx is not None and ctx.num_replicas_in_sync > 1:
            mean, var, n = self._sync_moments(x32, ctx)
            y = (x32 - mean) * tf.math.rsqrt(var + self.epsilon)
            y = tf.cast(y, x.dtype)
        else:
            y, mean, var = standardize(x, axes=[0, 1, 2], eps=self.epsilon)
            mean, var = tf.reshape(mean, [-1]), tf.reshape(var, [-1])
            n = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), tf.float32)
        if is_recomputing():  # the gradient re-run must not count this batch twice
            return y
        dtype = self.moving_mean.dtype
        mean, var, n = tf.cast(mean, dtype), tf.cast(var, dtype), tf.cast(n, dtype)
        unbiased = var * n / tf.maximum(n - 1.0, 1.0)
        m = self.momentum
        self.moving_mean.assign((1.0 - m) * self.moving_mean + m * tf.stop_gradient(mean))
        self.moving_variance.assign((1.0 - m) * self.moving_variance + m * tf.stop_gradient(unbiased))
        return y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "momentum": self.momentum,
                "synchronized": self.synchronized}


def make_norm(kind: str, name: str):
    """Param-free norm by name: 'instance', 'batch' or 'syncbatch'."""
    if kind == "instance":
        return InstanceNorm(name=name)
    if kind in ("batch", "syncbatch"):
        return BatchNorm(synchronized=(kind == "syncbatch"), name=name)
    raise ValueError(f"unknown param-free norm {kind!r}; expected 'instance', 'batch' or 'syncbatch'")
