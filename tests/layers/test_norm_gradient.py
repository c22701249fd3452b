"""The hand-written normalisation gradient (lggan_tf.layers.norms.standardize) against autodiff, in float64.

The reference is the same standardisation written with plain ops (moments that keep their gradient) and
differentiated by tf.GradientTape. Inputs: plain random features, and class-masked features as G_l sees them
(F * M_i: most pixels 0, one channel entirely 0, so its variance is 0 and 1/sigma = 1/sqrt(eps) is at its largest).
"""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.norms import BatchNorm, InstanceNorm, standardize

EPS = 1e-5
AXES = {"instance": [1, 2], "batch": [0, 1, 2]}


def features(masked: bool):
    rng = np.random.default_rng(3)
    x = rng.normal(1.5, 2.0, size=(3, 6, 5, 4))
    if masked:
        x = x * (rng.uniform(size=(3, 6, 5, 1)) > 0.7)  # a class mask: most pixels zero
        x[..., 2] = 0.0  # a class absent from the batch
    return tf.constant(x, tf.float64)


def reference(x, axes):
    mean, var = tf.nn.moments(x, axes=axes, keepdims=True)  # gradients flow through the moments
    return (x - mean) / tf.sqrt(var + EPS)


def gradients(fn, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(y * upstream) + 0.5 * tf.reduce_sum(tf.square(y))  # dy depends on y too
    return y, tape.gradient(loss, x)


@pytest.mark.parametrize("stats", sorted(AXES))
@pytest.mark.parametrize("masked", [False, True])
def test_standardize_gradient_matches_autodiff_float64(stats, masked):
    x = features(masked)
    upstream = tf.constant(np.random.default_rng(4).normal(size=x.shape), tf.float64)
    y, grad = gradients(lambda t: standardize(t, AXES[stats], EPS)[0], x, upstream)
    y_ref, grad_ref = gradients(lambda t: reference(t, AXES[stats]), x, upstream)
    assert y.dtype == grad.dtype == tf.float64
    assert np.max(np.abs(y - y_ref)) <= 1e-9
    assert np.max(np.abs(grad_ref)) > 1.0  # the comparison is not between two near-zero gradients
    assert np.max(np.abs(grad - grad_ref)) <= 1e-6


@pytest.mark.parametrize("layer_cls, stats", [(InstanceNorm, "instance"), (BatchNorm, "batch")])
def test_norm_layers_train_with_the_exact_gradient(layer_cls, stats):
    x = features(masked=True)
    upstream = tf.constant(np.random.default_rng(5).normal(size=x.shape), tf.float64)
    layer = layer_cls(dtype="float64")
    _, grad = gradients(lambda t: layer(t, training=True), x, upstream)
    _, grad_ref = gradients(lambda t: reference(t, AXES[stats]), x, upstream)
    assert np.max(np.abs(grad - grad_ref)) <= 1e-6
