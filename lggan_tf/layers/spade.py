"""SPADE (Park et al. 2019) as used by GauGAN and by LGGAN's global generator G_g (paper §3.1).

spade_official_code.md §1.4-1.5: param-free norm (sync-BN by default), a 3x3 `mlp_shared` conv to 128 hidden
channels + ReLU, 3x3 gamma and beta convs, `norm(x) * (1 + gamma) + beta`; the label map is resized to each feature
size the way PyTorch's nearest does (top-left sampling). The residual block uses `fmiddle = min(fin, fout)`, a
learned shortcut (SPADE -> 1x1 conv without bias) when fin != fout, and spectral norm on conv_0, conv_1 and conv_s only.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, nearest_resize_to, register
from lggan_tf.layers.norms import make_norm


@register
class SPADE(keras.layers.Layer):
    """Spatially-adaptive normalisation. call(x [B,h,w,C], seg [B,H,W,S]) -> [B,h,w,C]."""

    def __init__(self, norm="syncbatch", hidden=128, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.norm_kind, self.hidden, self.kernel_size = norm, int(hidden), int(kernel_size)
        self.norm = make_norm(norm, name="param_free_norm")
        self.mlp_shared = Conv(self.hidden, self.kernel_size, name="mlp_shared")
        self.mlp_gamma = self.mlp_beta = None

    def build(self, x_shape, seg_shape):
        c = int(x_shape[-1])
        self.mlp_gamma = Conv(c, self.kernel_size, name="mlp_gamma")
        self.mlp_beta = Conv(c, self.kernel_size, name="mlp_beta")
        self.norm.build(x_shape)
        hid_shape = (seg_shape[0], x_shape[1], x_shape[2], self.hidden)
        self.mlp_shared.build((seg_shape[0], x_shape[1], x_shape[2], seg_shape[-1]))
        self.mlp_gamma.build(hid_shape)
        self.mlp_beta.build(hid_shape)

    def call(self, x, seg, training=None):
        normalized = self.norm(x, training=training)
        seg = nearest_resize_to(tf.cast(seg, self.compute_dtype), int(x.shape[1]), int(x.shape[2]))
        actv = tf.nn.relu(self.mlp_shared(seg))
        gamma, beta = self.mlp_gamma(actv), self.mlp_beta(actv)
        return normalized * (1.0 + gamma) + beta

    def compute_output_shape(self, x_shape, seg_shape):
        return x_shape

    def get_config(self):
        return {**super().get_config(), "norm": self.norm_kind, "hidden": self.hidden,
                "kernel_size": self.kernel_size}


@register
class SPADEResBlock(keras.layers.Layer):
    """SPADEResnetBlock(fin -> fout). call(x [B,h,w,fin], seg [B,H,W,S]) -> [B,h,w,fout]."""

    def __init__(self, filters, norm="syncbatch", hidden=128, spectral=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.norm_kind, self.hidden, self.spectral = int(filters), norm, int(hidden), bool(spectral)

    def build(self, x_shape, seg_shape):
        fin, fout = int(x_shape[-1]), self.filters
        fmid = min(fin, fout)
        self.learned_shortcut = fin != fout
        self.norm_0 = SPADE(self.norm_kind, self.hidden, name="norm_0")
        self.conv_0 = Conv(fmid, 3, spectral=self.spectral, name="conv_0")
        self.norm_1 = SPADE(self.norm_kind, self.hidden, name="norm_1")
        self.conv_1 = Conv(fout, 3, spectral=self.spectral, name="conv_1")
        self.norm_0.build(x_shape, seg_shape)
        self.conv_0.build(x_shape)
        mid_shape = tuple(x_shape[:-1]) + (fmid,)
        self.norm_1.build(mid_shape, seg_shape)
        self.conv_1.build(mid_shape)
        if self.learned_shortcut:
            self.norm_s = SPADE(self.norm_kind, self.hidden, name="norm_s")
            self.conv_s = Conv(fout, 1, spectral=self.spectral, use_bias=False, name="conv_s")
            self.norm_s.build(x_shape, seg_shape)
            self.conv_s.build(x_shape)

    def call(self, x, seg, training=None):
        if self.learned_shortcut:
            x_s = self.conv_s(self.norm_s(x, seg, training=training), training=training)
        else:
            x_s = x
        dx = self.conv_0(tf.nn.leaky_relu(self.norm_0(x, seg, training=training), 0.2), training=training)
        dx = self.conv_1(tf.nn.leaky_relu(self.norm_1(dx, seg, training=training), 0.2), training=training)
        return x_s + dx

    def compute_output_shape(self, x_shape, seg_shape):
        return tuple(x_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "norm": self.norm_kind, "hidden": self.hidden,
                "spectral": self.spectral}
