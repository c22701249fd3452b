"""ACE, SEAN's semantic region-adaptive normalisation (Zhu et al. 2020; sean_official_code.md §2.2), and its residual
block.

ACE(x [B,h,w,C], seg [B,H,W,S], style [B,R,D]) with the label map resized PyTorch-nearest to h x w (m [B,h,w,S]):
    x' = norm(x + n * noise_var)             n ~ N(0, 1) [B,h,w,1] shared by the channels, noise_var [C] (init 0)
    mu_r = ReLU(style_r W_r + b_r)           one fc_mu (D -> D) per region r, W [R,D,D]: one batched einsum
    M = sum_r m_r mu_r                       [B,h,w,D]: each region's code broadcast to its pixels (0 elsewhere;
                                             overlapping channels: the highest one wins, as the official scatter)
    gamma_s, beta_s = conv_gamma(M), conv_beta(M)           3x3, D -> C
    gamma_o, beta_o = SPADE mlp on m (3x3 S -> hidden, ReLU, 3x3 hidden -> C)
    gamma = a_g gamma_s + (1 - a_g) gamma_o, beta likewise, a_g = sigmoid(blending_gamma) (scalar, init 0 -> 0.5)
    out = x' * (1 + gamma) + beta
Without style (`use_style=False`, SEAN's up_3) gamma = gamma_o, beta = beta_o; the blending scalars still exist
(they are parameters of every official ACE). Per-ACE parameters (S channels, C features, R regions, D = 512):
R (D^2 + D) + 2 (9 D C + C) [style] + 9 h S + h + 2 (9 h C + C) [SPADE] + C [noise] + 2 [blend].

`num_regions` R: one fc_mu per semantic channel (default, any class count) or the official 19 (its ACE holds
fc_mu0..fc_mu18 only; channels >= R then get no style, where the official code crashes). Regions absent from a map
have an all-zero mask, so their (zero) code adds nothing, which is the official skip.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, nearest_resize_to, register
from lggan_tf.layers.norms import make_norm


def broadcast_region_codes(mask, codes):
    """Write each region's code into its pixels: mask [B,h,w,R] (0/1), codes [B,R,D] -> [B,h,w,D].

    Where channels overlap (the instance-edge channel), the highest channel wins, as the official per-region
    scatter in channel order; for one-hot maps this is the plain sum of mask_r * code_r."""
    later_empty = tf.math.cumprod(1.0 - mask, axis=-1, exclusive=True, reverse=True)
    return tf.einsum("bhwr,brd->bhwd", mask * later_empty, codes)


@register
class ACE(keras.layers.Layer):
    """call(x [B,h,w,C], seg [B,H,W,S], style [B,S,D] or None, training, noise=None, noise_seed=None) -> [B,h,w,C].

    Args:
      use_style: the style branch (fc_mu, conv_gamma/beta, blend); False = SPADE + noise only.
      style_dim: D (512). num_regions: fc_mu count R (None = S). norm: param-free norm (official: sync-BN).
      spade_hidden: SPADE hidden width (128). seed: noise seed (and offset of `noise_seed`). At call time `noise`
      [B,h,w,1] replaces the draw; `noise_seed` int [2] draws it statelessly from noise_seed + (seed, 0).
    """

    def __init__(self, use_style=True, style_dim=512, num_regions=None, norm="syncbatch", spade_hidden=128,
                 kernel_size=3, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.use_style, self.style_dim = bool(use_style), int(style_dim)
        self.num_regions = None if num_regions is None else int(num_regions)
        self.norm_kind, self.spade_hidden = norm, int(spade_hidden)
        self.kernel_size, self.seed = int(kernel_size), int(seed)
        self.param_free_norm = make_norm(norm, name="param_free_norm")
        self.mlp_shared = Conv(self.spade_hidden, self.kernel_size, name="mlp_shared")
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="noise_seed")

    def build(self, x_shape, seg_shape, style_shape=None):
        c, s = int(x_shape[-1]), int(seg_shape[-1])
        self.regions = s if self.num_regions is None else self.num_regions
        self.noise_var = self.add_weight(name="noise_var", shape=(c,), initializer="zeros")
        self.blending_gamma = self.add_weight(name="blending_gamma", shape=(), initializer="zeros")
        self.blending_beta = self.add_weight(name="blending_beta", shape=(), initializer="zeros")
        self.param_free_norm.build(x_shape)
        self.mlp_gamma = Conv(c, self.kernel_size, name="mlp_gamma")
        self.mlp_beta = Conv(c, self.kernel_size, name="mlp_beta")
        b, h, w = x_shape[0], x_shape[1], x_shape[2]
        self.mlp_shared.build((b, h, w, s))
        self.mlp_gamma.build((b, h, w, self.spade_hidden))
        self.mlp_beta.build((b, h, w, self.spade_hidden))
        if self.use_style:
            d = self.style_dim
            self.fc_mu_kernel = self.add_weight(name="fc_mu_kernel", shape=(self.regions, d, d),
                                                initializer=_per_region_xavier(d))
            self.fc_mu_bias = self.add_weight(name="fc_mu_bias", shape=(self.regions, d), initializer="zeros")
            self.conv_gamma = Conv(c, self.kernel_size, name="conv_gamma")
            self.conv_beta = Conv(c, self.kernel_size, name="conv_beta")
            self.conv_gamma.build((b, h, w, d))
            self.conv_beta.build((b, h, w, d))

    def region_codes(self, style):
        """mu = ReLU(fc_mu_r(style_r)) for r < R: style [B,S,D] -> [B,R,D] (rows >= R dropped)."""
        style = tf.cast(style[:, : self.regions], self.compute_dtype)
        mu = tf.einsum("brc,rcd->brd", style, tf.cast(self.fc_mu_kernel, self.compute_dtype))
        return tf.nn.relu(mu + tf.cast(self.fc_mu_bias, self.compute_dtype))

    def call(self, x, seg, style=None, training=None, noise=None, noise_seed=None):
        h, w = int(x.shape[1]), int(x.shape[2])
        if noise is None and noise_seed is not None:  # stateless: a recomputed block redraws the same noise
            seed = tf.cast(noise_seed, tf.int64) + tf.constant([self.seed, 0], tf.int64)
            noise = tf.random.stateless_normal((tf.shape(x)[0], h, w, 1), seed=seed)
        elif noise is None:
            noise = keras.random.normal((tf.shape(x)[0], h, w, 1), seed=self.seed_generator)
        x = x + tf.cast(noise, x.dtype) * tf.cast(self.noise_var, x.dtype)
        normalized = self.param_free_norm(x, training=training)
        mask = nearest_resize_to(tf.cast(seg, self.compute_dtype), h, w)
        actv = tf.nn.relu(self.mlp_shared(mask))
        gamma, beta = self.mlp_gamma(actv), self.mlp_beta(actv)
        if self.use_style:
            if style is None:
                raise ValueError(f"ACE '{self.name}' uses style codes: pass style [B, S, {self.style_dim}]")
            codes = broadcast_region_codes(mask[..., : self.regions], self.region_codes(style))
            a_g = tf.cast(tf.sigmoid(self.blending_gamma), x.dtype)
            a_b = tf.cast(tf.sigmoid(self.blending_beta), x.dtype)
            gamma = a_g * self.conv_gamma(codes) + (1.0 - a_g) * gamma
            beta = a_b * self.conv_beta(codes) + (1.0 - a_b) * beta
        else:  # the unused official blending scalars get an exact zero gradient (Adam leaves them at 0), not None
            beta = beta + tf.cast(0.0 * (self.blending_gamma + self.blending_beta), beta.dtype)
        return normalized * (1.0 + gamma) + beta

    def compute_output_shape(self, x_shape, seg_shape, style_shape=None):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "use_style": self.use_style, "style_dim": self.style_dim,
                "num_regions": self.num_regions, "norm": self.norm_kind, "spade_hidden": self.spade_hidden,
                "kernel_size": self.kernel_size, "seed": self.seed}


def _per_region_xavier(dim):
    """The official xavier_normal(gain 0.02) of each Linear(D, D) fc_mu_r: std = 0.02 sqrt(2 / (D + D))."""
    return keras.initializers.RandomNormal(stddev=0.02 / dim**0.5)


@register
class ACEResBlock(keras.layers.Layer):
    """SEAN's SPADEResnetBlock(fin -> fout) with ACE norms (sean_official_code.md §2.1).

    call(x [B,h,w,fin], seg [B,H,W,S], style [B,S,D] or None, noise_seed=None) -> [B,h,w,fout]: ace_0 -> LReLU ->
    conv_0 (3x3, fmid = min(fin, fout)) -> ace_1 -> LReLU -> conv_1 (3x3); learned shortcut ace_s -> conv_s (1x1,
    no bias, no activation) when fin != fout. Spectral norm on conv_0, conv_1, conv_s only.
    """

    def __init__(self, filters, use_style=True, style_dim=512, num_regions=None, norm="syncbatch", spade_hidden=128,
                 seed=0, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.use_style, self.style_dim = int(filters), bool(use_style), int(style_dim)
        self.num_regions, self.norm_kind, self.spade_hidden = num_regions, norm, int(spade_hidden)
        self.seed = int(seed)

    def _ace(self, name, offset):
        return ACE(self.use_style, self.style_dim, self.num_regions, self.norm_kind, self.spade_hidden,
                   seed=self.seed + offset, name=name)

    def build(self, x_shape, seg_shape, style_shape=None):
        fin, fout = int(x_shape[-1]), self.filters
        fmid = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.ace_0, self.ace_1 = self._ace("ace_0", 0), self._ace("ace_1", 1)
        self.conv_0 = Conv(fmid, 3, spectral=True, name="conv_0")
        self.conv_1 = Conv(fout, 3, spectral=True, name="conv_1")
        mid_shape = tuple(x_shape[:-1]) + (fmid,)
        self.ace_0.build(x_shape, seg_shape, style_shape)
        self.conv_0.build(x_shape)
        self.ace_1.build(mid_shape, seg_shape, style_shape)
        self.conv_1.build(mid_shape)
        if self.learned_shortcut:
            self.ace_s = self._ace("ace_s", 2)
            self.conv_s = Conv(fout, 1, spectral=True, use_bias=False, name="conv_s")
            self.ace_s.build(x_shape, seg_shape, style_shape)
            self.conv_s.build(x_shape)

    def call(self, x, seg, style=None, training=None, noise_seed=None):
        x_s = x
        kw = dict(training=training, noise_seed=noise_seed)
        if self.learned_shortcut:
            x_s = self.conv_s(self.ace_s(x, seg, style, **kw), training=training)
        dx = self.conv_0(tf.nn.leaky_relu(self.ace_0(x, seg, style, **kw), 0.2), training=training)
        dx = self.conv_1(tf.nn.leaky_relu(self.ace_1(dx, seg, style, **kw), 0.2), training=training)
        return x_s + dx

    def compute_output_shape(self, x_shape, seg_shape, style_shape=None):
        return tuple(x_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "use_style": self.use_style,
                "style_dim": self.style_dim, "num_regions": self.num_regions, "norm": self.norm_kind,
                "spade_hidden": self.spade_hidden, "seed": self.seed}
