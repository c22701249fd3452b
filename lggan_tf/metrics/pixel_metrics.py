"""Paired pixel metrics: SSIM, PSNR and sharpness difference (SD), in two conventions.

standard:     SSIM = `tf.image.ssim` (RGB, 11x11 Gaussian sigma 1.5, 'valid' windows, L = 255, mean over channels);
              PSNR = `tf.image.psnr` on [0, 255]; SD = 10 log10(255^2 / mean gradient difference) on [0, 255].
selectiongan: the published Torch7 scripts (my_image_error_measures.lua, lggan_official_code.md §4.2) exactly:
              SSIM on Y = 0.299 R + 0.587 G + 0.114 B (x255) with 'full' (zero-padded) convolution, map averaged
              over the enlarged (H+10) x (W+10) area; PSNR and SD on [0, 1] images with 128^2 in the denominator,
              i.e. +20 log10(255/128) = +5.99 dB over the [0, 1] definitions; both floor the error at 1e-4.
Images are uint8 [B, H, W, 3]; every function returns one value per image, float64 [B].
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

PROTOCOLS = ("standard", "selectiongan")
_K1, _K2 = 0.01, 0.03
_EPS = 1e-4  # Lua scripts: error floor for PSNR and SD


def check_protocol(protocol: str) -> str:
    if protocol not in PROTOCOLS:
        raise ValueError(f"--protocol={protocol!r}: expected one of {PROTOCOLS}")
    return protocol


def _pair(real, fake) -> tuple[tf.Tensor, tf.Tensor]:
    real, fake = tf.convert_to_tensor(real), tf.convert_to_tensor(fake)
    if real.shape != fake.shape or real.shape.rank != 4 or real.shape[-1] != 3:
        raise ValueError(f"paired images: real {real.shape} vs generated {fake.shape}; expected equal [B, H, W, 3] "
                         "(resize the generated images to the real size first)")
    return tf.cast(real, tf.float64), tf.cast(fake, tf.float64)


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """Normalised 2-D Gaussian [size, size] (MATLAB fspecial / Torch image.gaussian, centred)."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x ** 2) / (2 * sigma ** 2))
    w = np.outer(g, g)
    return w / w.sum()


def _filter(x: tf.Tensor, window: np.ndarray, full: bool) -> tf.Tensor:
    """Depthwise correlation of x [B, H, W, C] with the symmetric window; full: zero-pad by size-1 each side."""
    k = window.shape[0]
    if full:
        x = tf.pad(x, [[0, 0], [k - 1, k - 1], [k - 1, k - 1], [0, 0]])
    kernel = tf.tile(tf.constant(window, x.dtype)[:, :, None, None], [1, 1, x.shape[-1], 1])
    return tf.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "VALID")


def _ssim_map(a: tf.Tensor, b: tf.Tensor, full: bool, max_val: float = 255.0) -> tf.Tensor:
    window = gaussian_window()
    c1, c2 = (_K1 * max_val) ** 2, (_K2 * max_val) ** 2
    mu_a, mu_b = _filter(a, window, full), _filter(b, window, full)
    var_a = _filter(a * a, window, full) - mu_a * mu_a
    var_b = _filter(b * b, window, full) - mu_b * mu_b
    cov = _filter(a * b, window, full) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))


def ssim(real, fake, protocol: str = "standard") -> np.ndarray:
    """SSIM per image [B] (see the module docstring for the two conventions)."""
    a, b = _pair(real, fake)
    if check_protocol(protocol) == "selectiongan":
        luma = tf.constant([0.299, 0.587, 0.114], tf.float64)
        a = tf.reduce_sum(a * luma, axis=-1, keepdims=True)  # uint8 values = [0, 1] Y scaled by 255
        b = tf.reduce_sum(b * luma, axis=-1, keepdims=True)
        return tf.reduce_mean(_ssim_map(a, b, full=True), axis=[1, 2, 3]).numpy()
    return tf.reduce_mean(_ssim_map(a, b, full=False), axis=[1, 2, 3]).numpy()


def psnr(real, fake, protocol: str = "standard") -> np.ndarray:
    """PSNR per image [B] in dB: standard = 10 log10(255^2 / MSE_[0,255]) (inf for identical images);
    selectiongan = 10 log10(255^2 / max(128^2 MSE_[0,1], 1e-4))."""
    a, b = _pair(real, fake)
    if check_protocol(protocol) == "selectiongan":
        mse = tf.reduce_mean(((a - b) / 255.0) ** 2, axis=[1, 2, 3]) * 128.0 ** 2
        return (10.0 * np.log10(255.0 ** 2 / np.maximum(mse.numpy(), _EPS)))
    mse = tf.reduce_mean((a - b) ** 2, axis=[1, 2, 3]).numpy()
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(255.0 ** 2 / mse)


def gradient_difference(real, fake) -> np.ndarray:
    """Mean |dx real - dx fake| + |dy real - dy fake| per image [B], on the input scale.

    Gradients are zero-padded backward differences |I(y,x) - I(y,x-1)|; the sum runs over the interior
    (rows/cols 1..H-2, 0-based), divided by C*H*W (computel1difference in my_image_error_measures.lua)."""
    a, b = _pair(real, fake)

    def grads(x):
        gx = tf.abs(x - tf.pad(x, [[0, 0], [0, 0], [1, 0], [0, 0]])[:, :, :-1])
        gy = tf.abs(x - tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1])
        return gx[:, 1:-1, 1:-1], gy[:, 1:-1, 1:-1]

    (ax, ay), (bx, by) = grads(a), grads(b)
    h, w, c = a.shape[1:]
    total = tf.reduce_sum(tf.abs(ax - bx) + tf.abs(ay - by), axis=[1, 2, 3])
    return total.numpy() / (c * h * w)


def sharpness_difference(real, fake, protocol: str = "standard") -> np.ndarray:
    """SD per image [B] in dB: standard = 10 log10(255^2 / max(gradient difference on [0,255], 1e-4));
    selectiongan = 10 log10(255^2 / max(128^2 gradient difference on [0,1], 1e-4))."""
    err = gradient_difference(real, fake)
    if check_protocol(protocol) == "selectiongan":
        err = err / 255.0 * 128.0 ** 2
    return 10.0 * np.log10(255.0 ** 2 / np.maximum(err, _EPS))


__all__ = ["PROTOCOLS", "check_protocol", "gaussian_window", "gradient_difference", "psnr", "sharpness_difference",
           "ssim"]
