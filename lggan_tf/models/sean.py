"""SEAN (Zhu et al., CVPR 2020) and SEAN+SAU (paper Table 5, Fig. 11(c)): per-region style codes through ACE.

sean_official_code.md §2: the Zencoder turns the style image into a code map [B,H/2,W/2,D] and region-wise average
pooling with the label map gives one code per semantic channel, style [B,S,D] (§2.3). The body is SPADE's:
fc (3x3, S -> 16nf on the label map resized to the latent size) -> head_0 -> up -> G_middle_0 -> [up] -> G_middle_1
-> up -> up_0 -> up -> up_1 -> up -> up_2 -> up -> up_3 -> LReLU(0.2) -> conv_img (3x3 -> 3) -> tanh, with ACE
residual blocks (lggan_tf/layers/ace.py); up_3 has no style branch. Every "up" is a feature upsampling: nearest for
SEAN, any Table 12 upsampler (`upsampler="sau"` = SEAN+SAU) at all of them (§6 sites U1-U5, U1b under `more`); the
label maps are always resampled PyTorch-nearest. Outputs (dict): `image` [B,H,W,3] in [-1, 1], `style_codes` [B,S,D].

Official key -> Keras variable (converter table; official PyTorch Linear/Conv weights are [out, in(, kh, kw)], Keras
[(kh, kw,) in, out]; `netG.` prefix omitted; B = a block (head_0, G_middle_0/1, up_0..up_3), A = ace_0/ace_1/ace_s):

| official key | Keras variable |
|---|---|
| `Zencoder.model.{1,4,7,14}.weight/bias` | `zencoder/conv_{0,1,2,3}/kernel, bias` (3x3; 14 = the D-channel output conv) |
| `Zencoder.model.10.weight/bias` (ConvTranspose [in, out, 3, 3]) | `zencoder/deconv/deconv/kernel [3,3,out,in]`, `bias` (exactly PyTorch's ConvTranspose2d(3, 2, 1, 1): layers/common.ConvTranspose) |
| `fc.weight/bias` | `fc/kernel, bias` |
| `B.conv_{0,1}.weight_orig/bias, weight_u, weight_v` | `B/conv_{0,1}/kernel, bias, vector_u, vector_v` |
| `B.conv_s.weight_orig, weight_u, weight_v` | `B/conv_s/kernel, vector_u, vector_v` |
| `B.A.noise_var` [C] | `B/A/noise_var` |
| `B.A.blending_gamma/blending_beta` [1] | `B/A/blending_gamma, blending_beta` (scalars) |
| `B.A.fc_mu{j}.weight [D, D] / bias [D]` (j = 0..18) | `B/A/fc_mu_kernel[j] = weight.T`, `B/A/fc_mu_bias[j]` (stacked [R, D, D], [R, D]) |
| `B.A.conv_gamma/conv_beta.weight/bias` | `B/A/conv_gamma, conv_beta/kernel, bias` |
| `B.A.Spade.mlp_shared.0.weight/bias` | `B/A/mlp_shared/kernel, bias` |
| `B.A.Spade.mlp_gamma/mlp_beta.weight/bias` | `B/A/mlp_gamma, mlp_beta/kernel, bias` |
| `B.A.param_free_norm.running_mean/var` | `B/A/param_free_norm/moving_mean, moving_variance` |
| `conv_img.weight/bias` | `conv_img/kernel, bias` |
Official checkpoints hold 19 fc_mu per ACE: build with `num_regions=19` to load them (channels >= 19 then get no
style code, where the official code raises AttributeError).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.ace import ACEResBlock
from lggan_tf.layers.common import Conv, ConvTranspose, nearest_resize_to, register, upsample_nearest
from lggan_tf.layers.norms import InstanceNorm
from lggan_tf.layers.recompute import recompute_grad
from lggan_tf.models.spade_decoder import NUM_UPSAMPLING, latent_size

SEAN_BLOCKS = (("head_0", 16), ("G_middle_0", 16), ("G_middle_1", 16), ("up_0", 8), ("up_1", 4), ("up_2", 2),
               ("up_3", 1))


def region_average(code_map, seg):
    """Region-wise average pooling (§2.3): code_map [B,h,w,D], seg [B,H,W,S] -> [B,S,D] (zeros for absent regions).

    The label map is resized PyTorch-nearest to h x w; sums and areas are taken in float32."""
    mask = nearest_resize_to(tf.cast(seg, tf.float32), int(code_map.shape[1]), int(code_map.shape[2]))
    sums = tf.einsum("bhwd,bhws->bsd", tf.cast(code_map, tf.float32), mask)
    area = tf.reduce_sum(mask, axis=[1, 2])[..., None]  # [B,S,1]
    return tf.math.divide_no_nan(sums, area)


@register
class Zencoder(keras.layers.Layer):
    """SEAN's style encoder: call(image [B,H,W,3], seg [B,H,W,S]) -> style [B,S,D] (region-averaged codes).

    ReflectPad1 conv3x3 3->32, IN, LReLU; conv3x3/2 32->64, IN, LReLU; conv3x3/2 64->128, IN, LReLU;
    ConvTranspose3x3/2 128->256, IN, LReLU; ReflectPad1 conv3x3 256->D, tanh. IN = InstanceNorm(affine=False)
    (the official one declares 64 features on 256 channels; without affine that is a plain instance norm).
    1,568,576 parameters for D = 512.
    """

    def __init__(self, style_dim=512, **kwargs):
        super().__init__(**kwargs)
        self.style_dim = int(style_dim)
        self.conv_0 = Conv(32, 3, pad_mode="reflect", name="conv_0")
        self.conv_1 = Conv(64, 3, strides=2, padding=1, name="conv_1")
        self.conv_2 = Conv(128, 3, strides=2, padding=1, name="conv_2")
        self.deconv = ConvTranspose(256, 3, 2, name="deconv")
        self.conv_3 = Conv(self.style_dim, 3, pad_mode="reflect", name="conv_3")
        self.norm = InstanceNorm(name="norm")

    def build(self, image_shape, seg_shape=None):
        shape = image_shape
        for layer in (self.conv_0, self.conv_1, self.conv_2, self.deconv, self.conv_3):
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def code_map(self, image):
        """[B,H,W,3] -> [B,H/2,W/2,D] in (-1, 1)."""
        x = tf.cast(image, self.compute_dtype)
        for layer in (self.conv_0, self.conv_1, self.conv_2, self.deconv):
            x = tf.nn.leaky_relu(self.norm(layer(x)), 0.2)
        return tf.tanh(self.conv_3(x))

    def call(self, image, seg):
        return region_average(self.code_map(image), seg)

    def get_config(self):
        return {**super().get_config(), "style_dim": self.style_dim}


@register
class SEANGenerator(keras.layers.Layer):
    """SEAN generator. call(seg [B,H,W,S], image=None [B,H,W,3], style_codes=None [B,S,D], training) -> dict.

    The style comes from `style_codes` when given (style transfer, export), else from `image` through the Zencoder
    (training: the ground-truth image, as the official code). Args: semantic_nc S, crop_size / aspect_ratio /
    num_upsampling_layers (normal | more), ngf, style_dim D (512), num_regions (fc_mu per ACE; None = S, 19 =
    official), norm (ACE param-free norm), spade_hidden, upsampler / upsampler_options (every feature up),
    recompute (block names recomputed in the backward pass), seed (ACE noise).
    """

    takes_style_image = True  # evaluation passes the dataset image as the style (lggan_tf.inference.generate_batch)

    def __init__(self, semantic_nc, crop_size=256, aspect_ratio=1.0, num_upsampling_layers="normal", ngf=64,
                 style_dim=512, num_regions=None, norm="syncbatch", spade_hidden=128, upsampler="nearest",
                 upsampler_options=None, recompute=(), seed=0, **kwargs):
        super().__init__(**kwargs)
        if num_upsampling_layers not in ("normal", "more"):
            raise ValueError(f"SEAN: num_upsampling_layers must be 'normal' or 'more', got {num_upsampling_layers!r} "
                             "(the official 'most' builds up_4 but never calls it and crashes)")
        self.semantic_nc, self.crop_size, self.aspect_ratio = int(semantic_nc), int(crop_size), float(aspect_ratio)
        self.num_upsampling_layers, self.ngf, self.style_dim = num_upsampling_layers, int(ngf), int(style_dim)
        self.num_regions = None if num_regions is None else int(num_regions)
        self.norm, self.spade_hidden, self.upsampler = norm, int(spade_hidden), upsampler
        self.upsampler_options, self.recompute, self.seed = dict(upsampler_options or {}), tuple(recompute), int(seed)
        self.latent_hw = latent_size(self.crop_size, self.aspect_ratio, num_upsampling_layers)
        self.zencoder = Zencoder(self.style_dim, name="zencoder")
        self.fc = Conv(16 * self.ngf, 3, name="fc")
        self.block_names = tuple(n for n, _ in SEAN_BLOCKS)
        for i, (name, width) in enumerate(SEAN_BLOCKS):
            setattr(self, name, ACEResBlock(int(width * self.ngf), use_style=name != "up_3", style_dim=self.style_dim,
                                            num_regions=self.num_regions, norm=norm, spade_hidden=self.spade_hidden,
                                            seed=self.seed + 10 * i, name=name))
        self.conv_img = Conv(3, 3, name="conv_img")

    @property
    def output_hw(self):
        sh, sw = self.latent_hw
        scale = 2 ** NUM_UPSAMPLING[self.num_upsampling_layers]
        return sh * scale, sw * scale

    @property
    def up_positions(self):
        """Blocks preceded by a x2 feature upsampling (official forward), in order."""
        more = self.num_upsampling_layers == "more"
        return ("G_middle_0",) + (("G_middle_1",) if more else ()) + ("up_0", "up_1", "up_2", "up_3")

    def build(self, seg_shape):
        from lggan_tf.layers.upsampling import build_upsampler

        b = seg_shape[0]
        sh, sw = self.latent_hw
        style_shape = (b, self.semantic_nc, self.style_dim)
        self.zencoder.build((b, seg_shape[1], seg_shape[2], 3), seg_shape)
        shape = (b, sh, sw, 16 * self.ngf)
        self.fc.build((b, sh, sw, self.semantic_nc))
        for name in self.block_names:
            if name in self.up_positions:
                if self.upsampler != "nearest":
                    layer = build_upsampler(self.upsampler, shape[-1], scale=2, **self.upsampler_options)
                    layer.build(shape)
                    setattr(self, f"upsample_{name}", layer)
                shape = (b, shape[1] * 2, shape[2] * 2, shape[3])
            block = getattr(self, name)
            block.build(shape, seg_shape, style_shape)
            shape = block.compute_output_shape(shape, seg_shape)
        self.conv_img.build(shape)
        # ACE noise counter: a checkpointed variable (a Keras SeedGenerator's state is not in tf.train.Checkpoint),
        # so a resumed run draws the noise of the uninterrupted one
        self.noise_calls = self.add_weight(name="noise_calls", shape=(), dtype="int64", initializer="zeros",
                                           trainable=False, aggregation="only_first_replica", autocast=False)

    def encode_styles(self, image, semantic):
        """Per-region style codes: image [B,H,W,3] in [-1, 1], semantic [B,H,W,S] one-hot -> [B,S,D] (float32)."""
        return self.zencoder(image, semantic)

    def _upsample(self, name, x):
        layer = getattr(self, f"upsample_{name}", None)
        return upsample_nearest(x, 2) if layer is None else layer(x)

    def call(self, seg, image=None, style_codes=None, training=None):
        if style_codes is None:
            if image is None:
                raise ValueError("SEANGenerator needs a style image or style_codes [B, S, D]")
            style_codes = self.encode_styles(image, seg)
        style_codes = tf.cast(style_codes, tf.float32)
        # one seed per call; every ACE derives its noise from it statelessly, so recomputation sees the same noise
        calls = self.noise_calls + 1
        self.noise_calls.assign(calls)
        noise_seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(calls, tf.int64)])
        sh, sw = self.latent_hw
        seg_c = tf.cast(seg, self.compute_dtype)
        x = self.fc(nearest_resize_to(seg_c, sh, sw))
        for name in self.block_names:
            block = getattr(self, name)

            def stage(a, s, codes, name=name, block=block):  # [feature upsampling ->] ACE residual block
                a = self._upsample(name, a) if name in self.up_positions else a
                return block(a, s, codes, training=training, noise_seed=noise_seed)

            if name in self.recompute and training:
                x = recompute_grad(stage)(x, seg_c, style_codes)
            else:
                x = stage(x, seg_c, style_codes)
        image_out = tf.tanh(self.conv_img(tf.nn.leaky_relu(x, 0.2)))
        return {"image": image_out, "style_codes": style_codes}

    def get_config(self):
        return {**super().get_config(), "semantic_nc": self.semantic_nc, "crop_size": self.crop_size,
                "aspect_ratio": self.aspect_ratio, "num_upsampling_layers": self.num_upsampling_layers,
                "ngf": self.ngf, "style_dim": self.style_dim, "num_regions": self.num_regions, "norm": self.norm,
                "spade_hidden": self.spade_hidden, "upsampler": self.upsampler,
                "upsampler_options": self.upsampler_options, "recompute": list(self.recompute), "seed": self.seed}
