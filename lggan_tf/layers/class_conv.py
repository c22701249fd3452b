"""Class-specific local sub-generators of G_l and the local fusion (paper §3.3, Eq. (2), (4), (5); Fig. 6).

For each class i: U_i = act(Conv_kxk^(i)(reflect_pad(F * M_i))) (official SIS: pad3 reflect, Conv7x7 64->3, tanh).

`ClassConv(impl="partition")` is the exact class-partitioned form (c2) of perf_notes.md §2. Reflect padding copies
pixels, so pad(F * M_i) = pad(F) * pad(M_i). With c(q) the class of padded source pixel q, the pre-activation of class
i at output pixel p is
    z_i(p) = b_i + sum_d [c(p + d) = i] W_i[d]^T F(p + d) = b_i + sum_d [c(q) = i] V(q, d),  q = p + d,
    V(q, d) = W_{c(q)}[d]^T F(q).
Each source pixel therefore needs only its own class's weights: pixels are split by class (`tf.dynamic_partition`),
one [n_i, Cin] @ [Cin, k*k*Cout] matmul per class, and V(q, d) is scatter-added into segment (p = q - d, c(q)) with
one `tf.math.unsorted_segment_sum` (id -1 when p is outside the image or q is unlabelled). Exact for any label map,
about N times fewer MACs than N masked convs. `impl="loop"` is the plain reference: N masked reflect-padded convs.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, official_init, pad_nhwc, register

IMPLS = ("partition", "loop")


def class_index_map(masks, validate=False):
    """One-hot masks [B, H, W, N] -> int32 class map [B, H, W]; -1 where a pixel has no class (all zeros).

    validate: assert at run time that every pixel is one-hot or all zeros. With mx = max, s = sum and s2 = sum of
    squares over the classes, that holds iff s == s2 == mx and mx in {0, 1} (s2 = 1 = mx**2 leaves no other nonzero).
    """
    mx = tf.reduce_max(masks, axis=-1)
    deps = []
    if validate:
        s, s2 = tf.reduce_sum(masks, axis=-1), tf.reduce_sum(tf.square(masks), axis=-1)
        ok = tf.reduce_all((s == mx) & (s2 == mx) & ((mx == 0) | (mx == 1)))
        deps.append(tf.debugging.Assert(ok, [
            "ClassConv: masks must be one-hot per pixel (values 0/1, at most one 1 per pixel; all zeros = no "
            "class). Merge extra classes into one mask, or use impl='loop' for soft masks."]))
    with tf.control_dependencies(deps):
        return tf.where(mx > 0, tf.argmax(masks, axis=-1, output_type=tf.int32), -1)


def _segment_ids(class_pad, height, width, num_classes, k):
    """Segment of every (padded source pixel q, tap d): (b*H*W + p) * N + c(q) with p = q - d, or a negative id
    when p is outside the image or q is unlabelled. class_pad int32 [B, Hp, Wp] -> int32 [B*Hp*Wp*k*k].

    Built separably from `tf.range` (no large graph constant): a row part and a column part for every (q, d),
    plus the class and batch offset of q; invalid parts carry -2**29 so any invalid sum stays negative.
    """
    invalid = -(2**29)
    taps = tf.range(k)
    py = tf.range(height + 2 * (k // 2))[:, None] - taps[None, :]  # [Hp, k(dy)]
    px = tf.range(width + 2 * (k // 2))[:, None] - taps[None, :]  # [Wp, k(dx)]
    row = tf.where((py >= 0) & (py < height), py * (width * num_classes), invalid)
    col = tf.where((px >= 0) & (px < width), px * num_classes, invalid)
    pos = row[:, None, :, None] + col[None, :, None, :]  # [Hp, Wp, k, k]
    b_off = tf.range(tf.shape(class_pad)[0]) * (height * width * num_classes)
    src = tf.where(class_pad >= 0, class_pad + b_off[:, None, None], invalid)  # [B, Hp, Wp]
    return tf.reshape(pos[None] + src[:, :, :, None, None], [-1])


def _scatter_add(rows, ids, num_segments):
    """`unsorted_segment_sum` dropping negative ids, with a lean gradient: negative ids go to one extra "trash"
    segment that is sliced off, so the gradient is a plain gather (no mask pass over the rows)."""
    ids = tf.where(ids < 0, num_segments, ids)

    @tf.custom_gradient
    def scatter(x):
        def grad(dz):
            return tf.gather(tf.concat([dz, tf.zeros_like(dz[:1])], axis=0), ids)
        return tf.math.unsorted_segment_sum(x, ids, num_segments + 1)[:num_segments], grad

    return scatter(rows)


def class_conv_partition(features, class_map, kernel, bias, num_classes, sum_dtype):
    """Pre-activations of all N class convs by the class-partitioned form.

    Args:
      features: [B, H, W, Cin] (compute dtype), B*H*W*N < 2**29. class_map: int32 [B, H, W], -1 = no class.
      kernel: [N, k, k, Cin, Cout]; bias: [N, Cout] (both already in the compute dtype).
      sum_dtype: dtype of the scatter-add (float32 for accuracy, or the compute dtype).
    Returns: [B, H, W, N, Cout] in `sum_dtype`: b_i + conv_i(reflect_pad(F * M_i)).
    """
    height, width, cin = int(features.shape[1]), int(features.shape[2]), int(features.shape[3])
    k, cout = int(kernel.shape[1]), int(kernel.shape[4])
    pad = k // 2
    batch = tf.shape(features)[0]
    segments = tf.cast(batch, tf.int64) * (height * width * num_classes)
    check = tf.debugging.assert_less(segments, tf.constant(2**29, tf.int64), message=(
        "ClassConv(impl='partition'): B*H*W*N must be < 2**29 for int32 segment ids; use a smaller per-device "
        "batch or impl='loop'"))
    with tf.control_dependencies([check]):
        batch = tf.identity(batch)
    f_pad = pad_nhwc(features, pad, "reflect")  # [B, Hp, Wp, Cin]
    c_pad = pad_nhwc(class_map[..., None], pad, "reflect")[..., 0]  # [B, Hp, Wp]
    f_rows = tf.reshape(f_pad, [-1, cin])  # [Q, Cin], Q = B * Hp * Wp
    c_rows = tf.reshape(c_pad, [-1])
    # Partition N holds unlabelled pixels; they get V = 0 (their segment ids are negative anyway).
    part = tf.where(c_rows < 0, num_classes, c_rows)
    row_ids = tf.range(tf.shape(c_rows)[0])
    f_parts = tf.dynamic_partition(f_rows, part, num_classes + 1)
    id_parts = tf.dynamic_partition(row_ids, part, num_classes + 1)
    w_mat = tf.reshape(tf.transpose(kernel, [0, 3, 1, 2, 4]), [num_classes, cin, k * k * cout])
    # Cast each product to sum_dtype at once, so no second full-size copy of V exists (bf16 + float32).
    v_parts = [tf.cast(tf.matmul(f_parts[i], w_mat[i]), sum_dtype) for i in range(num_classes)]
    v_parts.append(tf.zeros([tf.shape(f_parts[num_classes])[0], k * k * cout], sum_dtype))
    v = tf.dynamic_stitch(id_parts, v_parts)  # [Q, k*k*Cout], V(q, d) with d = (dy, dx) row-major
    v = tf.reshape(v, [-1, cout])  # [Q*k*k, Cout]
    seg = _segment_ids(c_pad, height, width, num_classes, k)  # [Q*k*k]
    z = _scatter_add(v, seg, batch * height * width * num_classes)
    z = tf.reshape(z, [-1, height, width, num_classes, cout])
    return z + tf.cast(bias, sum_dtype)


def class_conv_loop(features, masks, kernel, bias):
    """Reference: N masked reflect-padded convs. Same args as `class_conv_partition` but the [B, H, W, N] masks;
    returns [B, H, W, N, Cout] in the compute dtype. Differentiable to the masks too."""
    num_classes, k = int(kernel.shape[0]), int(kernel.shape[1])
    outs = []
    for i in range(num_classes):
        x = pad_nhwc(features * masks[..., i:i + 1], k // 2, "reflect")
        outs.append(tf.nn.bias_add(tf.nn.conv2d(x, kernel[i], strides=1, padding="VALID"), bias[i]))
    return tf.stack(outs, axis=3)


@register
class ClassConv(keras.layers.Layer):
    """N class-specific sub-generators (Eq. (2) and Fig. 6 "class-specific generation"), vectorised.

    Args:
      num_classes: N, the number of masks (a caller merging classes >= K into one "rest" mask passes K + 1).
      filters: Cout per class (3 = an RGB image per class).
      kernel_size: k (odd); reflect padding k // 2 keeps H x W.
      activation: Keras activation name applied to every class image ('tanh' as official; None = linear).
      impl: 'partition' (exact class-partitioned form, fast) or 'loop' (N masked convs, reference/fallback).
      sum_in_float32: partition form only: do the scatter-add, bias and activation in float32 (the output is cast
        back to the compute dtype). Matters under `mixed_bfloat16`.
      validate_masks: partition form only: assert at run time that masks are one-hot (0/1, at most one 1 per pixel).
      kernel_initializer: None = official xavier_normal(gain 0.02) with the fans of ONE class's k x k x Cin x Cout
        kernel; anything else is applied to the whole [N, k, k, Cin, Cout] variable.

    Call: `layer(features, masks)`, features [B, H, W, Cin], masks [B, H, W, N] (a pixel may have no class: void).
    Returns [B, H, W, N, Cout], all N class images. An absent class i gives act(b_i) everywhere and no kernel
    gradient, exactly as the official per-class loop. The partition form is not differentiable to the masks.
    Weights: kernel [N, k, k, Cin, Cout], bias [N, Cout] (N=35, Cin=64, k=7, Cout=3: 329,385 parameters).
    """

    def __init__(self, num_classes, filters=3, kernel_size=7, activation="tanh", impl="partition",
                 sum_in_float32=True, validate_masks=True, kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.filters, self.kernel_size = int(num_classes), int(filters), int(kernel_size)
        if self.num_classes < 1:
            raise ValueError(f"ClassConv: num_classes must be >= 1, got {num_classes}")
        if self.kernel_size % 2 != 1:
            raise ValueError(f"ClassConv: kernel_size must be odd (reflect padding k // 2), got {kernel_size}")
        if impl not in IMPLS:
            raise ValueError(f"ClassConv: impl must be one of {IMPLS}, got {impl!r}")
        self.impl = impl
        self.activation_name = activation
        self.activation = keras.activations.get(activation)
        self.sum_in_float32, self.validate_masks = bool(sum_in_float32), bool(validate_masks)
        self.kernel_initializer = (None if kernel_initializer is None
                                   else keras.initializers.get(kernel_initializer))

    def build(self, features_shape, masks_shape):
        if len(features_shape) != 4 or len(masks_shape) != 4:
            raise ValueError(f"ClassConv: expected features [B, H, W, Cin] and masks [B, H, W, N], got shapes "
                             f"{tuple(features_shape)} and {tuple(masks_shape)}")
        h, w, cin = features_shape[1], features_shape[2], features_shape[3]
        if h is None or w is None or cin is None:
            raise ValueError(f"ClassConv: H, W and Cin must be static, got features shape {tuple(features_shape)}")
        if tuple(masks_shape[1:3]) != (h, w) or masks_shape[3] != self.num_classes:
            raise ValueError(f"ClassConv: masks must be [B, {h}, {w}, num_classes={self.num_classes}] to match the "
                             f"features, got {tuple(masks_shape)}; pass one mask per sub-generator")
        pad = self.kernel_size // 2
        if min(h, w) <= pad:
            raise ValueError(f"ClassConv: reflect padding {pad} needs H and W > {pad}, got {h}x{w}")
        k, cout = self.kernel_size, self.filters
        init = self.kernel_initializer
        if init is None:  # xavier_normal gain 0.02 per class: std = 0.02 * sqrt(2 / (k*k*Cin + k*k*Cout))
            init = keras.initializers.RandomNormal(stddev=0.02 * (2.0 / (k * k * (int(cin) + cout))) ** 0.5)
        self.kernel = self.add_weight(name="kernel", shape=(self.num_classes, k, k, int(cin), cout),
                                      initializer=init)
        self.bias = self.add_weight(name="bias", shape=(self.num_classes, cout), initializer="zeros")

    def call(self, features, masks):
        dtype = self.compute_dtype
        features, masks = tf.cast(features, dtype), tf.cast(masks, dtype)
        kernel, bias = tf.cast(self.kernel, dtype), tf.cast(self.bias, dtype)
        if self.impl == "loop":
            return self.activation(class_conv_loop(features, masks, kernel, bias))
        class_map = class_index_map(masks, validate=self.validate_masks)
        sum_dtype = tf.float32 if self.sum_in_float32 else dtype
        z = class_conv_partition(features, class_map, kernel, bias, self.num_classes, sum_dtype)
        return tf.cast(self.activation(z), dtype)

    def compute_output_shape(self, features_shape, masks_shape):
        return (*tuple(features_shape[:3]), self.num_classes, self.filters)

    def get_config(self):
        init = self.kernel_initializer
        return {**super().get_config(), "num_classes": self.num_classes, "filters": self.filters,
                "kernel_size": self.kernel_size, "activation": self.activation_name, "impl": self.impl,
                "sum_in_float32": self.sum_in_float32, "validate_masks": self.validate_masks,
                "kernel_initializer": None if init is None else keras.initializers.serialize(init)}


def fuse_sum(class_images):
    """Eq. (4): element-wise sum of the class images. [B, H, W, N, C] -> [B, H, W, C]."""
    return tf.reduce_sum(class_images, axis=3)


@register
class LocalFusionConv(keras.layers.Layer):
    """Eq. (5), official SIS: Concat(U_1..U_N) along channels (class-major, as `torch.cat`) -> Conv3x3 (3N -> 3,
    zero pad 1) -> tanh. [B, H, W, N, C] -> [B, H, W, filters]."""

    def __init__(self, filters=3, kernel_size=3, activation="tanh", kernel_initializer=None, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.activation_name = activation
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer or official_init())
        self.fusion_conv = Conv(self.filters, self.kernel_size, kernel_initializer=self.kernel_initializer,
                                dtype=self.dtype_policy, name="fusion_conv")

    def build(self, input_shape):
        if len(input_shape) != 5 or input_shape[3] is None or input_shape[4] is None:
            raise ValueError(f"LocalFusionConv: expected class images [B, H, W, N, C] with static N and C (the "
                             f"ClassConv output), got {tuple(input_shape)}")
        self.fusion_conv.build((*tuple(input_shape[:3]), input_shape[3] * input_shape[4]))

    def call(self, class_images):
        h, w, n, c = class_images.shape[1:]
        x = tf.reshape(class_images, [-1, h, w, n * c])
        return self.activation(self.fusion_conv(x))

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[:3]), self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": self.activation_name,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
