"""VGGPerceptual: offline build, frozen, per-example values, preprocessing, weight loading and its errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf import vgg as vgg_module
from lggan_tf.vgg import LAYER_WEIGHTS, VGGPerceptual

B, S = 2, 32
RNG = np.random.default_rng(0)


def images():
    return RNG.uniform(-1, 1, size=(B, S, S, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def random_vgg():
    with pytest.warns(UserWarning, match="NOT meaningful"):
        return VGGPerceptual(weights="none")


def test_random_weights_build_offline_frozen_and_per_example(random_vgg):
    assert random_vgg.trainable_weights == [] and random_vgg.trainable is False
    assert len(random_vgg.non_trainable_weights) == 26  # 13 convs up to block5_conv1, kernel + bias
    assert all(not v.trainable for v in random_vgg.weights)
    x, y = images(), images()
    loss = random_vgg(x, y)
    assert loss.shape == (B,) and loss.dtype == tf.float32 and np.all(loss.numpy() > 0)
    np.testing.assert_allclose(random_vgg(x, x).numpy(), 0.0, atol=1e-6)


def test_loss_is_weighted_l1_of_the_five_relu_x_1_maps(random_vgg):
    x, y = images(), images()
    fx, fy = random_vgg.feature_maps(x), random_vgg.feature_maps(y)
    assert [f.shape[1] for f in fx] == [32, 16, 8, 4, 2] and [f.shape[-1] for f in fx] == [64, 128, 256, 512, 512]
    want = sum(w * np.abs(a.numpy() - b.numpy()).mean(axis=(1, 2, 3)) for w, a, b in zip(LAYER_WEIGHTS, fx, fy))
    np.testing.assert_allclose(random_vgg(x, y).numpy(), want, rtol=1e-4)


def test_preprocessing_is_caffe_bgr_mean_subtracted_on_0_255():
    x = images()
    got = VGGPerceptual.preprocess(x).numpy()
    want = 127.5 * (x + 1.0)
    want = want[..., ::-1] - np.array([103.939, 116.779, 123.68], np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_gradient_reaches_fake_only(random_vgg):
    fake, real = tf.Variable(images()), tf.Variable(images())
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(random_vgg(fake, real))
    g_fake, g_real = tape.gradient(loss, [fake, real])
    assert g_real is None or float(tf.reduce_sum(tf.abs(g_real))) == 0.0  # phi(real) is detached
    assert float(tf.reduce_sum(tf.abs(g_fake))) > 0


def test_config_round_trip_and_bad_input_shape(random_vgg):
    config = random_vgg.get_config()
    assert config["weights"] == "none"
    with pytest.warns(UserWarning):
        clone = VGGPerceptual.from_config(config)
    assert clone.weights_source == "none" and clone.trainable is False
    with pytest.raises(ValueError, match="H, W >= 16"):
        random_vgg(np.zeros((1, 8, 8, 3), np.float32), np.zeros((1, 8, 8, 3), np.float32))


def test_local_weights_file_loads(tmp_path):
    source = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "vgg19_notop.weights.h5"
    source.save_weights(str(path))
    loaded = VGGPerceptual(weights=str(path))
    for name in ("block1_conv1", "block5_conv1"):
        np.testing.assert_array_equal(loaded.features.get_layer(name).kernel.numpy(),
                                      source.get_layer(name).kernel.numpy())


def test_missing_or_corrupt_weights_file_names_the_path(tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(FileNotFoundError, match="nope.h5.*--vgg_weights=PATH"):
        VGGPerceptual(weights=str(missing))
    corrupt = tmp_path / "corrupt.weights.h5"
    corrupt.write_bytes(b"not an h5 file")
    with pytest.raises(ValueError, match="corrupt.weights.h5"):
        VGGPerceptual(weights=str(corrupt))


def test_failed_download_says_what_to_pass(monkeypatch):
    def offline(*args, weights=None, **kwargs):
        if weights == "imagenet":
            raise Exception("URL fetch failure: [Errno -2] Name or service not known")
        raise AssertionError("only the ImageNet download is expected here")

    monkeypatch.setattr(vgg_module.keras.applications, "VGG19", offline)
    with pytest.raises(RuntimeError, match="--vgg_weights=PATH.*--vgg_weights=none"):
        VGGPerceptual(weights="imagenet")


def test_mixed_precision_gives_float32_loss():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        with pytest.warns(UserWarning):
            vgg = VGGPerceptual(weights="none")
        loss = vgg(tf.cast(images(), tf.bfloat16), images())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert loss.dtype == tf.float32 and loss.shape == (B,) and np.all(np.isfinite(loss.numpy()))
