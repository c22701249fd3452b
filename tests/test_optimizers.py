"""FusedAdam is keras.optimizers.Adam: the same updates (float32 rounding), the same checkpoint, fewer graph ops."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.optimizers import FusedAdam

SHAPES = [(3, 3, 4, 8), (8,), (5, 7)]


def train(adam, betas, loss_scale=False, steps=4, seed=0):
    """`steps` updates of three variables with fixed random gradients (the rate halves after step 2, as the
    schedule's decay assigns it); -> (final values, optimizer)."""
    rng = np.random.default_rng(seed)
    variables = [keras.Variable(rng.normal(size=s).astype(np.float32)) for s in SHAPES]
    grads = [[tf.constant(rng.normal(size=s).astype(np.float32)) for s in SHAPES] for _ in range(steps)]
    opt = adam(learning_rate=2e-3, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8)
    if loss_scale:
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(variables)
    apply = tf.function(lambda g: opt.apply(g, variables))
    for i, g in enumerate(grads):
        if i == 2:
            (opt.inner_optimizer if loss_scale else opt).learning_rate.assign(1e-3)
        apply(g)
    return [v.numpy() for v in variables], opt


@pytest.mark.parametrize("betas,loss_scale", [((0.0, 0.9), False), ((0.5, 0.999), False), ((0.0, 0.9), True)])
def test_updates_equal_keras_adam(betas, loss_scale):
    want, _ = train(keras.optimizers.Adam, betas, loss_scale)
    got, _ = train(FusedAdam, betas, loss_scale)
    start, _ = train(keras.optimizers.Adam, betas, loss_scale, steps=0)
    for w, g, s in zip(want, got, start):
        assert np.abs(w - s).max() > 1e-3  # the variables really moved
        np.testing.assert_allclose(g, w, rtol=0, atol=3e-7)


def test_hand_computed_first_step():
    """Step 1 from m = v = 0: m = (1 - b1) g, v = (1 - b2) g^2, alpha = lr sqrt(1 - b2) / (1 - b1)."""
    var = keras.Variable(np.array([1.0, -2.0, 0.5], np.float32))
    g = np.array([0.3, -0.1, 2.0], np.float32)
    opt = FusedAdam(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-8)
    opt.build([var])
    opt.apply([tf.constant(g)], [var])
    m, v = 0.5 * g, 0.1 * g.astype(np.float64) ** 2
    alpha = 0.01 * np.sqrt(1 - 0.9) / (1 - 0.5)
    np.testing.assert_allclose(var.numpy(), np.array([1.0, -2.0, 0.5]) - m * alpha / (np.sqrt(v) + 1e-8),
                               rtol=1e-6)
    assert int(opt.iterations.numpy()) == 1


def test_checkpoint_layout_is_keras_adams(tmp_path):
    """A run saved with keras.optimizers.Adam restores into FusedAdam (same object graph and values)."""
    _, keras_opt = train(keras.optimizers.Adam, (0.0, 0.9))
    path = tf.train.Checkpoint(opt=keras_opt).write(str(tmp_path / "keras"))
    _, fused = train(FusedAdam, (0.0, 0.9), seed=1)
    tf.train.Checkpoint(opt=fused).read(path).assert_existing_objects_matched()
    keras_keys = {k for k, _ in tf.train.list_variables(path)}
    fused_path = tf.train.Checkpoint(opt=fused).write(str(tmp_path / "fused"))
    assert {k for k, _ in tf.train.list_variables(fused_path)} == keras_keys
    for a, b in zip(keras_opt.variables, fused.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_one_fused_kernel_per_variable():
    ops = {}
    for name, adam in (("keras", keras.optimizers.Adam), ("fused", FusedAdam)):
        variables = [keras.Variable(np.zeros(s, np.float32)) for s in SHAPES]
        opt = adam(learning_rate=1e-3)
        opt.build(variables)
        graph = tf.function(lambda g: opt.apply(g, variables)).get_concrete_function(
            [tf.TensorSpec(s, tf.float32) for s in SHAPES]).graph
        ops[name] = [op.type for op in graph.get_operations()]
    assert ops["fused"].count("ResourceApplyAdam") == len(SHAPES)
    assert "ResourceApplyAdam" not in ops["keras"]
    assert len(ops["fused"]) < len(ops["keras"]) / 2, (len(ops["fused"]), len(ops["keras"]))
