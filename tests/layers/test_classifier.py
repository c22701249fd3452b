"""Classification module (Eq. (6)): pooling, logits, validity, and the void-filtered class cross-entropy."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.layers.classifier import (ClassFeatureClassifier, class_cross_entropy, class_valid,
                                        per_example_class_cross_entropy, pool_class_features)

N = 5


def sample_inputs(seed=0):
    """Batch 2 with different classes per sample: sample 0 lacks class 1, sample 1 has only classes 0 and 4."""
    rng = np.random.default_rng(seed)
    labels = rng.choice([0, 2, 3, 4], size=(2, 8, 6))
    labels[1] = rng.choice([0, 4], size=(8, 6))
    labels[:, :2, :2] = -1  # void pixels
    masks = np.stack([labels == i for i in range(N)], axis=-1).astype("float32")
    features = rng.normal(size=(2, 8, 6, 4)).astype("float32")
    return features, masks


def numpy_loss(logits, valid):
    """Per sample: sum_i valid * CE(row i, target i) / sum_i valid (0 if none); then the batch mean."""
    per = []
    for lg, v in zip(logits, valid):
        lse = np.log(np.exp(lg - lg.max(-1, keepdims=True)).sum(-1)) + lg.max(-1)
        ce = lse - lg[np.arange(len(lg)), np.arange(len(lg))]
        per.append((ce * v).sum() / max(v.sum(), 1.0))
    return np.array(per), float(np.mean(per))


@pytest.mark.parametrize("pooling", ["paper", "official"])
def test_logits_and_valid_against_numpy(pooling):
    features, masks = sample_inputs()
    layer = ClassFeatureClassifier(N, pooling=pooling)
    logits, valid = layer(features, masks)
    assert logits.shape == (2, N, N) and valid.shape == (2, N)
    np.testing.assert_array_equal(valid, [[1, 0, 1, 1, 1], [1, 0, 0, 0, 1]])
    pooled = np.zeros((2, N, 4), np.float32)
    for b in range(2):
        for i in range(N):
            region = features[b][masks[b, ..., i] > 0]  # [pixels of class i, C]
            if pooling == "paper" and len(region):  # "semantic-guided average pooling": the mean over M_i (§3.3)
                pooled[b, i] = region.mean(0)
            elif pooling == "official":  # AdaptiveAvgPool2d(1) of F * M_i: the sum over M_i / (H * W)
                pooled[b, i] = region.sum(0) / (8 * 6)
    want = pooled @ layer.fc.kernel.numpy() + layer.fc.bias.numpy()
    np.testing.assert_allclose(logits, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pool_class_features(features, masks, pooling), pooled, rtol=1e-5, atol=1e-6)


def test_default_pooling_is_the_papers_region_mean():
    """A small class keeps its feature scale under the paper's pooling; the official whole-image mean shrinks it."""
    features, masks = sample_inputs()
    features = np.ones_like(features)
    assert ClassFeatureClassifier(N).pooling == "paper"
    np.testing.assert_allclose(pool_class_features(features, masks)[1, 4], 1.0, rtol=1e-6)
    area = masks[1, ..., 4].sum()
    np.testing.assert_allclose(pool_class_features(features, masks, "official")[1, 4], area / 48, rtol=1e-6)
    with pytest.raises(ValueError, match="pooling"):
        ClassFeatureClassifier(N, pooling="mask")


def test_loss_against_numpy_batch_two_ignores_void_classes():
    features, masks = sample_inputs()
    layer = ClassFeatureClassifier(N)
    layer(features, masks)
    layer.fc.kernel.assign(np.random.default_rng(1).normal(size=(4, N)) * 3.0)
    logits, valid = layer(features, masks)
    want_per, want = numpy_loss(logits.numpy(), valid.numpy())
    np.testing.assert_allclose(per_example_class_cross_entropy(logits, valid), want_per, rtol=1e-5)
    np.testing.assert_allclose(class_cross_entropy(logits, valid), want, rtol=1e-5)
    # Rows of void classes do not matter: perturb them and the loss stays the same.
    bumped = logits.numpy()
    bumped[valid.numpy() == 0] += np.random.default_rng(2).normal(size=(N,)) * 10
    np.testing.assert_allclose(class_cross_entropy(bumped, valid), want, rtol=1e-5)
    assert abs(want - numpy_loss(logits.numpy(), np.ones_like(valid))[1]) > 1e-3  # the masking matters here


def test_sample_without_valid_class_counts_zero_and_batch_one_is_official():
    logits = np.random.default_rng(3).normal(size=(2, N, N)).astype("float32")
    valid = np.array([[0, 0, 0, 0, 0], [1, 1, 0, 1, 0]], "float32")
    per = per_example_class_cross_entropy(logits, valid).numpy()
    assert per[0] == 0.0 and np.isfinite(per).all()
    # Official Cityscapes loss at batch 1: sum_i CE_i * valid_i / sum_i valid_i.
    np.testing.assert_allclose(class_cross_entropy(logits[1:], valid[1:]), numpy_loss(logits[1:], valid[1:])[1],
                               rtol=1e-5)


def test_bfloat16_logits_give_float32_loss():
    features, masks = sample_inputs()
    layer = ClassFeatureClassifier(N, dtype="mixed_bfloat16")
    logits, valid = tf.function(layer)(tf.constant(features), tf.constant(masks))
    assert logits.dtype == tf.bfloat16 and valid.dtype == tf.float32
    assert class_cross_entropy(logits, valid).dtype == tf.float32


def test_classify_first_k_masks_only():
    features, masks = sample_inputs()
    layer = ClassFeatureClassifier(N, num_classes_classified=3)
    logits, valid = layer(features, masks)
    assert logits.shape == (2, 3, 3)
    np.testing.assert_array_equal(valid, class_valid(tf.constant(masks), 3))
    assert layer.count_params() == 4 * 3 + 3


def test_parameter_count_official_fc2():
    layer = ClassFeatureClassifier(35)
    layer.build((None, 16, 16, 64), (None, 16, 16, 35))
    assert layer.count_params() == 64 * 35 + 35 == 2_275


@pytest.mark.parametrize("call", [
    lambda: ClassFeatureClassifier(N, num_classes_classified=N + 1),
    lambda: ClassFeatureClassifier(N)(np.zeros((1, 8, 6, 4), "float32"), np.zeros((1, 8, 6, N - 1), "float32")),
    lambda: class_cross_entropy(np.zeros((2, N, N), "float32"), np.zeros((2, N - 1), "float32")),
])
def test_bad_inputs_raise_clear_errors(call):
    with pytest.raises(ValueError, match="num_classes|expected logits"):
        call()


def test_get_config_round_trip_and_checkpoint(tmp_path):
    features, masks = sample_inputs()
    layer = ClassFeatureClassifier(N, num_classes_classified=4, name="cls")
    layer(features, masks)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert clone.get_config() == layer.get_config()
    clone(features, masks)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(features, masks)[0], layer(features, masks)[0])
    path = tf.train.Checkpoint(layer=layer).write(str(tmp_path / "ckpt"))
    stored = [shape for name, shape in tf.train.list_variables(path) if name.startswith("layer/")]
    assert sorted(stored) == sorted(list(v.shape) for v in layer.weights) and len(stored) == 2
