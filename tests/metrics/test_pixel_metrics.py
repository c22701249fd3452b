"""SSIM / PSNR / sharpness difference: standard vs tf.image, the SelectionGAN (Torch7 script) conventions."""

import numpy as np
import pytest
import tensorflow as tf

from lggan_tf.metrics.pixel_metrics import gaussian_window, gradient_difference, psnr, sharpness_difference, ssim


def images(seed=0, shape=(2, 24, 20, 3)):
    rng = np.random.default_rng(seed)
    real = rng.integers(0, 256, shape, dtype=np.uint8)
    noise = rng.integers(-30, 31, shape)
    return real, np.clip(real.astype(int) + noise, 0, 255).astype(np.uint8)


def test_standard_ssim_and_psnr_equal_tf_image():
    real, fake = images()
    np.testing.assert_allclose(ssim(real, fake), tf.image.ssim(real, fake, 255).numpy(), rtol=1e-4)
    np.testing.assert_allclose(psnr(real, fake), tf.image.psnr(real, fake, 255).numpy(), rtol=1e-5)


def test_selectiongan_psnr_is_standard_plus_20_log10_255_over_128():
    real, fake = images(1)
    offset = 20 * np.log10(255 / 128)
    assert offset == pytest.approx(5.99, abs=0.005)
    np.testing.assert_allclose(psnr(real, fake, "selectiongan"), psnr(real, fake) + offset, rtol=1e-10)


def numpy_full_ssim_y(a, b):
    """Direct re-implementation of the Lua SSIM: Y channel, zero-padded 'full' 2-D convolution."""
    def y(img):
        return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])

    def conv_full(x, w):
        k = w.shape[0]
        p = np.pad(x, k - 1)
        out = np.zeros((x.shape[0] + k - 1, x.shape[1] + k - 1))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = (p[i:i + k, j:j + k] * w[::-1, ::-1]).sum()
        return out

    w = gaussian_window()
    a, b = y(a), y(b)
    mu1, mu2 = conv_full(a, w), conv_full(b, w)
    s1 = conv_full(a * a, w) - mu1 ** 2
    s2 = conv_full(b * b, w) - mu2 ** 2
    s12 = conv_full(a * b, w) - mu1 * mu2
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return (((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s1 + s2 + c2))).mean()


def test_selectiongan_ssim_uses_y_channel_and_full_convolution():
    real, fake = images(2, (1, 14, 12, 3))
    ours = ssim(real, fake, "selectiongan")
    assert ours[0] == pytest.approx(numpy_full_ssim_y(real[0], fake[0]), rel=1e-9)
    assert ours[0] != pytest.approx(float(tf.image.ssim(real, fake, 255)[0]), rel=1e-3)
    assert ssim(real, real, "selectiongan")[0] == pytest.approx(1.0)


def test_sharpness_difference_on_a_hand_checked_pair():
    real = np.zeros((1, 4, 4, 3), np.uint8)
    fake = real.copy()
    fake[0, 1, 1, :] = 255  # one bright interior pixel
    # interior (rows/cols 1..2): at (1,1) gx = gy = 255; at (1,2) gx = 255; at (2,1) gy = 255 -> 4 x 255 per channel
    assert gradient_difference(real, fake)[0] == pytest.approx(3 * 4 * 255 / (3 * 16))
    assert sharpness_difference(real, fake)[0] == pytest.approx(10 * np.log10(255 ** 2 / 63.75))
    assert sharpness_difference(real, fake, "selectiongan")[0] == pytest.approx(
        10 * np.log10(255 ** 2 / (128 ** 2 * 0.25)))


def test_mismatched_sizes_and_unknown_protocol_raise():
    real, fake = images()
    with pytest.raises(ValueError, match="resize"):
        ssim(real, fake[:, :10])
    with pytest.raises(ValueError, match="--protocol"):
        psnr(real, fake, "matlab")
