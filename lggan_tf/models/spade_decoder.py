"""The SPADE decoder: GauGAN's generator body and LGGAN's global generator G_g (paper §3.3, Fig. 2).

spade_official_code.md §1.3: head_0 (16nf) -> up -> G_middle_0 (16nf) -> [up] -> G_middle_1 (16nf) -> up -> up_0 (8nf)
-> up -> up_1 (4nf) -> up -> up_2 (2nf) -> up -> up_3 (nf) [-> up -> up_4 (nf/2)] -> LReLU(0.2) -> conv 3x3 -> tanh.
Every x2 "up" at a width-changing block (up_0..up_4) is built from the upsampler registry (Table 12; GauGAN+SAU is
"replace the feature upsampling layer in GauGAN with our SAU layer"); the ups in front of G_middle_0/1 stay nearest
unless `upsample_all=True`. That placement reproduces the paper's Table 12 parameter counts for deconvolution,
pixel shuffle and SAU exactly (docs/fidelity.md).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, register, upsample_nearest
from lggan_tf.layers.recompute import recompute_grad
from lggan_tf.layers.spade import SPADEResBlock

NUM_UPSAMPLING = {"normal": 5, "more": 6, "most": 7}


def latent_size(crop_size: int, aspect_ratio: float, num_upsampling_layers: str):
    """(sh, sw) of the decoder input: sw = crop // 2**n_up, sh = round(sw / aspect) (spade_official_code.md §1.2)."""
    if num_upsampling_layers not in NUM_UPSAMPLING:
        raise ValueError(f"num_upsampling_layers must be one of {sorted(NUM_UPSAMPLING)}, "
                         f"got {num_upsampling_layers!r}")
    sw = crop_size // 2 ** NUM_UPSAMPLING[num_upsampling_layers]
    sh = round(sw / aspect_ratio)
    if sw < 1 or sh < 1:
        raise ValueError(f"crop_size {crop_size} is too small for num_upsampling_layers="
                         f"{num_upsampling_layers!r}: the decoder would start below 1 pixel")
    return sh, sw


@register
class SPADEDecoder(keras.layers.Layer):
    """call(x [B,sh,sw,16nf], seg [B,H,W,S]) -> image [B,H,W,3] in [-1, 1].

    Args:
      ngf: base width nf. num_upsampling_layers: normal | more | most. norm: SPADE param-free norm.
      spade_hidden: SPADE hidden width (128). upsampler / upsampler_options: registry name for the width-changing
      ups. upsample_all: also use it in front of G_middle_0/1. recompute: names of blocks whose activations are
      recomputed in the backward pass (e.g. ("up_2", "up_3")).
    """

    BLOCK_WIDTHS = (("head_0", 16), ("G_middle_0", 16), ("G_middle_1", 16), ("up_0", 8), ("up_1", 4), ("up_2", 2),
                    ("up_3", 1), ("up_4", 0.5))

    def __init__(self, ngf=64, num_upsampling_layers="normal", norm="syncbatch", spade_hidden=128,
                 upsampler="nearest", upsampler_options=None, upsample_all=False, recompute=(), **kwargs):
        super().__init__(**kwargs)
        self.ngf, self.num_upsampling_layers, self.norm = int(ngf), num_upsampling_layers, norm
        self.spade_hidden, self.upsampler = int(spade_hidden), upsampler
        self.upsampler_options = dict(upsampler_options or {})
        self.upsample_all, self.recompute = bool(upsample_all), tuple(recompute)
        if num_upsampling_layers not in NUM_UPSAMPLING:
            raise ValueError(f"num_upsampling_layers must be one of {sorted(NUM_UPSAMPLING)}, "
                             f"got {num_upsampling_layers!r}")
        names = [n for n, _ in self.BLOCK_WIDTHS if n != "up_4" or num_upsampling_layers == "most"]
        self.block_names = tuple(names)
        for name, width in self.BLOCK_WIDTHS:
            if name in names:
                setattr(self, name, SPADEResBlock(int(width * self.ngf), norm, self.spade_hidden, name=name))
        self.conv_img = Conv(3, 3, name="conv_img")

    def _up_positions(self):
        """Block names preceded by a x2 upsampling, in order."""
        ups = ["G_middle_0"]
        if self.num_upsampling_layers in ("more", "most"):
            ups.append("G_middle_1")
        return ups + [n for n in self.block_names if n.startswith("up_")]

    def build(self, x_shape, seg_shape):
        from lggan_tf.layers.upsampling import build_upsampler

        b, h, w, c = x_shape
        shape = (b, h, w, c)
        for name in self.block_names:
            if name in self._up_positions():
                if name.startswith("up_") or self.upsample_all:
                    layer = build_upsampler(self.upsampler, shape[-1], scale=2, **self.upsampler_options)
                    layer.build(shape)
                    setattr(self, f"upsample_{name}", layer)
                shape = (b, shape[1] * 2, shape[2] * 2, shape[3])
            block = getattr(self, name)
            block.build(shape, seg_shape)
            shape = block.compute_output_shape(shape, seg_shape)
        self.conv_img.build(shape)

    def _upsample(self, name, x):
        layer = getattr(self, f"upsample_{name}", None)
        return upsample_nearest(x, 2) if layer is None else layer(x)

    def call(self, x, seg, training=None):
        ups = self._up_positions()
        for name in self.block_names:
            block = getattr(self, name)

            def stage(a, s, name=name, block=block):  # [upsampling ->] SPADE residual block
                a = self._upsample(name, a) if name in ups else a
                return block(a, s, training=training)

            if name in self.recompute and training:  # the upsampler's activations are recomputed with the block
                x = recompute_grad(stage)(x, tf.cast(seg, x.dtype))
            else:
                x = stage(x, seg)
        return tf.tanh(self.conv_img(tf.nn.leaky_relu(x, 0.2)))

    def get_config(self):
        return {**super().get_config(), "ngf": self.ngf, "num_upsampling_layers": self.num_upsampling_layers,
                "norm": self.norm, "spade_hidden": self.spade_hidden, "upsampler": self.upsampler,
                "upsampler_options": self.upsampler_options, "upsample_all": self.upsample_all,
                "recompute": list(self.recompute)}
