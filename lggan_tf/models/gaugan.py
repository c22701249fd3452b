"""GauGAN (SPADE) generator, optionally with SAU or any registry upsampler ("GauGAN+SAU", paper Table 11-12).

Input: the one-hot semantic map (+ instance edges) `seg` [B,H,W,S]. Without the VAE the label map is resized to the
latent size (sh, sw) and a 3x3 conv (`fc`, semantic_nc -> 16nf) starts the decoder; with `use_vae` a style encoder
gives (mu, logvar), z = mu + exp(logvar / 2) * eps (or z ~ N(0, I) without an image) and a dense layer starts it.
Outputs (dict): `image` [B,H,W,3] in [-1, 1]; with the VAE also `mu`, `logvar` [B,z_dim].
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.common import Conv, nearest_resize_to, official_init, register
from lggan_tf.models.encoders import VAEEncoder
from lggan_tf.models.spade_decoder import NUM_UPSAMPLING, SPADEDecoder, latent_size


@register
class GauGANGenerator(keras.layers.Layer):
    """GauGAN generator. call(seg [B,H,W,S], image=None [B,H,W,3], training) -> dict (see module docstring)."""

    def __init__(self, semantic_nc, crop_size=256, aspect_ratio=1.0, num_upsampling_layers="normal", ngf=64,
                 norm="syncbatch", spade_hidden=128, upsampler="nearest", upsampler_options=None,
                 upsample_all=False, use_vae=False, z_dim=256, vae_input_size=256, recompute=(), seed=0,
                 **kwargs):
        super().__init__(**kwargs)
        self.semantic_nc, self.crop_size, self.aspect_ratio = int(semantic_nc), int(crop_size), float(aspect_ratio)
        self.num_upsampling_layers, self.ngf = num_upsampling_layers, int(ngf)
        self.use_vae, self.z_dim, self.vae_input_size = bool(use_vae), int(z_dim), int(vae_input_size)
        self.seed = int(seed)
        self.latent_hw = latent_size(self.crop_size, self.aspect_ratio, num_upsampling_layers)
        self.decoder = SPADEDecoder(ngf, num_upsampling_layers, norm, spade_hidden, upsampler, upsampler_options,
                                    upsample_all, recompute, name="decoder")
        sh, sw = self.latent_hw
        if self.use_vae:
            self.fc = keras.layers.Dense(16 * self.ngf * sh * sw, kernel_initializer=official_init(), name="fc")
            self.encoder = VAEEncoder(self.ngf, self.z_dim, self.vae_input_size, name="encoder")
            self.seed_generator = keras.random.SeedGenerator(self.seed, name="noise_seed")
        else:
            self.fc = Conv(16 * self.ngf, 3, name="fc")

    @property
    def output_hw(self):
        sh, sw = self.latent_hw
        scale = 2 ** NUM_UPSAMPLING[self.num_upsampling_layers]
        return sh * scale, sw * scale

    def build(self, seg_shape):
        b = seg_shape[0]
        sh, sw = self.latent_hw
        if self.use_vae:
            self.fc.build((b, self.z_dim))
            self.encoder.build((b, seg_shape[1], seg_shape[2], 3))
        else:
            self.fc.build((b, sh, sw, self.semantic_nc))
        self.decoder.build((b, sh, sw, 16 * self.ngf), seg_shape)

    def call(self, seg, image=None, training=None):
        sh, sw = self.latent_hw
        outputs = {}
        if self.use_vae:
            batch = tf.shape(seg)[0]
            eps = keras.random.normal((batch, self.z_dim), seed=self.seed_generator)
            if image is not None:
                mu, logvar = self.encoder(image, training=training)
                z = mu + tf.exp(0.5 * logvar) * tf.cast(eps, mu.dtype)
                outputs.update(mu=mu, logvar=logvar)
            else:
                z = eps
            x = tf.reshape(self.fc(z), [-1, sh, sw, 16 * self.ngf])
        else:
            x = self.fc(nearest_resize_to(tf.cast(seg, self.compute_dtype), sh, sw))
        outputs["image"] = self.decoder(x, seg, training=training)
        return outputs

    def get_config(self):
        d = self.decoder
        return {**super().get_config(), "semantic_nc": self.semantic_nc, "crop_size": self.crop_size,
                "aspect_ratio": self.aspect_ratio, "num_upsampling_layers": self.num_upsampling_layers,
                "ngf": self.ngf, "norm": d.norm, "spade_hidden": d.spade_hidden, "upsampler": d.upsampler,
                "upsampler_options": d.upsampler_options, "upsample_all": d.upsample_all,
                "use_vae": self.use_vae, "z_dim": self.z_dim, "vae_input_size": self.vae_input_size,
                "recompute": list(d.recompute), "seed": self.seed}
