"""Encoders: LGGAN's parameter-sharing encoder E (paper §3.1) and GauGAN's VAE style encoder.

E (lggan_official_code.md §1.4): reflect-pad3 conv 7x7 -> nf, then four conv 3x3 s2 p1 -> 2nf, 4nf (x_enc, read by
G_l and G_w), 8nf, 16nf, each followed by affine-free InstanceNorm and ReLU; the last map is resized with PyTorch
nearest (top-left sampling) to the decoder's latent size.
VAE encoder (spade_official_code.md §1.7): the image resized (bilinear) to `input_size`, 6 (5 below 256 px) spectral
conv 3x3 s2 (no bias) + InstanceNorm + LeakyReLU(0.2), flatten, fc_mu and fc_var. Width nef = ngf (64).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.blocks import ConvNormAct
from lggan_tf.layers.common import Conv, nearest_resize_to, official_init, register
from lggan_tf.layers.norms import InstanceNorm


@register
class SharedEncoder(keras.layers.Layer):
    """call(seg [B,H,W,S]) -> {"x_enc": [B,H/4,W/4,4nf], "latent": [B,sh,sw,16nf]}."""

    def __init__(self, ngf=64, latent_hw=(4, 8), **kwargs):
        super().__init__(**kwargs)
        self.ngf, self.latent_hw = int(ngf), tuple(int(v) for v in latent_hw)
        nf = self.ngf
        self.conv1 = ConvNormAct(nf, 7, pad_mode="reflect", name="conv1")
        self.conv2 = ConvNormAct(2 * nf, 3, 2, 1, name="conv2")
        self.conv3 = ConvNormAct(4 * nf, 3, 2, 1, name="conv3")
        self.conv4 = ConvNormAct(8 * nf, 3, 2, 1, name="conv4")
        self.conv5 = ConvNormAct(16 * nf, 3, 2, 1, name="conv5")

    def build(self, input_shape):
        shape = input_shape
        for name in ("conv1", "conv2", "conv3", "conv4", "conv5"):
            layer = getattr(self, name)
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, seg):
        x_enc = self.conv3(self.conv2(self.conv1(seg)))
        x = self.conv5(self.conv4(x_enc))
        return {"x_enc": x_enc, "latent": nearest_resize_to(x, *self.latent_hw)}

    def get_config(self):
        return {**super().get_config(), "ngf": self.ngf, "latent_hw": list(self.latent_hw)}


@register
class VAEEncoder(keras.layers.Layer):
    """call(image [B,H,W,3]) -> (mu [B,z_dim], logvar [B,z_dim]). 10,463,424 parameters at the official size."""

    def __init__(self, nef=64, z_dim=256, input_size=256, **kwargs):
        super().__init__(**kwargs)
        self.nef, self.z_dim, self.input_size = int(nef), int(z_dim), int(input_size)
        widths = [self.nef, 2 * self.nef, 4 * self.nef, 8 * self.nef, 8 * self.nef, 8 * self.nef]
        self.num_convs = 6 if self.input_size >= 256 else 5
        for i in range(self.num_convs):
            setattr(self, f"layer{i + 1}", Conv(widths[i], 3, 2, 1, spectral=True, use_bias=False,
                                                name=f"layer{i + 1}"))
            setattr(self, f"norm{i + 1}", InstanceNorm(name=f"norm{i + 1}"))
        self.fc_mu = keras.layers.Dense(self.z_dim, kernel_initializer=official_init(), name="fc_mu")
        self.fc_var = keras.layers.Dense(self.z_dim, kernel_initializer=official_init(), name="fc_var")

    def build(self, input_shape):
        shape = (input_shape[0], self.input_size, self.input_size, int(input_shape[-1]))
        for i in range(self.num_convs):
            layer = getattr(self, f"layer{i + 1}")
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        flat = (input_shape[0], int(shape[1]) * int(shape[2]) * int(shape[3]))
        self.fc_mu.build(flat)
        self.fc_var.build(flat)

    def call(self, image, training=None):
        x = image
        if int(x.shape[1]) != self.input_size or int(x.shape[2]) != self.input_size:
            x = tf.cast(tf.image.resize(x, (self.input_size, self.input_size), "bilinear"), self.compute_dtype)
        for i in range(self.num_convs):
            x = getattr(self, f"norm{i + 1}")(getattr(self, f"layer{i + 1}")(x, training=training))
            x = tf.nn.leaky_relu(x, 0.2)
        x = tf.reshape(x, [tf.shape(x)[0], -1])
        return self.fc_mu(x), self.fc_var(x)

    def get_config(self):
        return {**super().get_config(), "nef": self.nef, "z_dim": self.z_dim, "input_size": self.input_size}
