"""Semantic-aware upsampling (SAU, LGGAN++ §3.2): kernel generation (SAKG) and feature reassembly (SAFU, Eq. (1)).

`reassemble` is SAFU. With `up` the nearest x`scale` expansion of `features` [B, H, W, C] and `kernels`
[B, sH, sW, k*k] (one k x k kernel per output pixel):

    out[b, y, x, c] = sum_{i, j in [0, k)} kernels[b, y, x, i*k + j] * up[b, y + d*(i - k//2), x + d*(j - k//2), c]

with taps outside `up` contributing 0. Two exact implementations:

* "patches": the paper-literal form (feature spatial expansion, sliding local block extraction, reshape, weighted
  sum). It materialises a [B, sH, sW, k*k, C] tensor (25x the output for k=5).
* "lean" (default): the folded form (perf_notes.md §3 (c')). Because `up` is a nearest expansion, output pixel
  (s*Y + a, s*X + b) with tap (i, j) reads x[Y + floor((a + d*(i - k//2)) / s), X + floor((b + d*(j - k//2)) / s)],
  and a tap outside `up` is exactly a tap outside x. So per sub-pixel phase the k*k weights fold onto the n*n distinct
  source offsets (n = 3 for k=5, s=2, d=1) with a fixed 0/1 matrix R_a: K_fold = R_a K R_b^T (one small matmul with
  a constant [s*s*k*k, s*s*n*n] matrix). Reassembly is then a batched matmul [.., s*s, n*n] @ [.., n*n, C] over the
  n x n shifted copies of the zero-padded low-res x. Neither `up` nor the k*k x C tensor is ever built. With a
  static batch size and shifted copies over DENSE_MAX_BYTES it runs in row chunks with a hand-written gradient
  (`_reassemble_lean_chunked`), which keeps the shifted copies in cache and is ~1.5x faster fwd+bwd (C=256,
  64x128) than the plain autodiff form, kept for small inputs and unknown batch sizes.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from lggan_tf.layers.common import Conv, nearest_resize_to, register, upsample_nearest

REASSEMBLE_IMPLS = ("lean", "patches")
GUIDANCE_MODES = (None, "external")


def _check_reassemble_args(features, kernels, scale, kernel_size, dilation, impl):
    if impl not in REASSEMBLE_IMPLS:
        raise ValueError(f"reassemble: impl must be one of {REASSEMBLE_IMPLS}, got {impl!r}")
    if scale < 1 or kernel_size < 1 or dilation < 1:
        raise ValueError(f"reassemble: scale, kernel_size and dilation must be >= 1, got "
                         f"scale={scale}, kernel_size={kernel_size}, dilation={dilation}")
    if features.shape.rank != 4 or kernels.shape.rank != 4:
        raise ValueError(f"reassemble: features and kernels must be NHWC rank-4 tensors, got shapes "
                         f"{features.shape} and {kernels.shape}")
    _, h, w, _ = features.shape
    expected = [features.shape[0], scale * h, scale * w, kernel_size * kernel_size]
    if not kernels.shape.is_compatible_with(expected):
        raise ValueError(f"reassemble: kernels must have shape [B, {scale}*H, {scale}*W, kernel_size**2] = "
                         f"{expected} for features {features.shape}, got {kernels.shape}")


def fold_offsets(scale: int, kernel_size: int, dilation: int):
    """Source-offset range and fold matrices of the lean form, per axis.

    Returns (t_min, n, R) where low-res offsets are t_min .. t_min + n - 1 and R [scale, n, k] is 0/1 with
    R[a, t, i] = 1 iff tap i of output phase a reads low-res offset t_min + t.
    """
    s, k, d = scale, kernel_size, dilation
    src = np.array([[(a + d * (i - k // 2)) // s for i in range(k)] for a in range(s)])  # floor division
    t_min = int(src.min())
    n = int(src.max()) - t_min + 1
    r = np.zeros([s, n, k], np.float32)
    for a in range(s):
        for i in range(k):
            r[a, src[a, i] - t_min, i] = 1.0
    return t_min, n, r


def fold_matrix(scale: int, kernel_size: int, dilation: int) -> np.ndarray:
    """Constant M [s*s*k*k, s*s*n*n]: (kernels in space_to_depth order) @ M = folded kernels, K_fold = R_a K R_b^T."""
    s, k = scale, kernel_size
    _, n, r = fold_offsets(s, k, dilation)
    # M[(a, b, i, j), (a', b', t, u)] = [a = a'] [b = b'] R[a, t, i] R[b, u, j]
    m = np.einsum("ap,bq,ati,buj->abijpqtu", np.eye(s), np.eye(s), r, r)
    return m.reshape(s * s * k * k, s * s * n * n).astype(np.float32)


def _reassemble_patches(features, kernels, s, k, d):
    b, h, w, c = features.shape
    up = upsample_nearest(features, s)
    lo, hi = d * (k // 2), d * (k - 1 - k // 2)
    up = tf.pad(up, [[0, 0], [lo, hi], [lo, hi], [0, 0]])
    patches = tf.image.extract_patches(up, sizes=[1, k, k, 1], strides=[1, 1, 1, 1], rates=[1, d, d, 1],
                                       padding="VALID")  # channel order (i, j, c)
    patches = tf.reshape(patches, [-1, s * h, s * w, k * k, c])
    return tf.einsum("byxnc,byxn->byxc", patches, tf.cast(kernels, features.dtype))


def _fold_kernels(k_phase, h, w, s, k, d, dtype):
    """Kernels in space_to_depth order [B, H, W, s*s*k*k] (channel (a*s + b)*k*k + i*k + j) -> K_fold
    [B, H, W, s*s, n*n] in `dtype`: one small matmul with the constant fold matrix.

    Folding runs in the kernels' dtype (float32 from the softmax); the result is cast for the reassembly matmuls.
    """
    _, n, _ = fold_offsets(s, k, d)
    k_fold = tf.matmul(tf.reshape(k_phase, [-1, s * s * k * k]), tf.constant(fold_matrix(s, k, d), k_phase.dtype))
    return tf.cast(tf.reshape(k_fold, [-1, h, w, s * s, n * n]), dtype)


def _reassemble_lean_dense(features, k_fold, s, t_min, n):
    """Unchunked folded form with autodiff gradients, for a batch size unknown at trace time."""
    _, h, w, c = features.shape
    lo, hi = -t_min, t_min + n - 1  # both >= 0: tap k//2 of phase 0 reads offset 0
    xp = tf.pad(features, [[0, 0], [lo, hi], [lo, hi], [0, 0]])  # zeros outside x == zeros outside up
    taps = tf.image.extract_patches(xp, sizes=[1, n, n, 1], strides=[1, 1, 1, 1], rates=[1, 1, 1, 1],
                                    padding="VALID")
    taps = tf.reshape(taps, [-1, h, w, n * n, c])  # taps[.., t*n + u, :] = x at offset (t_min + t, t_min + u)
    out = tf.matmul(k_fold, taps)  # [B, H, W, s*s, C], row a*s + b
    return tf.nn.depth_to_space(tf.reshape(out, [-1, h, w, s * s * c]), s)


# Target size of one chunk's n*n shifted copies. The reassembly is memory-bound: building the copies for a few
# rows at a time and consuming them at once keeps them in cache.
CHUNK_BYTES = 4 << 20
# Below this size of all shifted copies the dense form is as fast or faster (its few large ops parallelise better;
# C=1024 at 16x32, 19 MiB: 32 vs 37 ms fwd+bwd on 2 cores), so the chunked form is used above it only.
DENSE_MAX_BYTES = 32 << 20


def _small_matmul(a, b, adjoint_b=False):
    """Batched matmul of small per-position matrices. float32: BatchMatMulV3, which runs on Eigen and is ~1.5-2x
    faster here than oneDNN's BatchMatMulV2 (what tf.matmul becomes); bfloat16: tf.matmul (oneDNN), ~2x faster
    than Eigen's bf16 kernel (measured, bench/upsamplers.py shapes)."""
    if a.dtype == tf.float32:
        return tf.raw_ops.BatchMatMulV3(x=a, y=b, adj_y=adjoint_b, Tout=a.dtype)
    return tf.matmul(a, b, adjoint_b=adjoint_b)


def _chunk_rows(h, w, c, n, itemsize):
    """Row spans [y0, y1) of the chunks: equal splits of about CHUNK_BYTES of shifted copies each (>= 1 row)."""
    rows = max(1, int(round(CHUNK_BYTES / ((w + n - 1) * n * n * c * itemsize))))
    edges = np.linspace(0, h, -(-h // rows) + 1).round().astype(int)
    return [[int(y0), int(y1)] for y0, y1 in zip(edges[:-1], edges[1:])]


def _reassemble_lean_chunked(features, k_fold, s, t_min, n):
    """Folded form in row chunks over a flattened padded image, with a hand-written gradient.

    Layout: x zero-padded by (-t_min, t_min + n - 1) to width Wp = W + n - 1 and flattened to rows of C, so tap
    (t, u) of all pixels of a chunk is ONE contiguous dim-0 slice at offset off = t*Wp + u (TF slices dim 0 without
    copying). A chunk of r image rows covers r*Wp positions (the n - 1 past each row's end are computed and
    dropped; their K_fold is 0). Forward: stack the chunk's n*n slices [r*Wp, n*n, C], one batched matmul with
    K_fold [r*Wp, s*s, n*n], and one dynamic_stitch writes all chunks' rows to their output pixels
    (depth_to_space and the crop in one copy). Backward, per chunk: dout is one gather from dy (with `reach`
    positions before the chunk), dK = dout @ taps^T, and dx[q] = sum_t K_fold[q - off_t, :, t] @ dout[q - off_t]
    (the transposed operation) is n*n matmuls [1, s*s] x [s*s, C] over dim-0 slices at the shifted positions,
    summed. Only x and K_fold are kept for the backward; the shifted copies are rebuilt per chunk, in cache.
    """
    b, h, w, c = features.shape
    ss, nn = s * s, n * n
    lo, hi = -t_min, t_min + n - 1
    wp = w + n - 1
    hx = h + n  # padded rows of x per image: n - 1 plus one zero row for the dropped positions of the last row
    offsets = [t * wp + u for t in range(n) for u in range(n)]
    reach = offsets[-1]
    spans = _chunk_rows(h, w, c, n, features.dtype.size)
    n_out, n_in = b * ss * h * w, b * h * w
    # Static row maps per image, over positions p = y*Wp + x (x < Wp); -1 where dropped.
    yy, xx = np.divmod(np.arange(h * wp), wp)
    phase = (np.arange(s)[:, None] * s * w + np.arange(s)[None, :]).reshape(ss)  # (a, e) -> a*sW + e
    out_map = np.where((xx < w)[:, None], (s * yy * s * w + s * xx)[:, None] + phase, -1)  # [h*Wp, s*s]
    in_map = np.where(xx < w, yy * w + xx, -1)  # position -> row of [H*W]
    # dx positions q (padded coordinates, up to `reach` past the last row) -> row of [H*W]
    qy, qx = np.divmod(np.arange(h * wp + reach), wp)
    dx_map = np.where((qy >= lo) & (qy < h + lo) & (qx >= lo) & (qx < w + lo), (qy - lo) * w + qx - lo, -1)

    def rows(index, i, size, spare):
        """Per-image rows -> rows of the batch's [B*size] tensor; -1 -> `spare`."""
        return tf.constant(np.where(index >= 0, index + i * size, spare).reshape(-1), tf.int32)

    @tf.custom_gradient
    def core(x, kf):
        xf = tf.reshape(tf.pad(x, [[0, 0], [lo, hi + 1], [lo, hi], [0, 0]]), [b * hx * wp, c])
        kff = tf.reshape(tf.pad(tf.reshape(kf, [b, h, w, ss * nn]), [[0, 0], [0, 0], [0, wp - w], [0, 0]]),
                         [b * h * wp, ss, nn])

        def taps(i, y0, y1):
            """The n*n shifted copies of image i, rows y0..y1: [r*Wp, n*n, C]."""
            q0, q1 = (i * hx + y0) * wp, (i * hx + y1) * wp
            return tf.stack([xf[q0 + o:q1 + o] for o in offsets], axis=1)

        parts, where = [], []
        for i in range(b):
            for y0, y1 in spans:
                k_chunk = kff[(i * h + y0) * wp:(i * h + y1) * wp]
                parts.append(tf.reshape(tf.matmul(k_chunk, taps(i, y0, y1)), [-1, c]))
                where.append(rows(out_map[y0 * wp:y1 * wp], i, ss * h * w, n_out))  # dropped -> spare row
        y = tf.raw_ops.ParallelDynamicStitch(indices=where, data=parts)[:n_out]
        y = tf.reshape(y, [b, s * h, s * w, c])

        def grad(dy):
            dy_rows = tf.reshape(tf.cast(dy, x.dtype), [n_out, c])
            # K_fold tap-major, each image framed by `reach` zero positions: [n*n, B*(H*Wp + 2*reach), 1, s*s]
            kft = tf.pad(tf.transpose(tf.reshape(kff, [b, h * wp, ss, nn]), [3, 0, 1, 2]),
                         [[0, 0], [0, 0], [reach, reach], [0, 0]])
            kft = tf.reshape(kft, [nn, b * (h * wp + 2 * reach), 1, ss])
            d_k, k_where, d_x, x_where = [], [], [], []
            for i in range(b):
                for y0, y1 in spans:
                    p0, m = y0 * wp, (y1 - y0) * wp
                    m_x = m + (reach if y1 == h else 0)  # the last chunk also yields dx past the last row
                    # dout at positions p0 - reach .. p0 + m_x; outside the image or dropped: pixel 0, whose
                    # K_fold there is 0 (it adds nothing)
                    p = np.arange(p0 - reach, p0 + m_x)
                    index = np.where((p >= 0) & (p < h * wp), p, 0)
                    index = np.where(out_map[index] >= 0, out_map[index], 0)
                    d_out = tf.gather(dy_rows, rows(index, i, ss * h * w, 0))
                    d_out = tf.reshape(d_out, [reach + m_x, ss, c])
                    d_k_chunk = _small_matmul(d_out[reach:reach + m], taps(i, y0, y1), adjoint_b=True)
                    d_k.append(tf.reshape(d_k_chunk, [m, ss * nn]))
                    k_where.append(rows(in_map[p0:p0 + m], i, h * w, n_in))
                    base = i * (h * wp + 2 * reach) + reach + p0
                    d_x_chunk = tf.add_n([_small_matmul(kft[j, base - o:base - o + m_x],
                                                        d_out[reach - o:reach - o + m_x])
                                          for j, o in enumerate(offsets)])
                    d_x.append(tf.reshape(d_x_chunk, [m_x, c]))
                    x_where.append(rows(dx_map[p0:p0 + m_x], i, h * w, n_in))
            d_x = tf.raw_ops.ParallelDynamicStitch(indices=x_where, data=d_x)[:n_in]
            d_k = tf.raw_ops.ParallelDynamicStitch(indices=k_where, data=d_k)[:n_in]
            return tf.reshape(d_x, [b, h, w, c]), tf.reshape(d_k, [b, h, w, ss, nn])

        return y, grad

    return core(features, k_fold)


def _reassemble_lean(features, k_phase, s, k, d):
    """Lean reassembly from kernels in space_to_depth order [B, H, W, s*s*k*k]."""
    _, h, w, _ = features.shape
    t_min, n, _ = fold_offsets(s, k, d)
    k_fold = _fold_kernels(k_phase, h, w, s, k, d, features.dtype)
    b, c = features.shape[0], features.shape[-1]
    if b is None or b * h * w * n * n * c * features.dtype.size <= DENSE_MAX_BYTES:
        return _reassemble_lean_dense(features, k_fold, s, t_min, n)
    return _reassemble_lean_chunked(features, k_fold, s, t_min, n)


def reassemble(features, kernels, scale=2, kernel_size=5, dilation=1, impl="lean"):
    """SAFU, Eq. (1): per-output-pixel k x k weighted sum over the nearest x`scale` expansion of `features`.

    Args:
      features: [B, H, W, C] (static H, W, C).
      kernels: [B, scale*H, scale*W, kernel_size**2], tap order i*k + j (row-major). Not normalised here.
      scale, kernel_size, dilation: s, k (odd or even; tap offsets d*(i - k//2)) and d.
      impl: "lean" (folded, default) or "patches" (paper-literal); both exact.
    Returns:
      [B, scale*H, scale*W, C] in the features' dtype.
    """
    features = tf.convert_to_tensor(features)
    kernels = tf.convert_to_tensor(kernels)
    scale, kernel_size, dilation = int(scale), int(kernel_size), int(dilation)
    _check_reassemble_args(features, kernels, scale, kernel_size, dilation, impl)
    if impl == "patches":
        return _reassemble_patches(features, kernels, scale, kernel_size, dilation)
    return _reassemble_lean(features, tf.nn.space_to_depth(kernels, scale), scale, kernel_size, dilation)


@register
class SemanticAwareUpsampling(keras.layers.Layer):
    """SAU (§3.2, Fig. 4): [B, H, W, C] -> [B, sH, sW, C].

    SAKG: feature channel compression `Conv` 1x1 C -> C', semantic kernel generation `Conv` e x e ('SAME')
    C' -> s^2 k^2, feature shuffle (depth_to_space s), channel-wise softmax over the k^2 taps (float32).
    SAFU: `reassemble` (Eq. (1)). Parameters: C*C' + C' + C'*s^2*k^2*e^2 + s^2*k^2 (74,148 for C=256, C'=64, k=5,
    s=2, e=3).

    guidance=None (the paper): kernels are predicted from x. guidance="external" (an ablation): call(x, guide) with a
    guide map [B, h, w, G] (e.g. the one-hot label map); it is resized to x's H x W with PyTorch-nearest and the
    kernels are predicted from it. Under `mixed_bfloat16` the convs and reassembly run in bf16; the softmax and the
    kernel folding run in float32.
    """

    def __init__(self, scale=2, kernel_size=5, compressed_channels=64, encoder_kernel_size=3, dilation=1,
                 impl="lean", guidance=None, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.kernel_size = int(scale), int(kernel_size)
        self.compressed_channels, self.encoder_kernel_size = int(compressed_channels), int(encoder_kernel_size)
        self.dilation = int(dilation)
        if impl not in REASSEMBLE_IMPLS:
            raise ValueError(f"SemanticAwareUpsampling: impl must be one of {REASSEMBLE_IMPLS}, got {impl!r}")
        if guidance not in GUIDANCE_MODES:
            raise ValueError(f"SemanticAwareUpsampling: guidance must be one of {GUIDANCE_MODES}, got {guidance!r}")
        if self.encoder_kernel_size % 2 != 1:
            raise ValueError(f"SemanticAwareUpsampling: encoder_kernel_size must be odd (size-preserving 'SAME' "
                             f"conv), got {self.encoder_kernel_size}")
        if min(self.scale, self.kernel_size, self.compressed_channels, self.dilation) < 1:
            raise ValueError("SemanticAwareUpsampling: scale, kernel_size, compressed_channels and dilation must "
                             "be >= 1")
        self.impl, self.guidance = impl, guidance
        s2k2 = self.scale**2 * self.kernel_size**2
        self.channel_compressor = Conv(self.compressed_channels, 1, name="channel_compressor")
        self.kernel_encoder = Conv(s2k2, self.encoder_kernel_size, name="kernel_encoder")

    def build(self, x_shape, guide_shape=None):
        if self.guidance == "external" and guide_shape is None:
            raise ValueError("SemanticAwareUpsampling(guidance='external') must be called as layer(x, guide)")
        src = guide_shape if self.guidance == "external" else x_shape
        self.channel_compressor.build(src)
        self.kernel_encoder.build(tuple(src[:-1]) + (self.compressed_channels,))

    def predict_phase_kernels(self, source):
        """SAKG before the feature shuffle: [B, H, W, Cs] -> kernels in space_to_depth order [B, H, W, s*s*k*k]
        (channel (a*s + b)*k*k + tap), softmax-normalised over each group of k*k taps, float32."""
        logits = tf.cast(self.kernel_encoder(self.channel_compressor(source)), tf.float32)
        h, w, s2, k2 = int(logits.shape[1]), int(logits.shape[2]), self.scale**2, self.kernel_size**2
        return tf.reshape(tf.nn.softmax(tf.reshape(logits, [-1, h, w, s2, k2]), axis=-1), [-1, h, w, s2 * k2])

    def predict_kernels(self, source):
        """SAKG: source [B, H, W, Cs] -> softmax-normalised kernels [B, sH, sW, k*k], float32."""
        return tf.nn.depth_to_space(self.predict_phase_kernels(source), self.scale)

    def call(self, x, guide=None):
        if self.guidance == "external":
            if guide is None:
                raise ValueError("SemanticAwareUpsampling(guidance='external') must be called as layer(x, guide)")
            source = nearest_resize_to(tf.cast(guide, x.dtype), int(x.shape[1]), int(x.shape[2]))
        else:
            source = x
        if self.impl == "lean":  # the folded form takes the kernels before the shuffle: no depth_to_space round trip
            return _reassemble_lean(x, self.predict_phase_kernels(source), self.scale, self.kernel_size, self.dilation)
        return reassemble(x, self.predict_kernels(source), self.scale, self.kernel_size, self.dilation, self.impl)

    def compute_output_shape(self, x_shape, guide_shape=None):
        s = self.scale
        return (x_shape[0], None if x_shape[1] is None else s * x_shape[1],
                None if x_shape[2] is None else s * x_shape[2], x_shape[3])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "kernel_size": self.kernel_size,
                "compressed_channels": self.compressed_channels, "encoder_kernel_size": self.encoder_kernel_size,
                "dilation": self.dilation, "impl": self.impl, "guidance": self.guidance}
