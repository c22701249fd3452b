"""Shared building blocks: registration, the official initialiser, and one conv layer for every padding rule.

All layers are NHWC. `Conv` owns its kernel, bias and (optionally) the spectral-norm vector `u`, so a checkpoint of
any composite layer holds every variable (no wrapped layers kept only in lists).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.recompute import is_recomputing

PACKAGE = "lggan_tf"


def register(cls):
    """Register a layer for Keras (de)serialisation under the `lggan_tf>` namespace."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)


def official_init(gain: float = 0.02) -> keras.initializers.Initializer:
    """SPADE/LGGAN `init_type='xavier'`, `init_variance=0.02`: xavier_normal with gain 0.02."""
    return keras.initializers.VarianceScaling(scale=gain**2, mode="fan_avg", distribution="untruncated_normal")


def normal_init(std: float = 0.02) -> keras.initializers.Initializer:
    """pix2pix/cross-view `normal(0, 0.02)` init."""
    return keras.initializers.RandomNormal(stddev=std)


def pad_nhwc(x, pad: int, mode: str):
    """Symmetric spatial padding of an NHWC tensor: mode 'zero' or 'reflect'."""
    if pad == 0:
        return x
    paddings = [[0, 0], [pad, pad], [pad, pad], [0, 0]]
    return tf.pad(x, paddings, mode="REFLECT" if mode == "reflect" else "CONSTANT")


def l2_normalize(v, eps=1e-12):
    return v / tf.maximum(tf.norm(v), eps)


@register
class Conv(keras.layers.Layer):
    """2-D convolution with PyTorch padding semantics and optional spectral normalisation.

    Args:
      filters: output channels.
      kernel_size: square kernel size k.
      strides: stride s.
      padding: explicit symmetric pad p (PyTorch `padding=p`); None means k // 2.
      pad_mode: 'zero' or 'reflect'. Stride-1 zero padding with p == k // 2 (odd k) uses TF 'SAME', which is
        identical and stays on the fast oneDNN path (perf_notes.md §1: a padding list is 28x slower in bf16);
        every other case is `tf.pad` then VALID, which reproduces PyTorch exactly (TF 'SAME' pads stride-2 convs
        asymmetrically).
      spectral: spectral normalisation as `torch.nn.utils.spectral_norm`: a persistent vector u, one power
        iteration per training call, W / sigma used in the forward pass with the gradient flowing through sigma.
      use_bias, kernel_initializer: as in Keras.

    Shapes: [B, H, W, Cin] -> [B, (H + 2p - k) // s + 1, (W + 2p - k) // s + 1, filters].
    """

    def __init__(self, filters, kernel_size, strides=1, padding=None, pad_mode="zero", spectral=False,
                 use_bias=True, kernel_initializer=None, power_iterations=1, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.padding = self.kernel_size // 2 if padding is None else int(padding)
        if pad_mode not in ("zero", "reflect"):
            raise ValueError(f"pad_mode must be 'zero' or 'reflect', got {pad_mode!r}")
        self.pad_mode = pad_mode
        self.spectral = bool(spectral)
        self.use_bias = bool(use_bias)
        self.power_iterations = int(power_iterations)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or official_init())

    def build(self, input_shape):
        cin = int(input_shape[-1])
        k = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(k, k, cin, self.filters),
                                      initializer=self.kernel_initializer)
        self.bias = (self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")
                     if self.use_bias else None)
        if self.spectral:
            # PyTorch keeps both power-iteration vectors as buffers (weight_u, weight_v); so do we. They start as
            # one power iteration from a random u on the initial kernel, so sigma = u^T W v is a valid estimate
            # even before the first training call.
            w_mat = tf.transpose(tf.reshape(tf.cast(self.kernel, tf.float32), [-1, self.filters]))
            u0 = l2_normalize(tf.random.normal([self.filters]))
            v0 = l2_normalize(tf.linalg.matvec(w_mat, u0, transpose_a=True))
            u1 = l2_normalize(tf.linalg.matvec(w_mat, v0))
            self.vector_u = self.add_weight(name="vector_u", shape=(self.filters,), trainable=False,
                                            initializer=lambda shape, dtype=None: tf.cast(u1, dtype or tf.float32),
                                            aggregation="only_first_replica", autocast=False)
            self.vector_v = self.add_weight(name="vector_v", shape=(k * k * cin,), trainable=False,
                                            initializer=lambda shape, dtype=None: tf.cast(v0, dtype or tf.float32),
                                            aggregation="only_first_replica", autocast=False)

    def _normalized_kernel(self, training):
        """W / sigma with sigma = u^T W v. Training: one power iteration from the stored u, stored back (u, v).
        Inference and the recomputation of a checkpointed block: the stored (u, v), as PyTorch's eval mode; so a
        recomputed block sees exactly the sigma of its forward pass."""
        w = tf.cast(self.kernel, tf.float32)
        w_mat = tf.transpose(tf.reshape(w, [-1, self.filters]))  # [out, k*k*in], PyTorch's weight_mat
        u, v = tf.cast(self.vector_u, tf.float32), tf.cast(self.vector_v, tf.float32)
        if training and not is_recomputing():
            for _ in range(max(self.power_iterations, 1)):
                v = l2_normalize(tf.linalg.matvec(w_mat, u, transpose_a=True))
                u = l2_normalize(tf.linalg.matvec(w_mat, v))
            u, v = tf.stop_gradient(u), tf.stop_gradient(v)
            self.vector_u.assign(u)
            self.vector_v.assign(v)
        sigma = tf.tensordot(u, tf.linalg.matvec(w_mat, v), 1)
        return w / sigma

    def call(self, x, training=None):
        kernel = self._normalized_kernel(bool(training)) if self.spectral else self.kernel
        kernel = tf.cast(kernel, self.compute_dtype)
        k, p, s = self.kernel_size, self.padding, self.strides
        if s == 1 and self.pad_mode == "zero" and k % 2 == 1 and p == k // 2:
            y = tf.nn.conv2d(x, kernel, strides=1, padding="SAME")
        else:
            y = tf.nn.conv2d(pad_nhwc(x, p, self.pad_mode), kernel, strides=s, padding="VALID")
        if self.use_bias:
            y = tf.nn.bias_add(y, tf.cast(self.bias, self.compute_dtype))
        return y

    def compute_output_shape(self, input_shape):
        def out(n):
            return None if n is None else (n + 2 * self.padding - self.kernel_size) // self.strides + 1
        return (input_shape[0], out(input_shape[1]), out(input_shape[2]), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "pad_mode": self.pad_mode,
                "spectral": self.spectral, "use_bias": self.use_bias, "power_iterations": self.power_iterations,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def same_size_transpose_padding(kernel_size: int, strides: int) -> tuple[int, int]:
    """PyTorch (padding, output_padding) that make ConvTranspose2d(k, s) map H to s*H: 2p - op = k - s.

    k=3, s=2 -> (1, 1), the official LGGAN G_l / G_w / cross-view shape; k=s -> (0, 0), Table 12's deconv;
    k=4, s=2 -> (1, 0), pix2pix's.
    """
    padding = max(-(-(kernel_size - strides) // 2), 0)
    return padding, 2 * padding - (kernel_size - strides)


def conv_transpose_torch(x, kernel, strides: int, padding: int, output_padding: int, method: str = "auto"):
    """PyTorch `conv_transpose2d` on NHWC: input pixel i adds its k taps to output pixels s*i - p + a.

    x: [B, H, W, Cin]; kernel: [k, k, Cout, Cin] (PyTorch weight [Cin, Cout, k, k] transposed (2, 3, 1, 0)).
    Returns [B, (H-1)s - 2p + k + op, (W-1)s - 2p + k + op, Cout]. Two exact methods:
    - 'explicit': `conv2d_transpose` with the padding list [p, p - op] (needs op <= p). As fast as 'SAME' in fp32,
      but 7x slower in bf16 on CPU (off the oneDNN path; measured in bench/conv_transpose.py).
    - 'window': VALID `conv2d_transpose` to the full (H-1)s + k map, then the window at p (zero rows appended
      when op > p). As fast as 'SAME' in bf16; the strided window costs 40-50% in fp32.
    'auto' takes 'explicit' for float32 inputs when op <= p, otherwise 'window'.
    """
    b, h, w = tf.shape(x)[0], int(x.shape[1]), int(x.shape[2])
    k, cout = int(kernel.shape[0]), int(kernel.shape[2])
    out_h, out_w = ((n - 1) * strides - 2 * padding + k + output_padding for n in (h, w))
    if method == "auto":
        method = "explicit" if x.dtype == tf.float32 and output_padding <= padding else "window"
    if method == "explicit":
        end = padding - output_padding
        return tf.nn.conv2d_transpose(x, kernel, tf.stack([b, out_h, out_w, cout]), strides,
                                      [[0, 0], [padding, end], [padding, end], [0, 0]])
    full_h, full_w = (h - 1) * strides + k, (w - 1) * strides + k
    y = tf.nn.conv2d_transpose(x, kernel, tf.stack([b, full_h, full_w, cout]), strides, "VALID")
    y = y[:, padding:padding + out_h, padding:padding + out_w, :]
    extra_h, extra_w = max(padding + out_h - full_h, 0), max(padding + out_w - full_w, 0)
    return tf.pad(y, [[0, 0], [0, extra_h], [0, extra_w], [0, 0]]) if extra_h or extra_w else y


@register
class ConvTranspose(keras.layers.Layer):
    """Exactly PyTorch `ConvTranspose2d(k, stride s, padding p, output_padding op)`, NHWC.

    Input pixel i adds its k taps to output pixels s*i - p + a (a = 0..k-1), and the output has
    (H - 1) s - 2p + k + op rows (likewise columns); see `conv_transpose_torch` for the two exact ways this is
    computed (a padding list in fp32, a window of the VALID map in bf16). Keras 'same' padding puts the taps at
    s*i + a, one pixel off PyTorch for k=3, s=2 (docs/fidelity.md row 12).

    The kernel [k, k, filters, Cin] and bias live in the Keras `Conv2DTranspose` sublayer `deconv`, which is only a
    variable holder: the variable paths are those of earlier checkpoints.

    Args: padding / output_padding None mean `same_size_transpose_padding(k, s)` (output s*H).
    Shapes: [B, H, W, Cin] -> [B, (H-1)s - 2p + k + op, (W-1)s - 2p + k + op, filters].
    """

    def __init__(self, filters, kernel_size=3, strides=2, padding=None, output_padding=None, use_bias=True,
                 kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.strides = int(filters), int(kernel_size), int(strides)
        default_p, default_op = same_size_transpose_padding(self.kernel_size, self.strides)
        self.padding = default_p if padding is None else int(padding)
        self.output_padding = default_op if output_padding is None else int(output_padding)
        if self.padding < 0 or not 0 <= self.output_padding < self.strides:
            raise ValueError(f"ConvTranspose needs padding >= 0 and 0 <= output_padding < strides ({self.strides}),"
                             f" got padding={self.padding}, output_padding={self.output_padding}")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or official_init())
        self.deconv = keras.layers.Conv2DTranspose(self.filters, self.kernel_size, self.strides, padding="valid",
                                                   use_bias=self.use_bias,
                                                   kernel_initializer=self.kernel_initializer, name="deconv")

    def build(self, input_shape):
        self.deconv.build(input_shape)

    def _out(self, n):
        return None if n is None else (n - 1) * self.strides - 2 * self.padding + self.kernel_size + self.output_padding

    def call(self, x):
        kernel = tf.cast(self.deconv.kernel, self.compute_dtype)
        y = conv_transpose_torch(x, kernel, self.strides, self.padding, self.output_padding)
        if self.use_bias:
            y = tf.nn.bias_add(y, tf.cast(self.deconv.bias, self.compute_dtype))
        return y

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self._out(input_shape[1]), self._out(input_shape[2]), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "output_padding": self.output_padding,
                "use_bias": self.use_bias, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def nearest_resize_to(x, height: int, width: int):
    """Resize an NHWC map to (height, width) as PyTorch `F.interpolate(mode='nearest')` does.

    PyTorch samples source index floor(dst * in / out) (top-left of each block), unlike `tf.image.resize`
    (half-pixel centres). Integer down-scaling is strided slicing; integer up-scaling is repetition; anything else
    is a gather with PyTorch's index rule. Shapes must be static.
    """
    h, w = int(x.shape[1]), int(x.shape[2])
    if (h, w) == (height, width):
        return x
    if h % height == 0 and w % width == 0:
        return x[:, :: h // height, :: w // width, :]
    if height % h == 0 and width % w == 0:
        x = tf.repeat(x, height // h, axis=1) if height != h else x
        return tf.repeat(x, width // w, axis=2) if width != w else x
    rows = tf.constant([(i * h) // height for i in range(height)], tf.int32)
    cols = tf.constant([(j * w) // width for j in range(width)], tf.int32)
    return tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)


def upsample_nearest(x, scale: int = 2):
    """Nearest x`scale` expansion ([B, H, W, C] -> [B, sH, sW, C]), identical to `nn.Upsample(scale_factor=s)`."""
    return tf.repeat(tf.repeat(x, scale, axis=1), scale, axis=2)


def serialize_initializer(init):
    """get_config form of an optional initializer argument (None stays None)."""
    return None if init is None else keras.initializers.serialize(keras.initializers.get(init))
