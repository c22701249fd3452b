"""The distributed generator and discriminator steps (official order: one G step, then one D step on the same batch).

Per replica: per-example losses [B] (lggan_tf.losses) averaged over the *global* batch with
`tf.nn.compute_average_loss`, gradients applied with the replica-summing optimisers, scalars SUM-reduced across
replicas (tf_keras_notes.md §4). The D step re-runs G (train mode, as the official code) and detaches the fakes.
D sees every fake of the generator (I_C, I_G, I_L for LGGAN; Eq. (8)) and the real image in one batched call on
concat(seg, image) (instance norm and the patch losses are per example, so batching changes nothing but speed;
spectral norm then does one power iteration per step and network instead of one per fake).
"""

from __future__ import annotations

import tensorflow as tf

from lggan_tf import losses

VISUAL_KEYS = ("image", "image_global", "image_local")


def split_discriminator_output(d_out, n: int):
    """Split every tensor of a D output (list over scales of [f_0, ..., pred]) into n batch chunks."""
    chunks = [[[None] * len(scale) for scale in d_out] for _ in range(n)]
    for s, scale in enumerate(d_out):
        for t, tensor in enumerate(scale):
            for i, part in enumerate(tf.split(tensor, n, axis=0)):
                chunks[i][s][t] = part
    return chunks


class GANSteps:
    """Builds `g_step(batch, step)` and `d_step(batch)` tf.functions for a strategy.

    Args:
      strategy: the tf.distribute strategy the models and optimisers were created under.
      generator, discriminator: built Keras layers (lggan_tf.models).
      g_optimizer, d_optimizer: built Keras optimisers (LossScaleOptimizer for mixed_float16).
      weights: losses.LossWeights. vgg: VGGPerceptual or None. gan_mode: losses.GAN_MODES.
      global_batch: images per step over all replicas. use_vae: call G(seg, image) (GauGAN VAE).
      jit_compile: XLA-compile the replica steps. inject_nan_at_step: testing hook, > 0 adds NaN to the G loss
        term `g_gan` at that (1-based) step.

    Batches: dicts with `label` int32 [b,H,W], `image` float32 [b,H,W,3], `semantic` float32 [b,H,W,S].
    g_step returns ({name: scalar}, {visual: per-replica tensor}); d_step returns {name: scalar}.
    """

    def __init__(self, strategy, generator, discriminator, g_optimizer, d_optimizer, weights, vgg=None,
                 gan_mode="hinge", global_batch=1, use_vae=False, jit_compile=False, inject_nan_at_step=0):
        self.strategy, self.generator, self.discriminator = strategy, generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.weights, self.vgg, self.gan_mode = weights, vgg, gan_mode
        self.global_batch, self.use_vae = int(global_batch), bool(use_vae)
        self.inject_nan_at_step = int(inject_nan_at_step)
        self._g_replica = tf.function(self._g_replica_step, jit_compile=jit_compile or None)
        self._d_replica = tf.function(self._d_replica_step, jit_compile=jit_compile or None)
        self.g_step = tf.function(self._g_step)
        self.d_step = tf.function(self._d_step)

    # --- per replica ------------------------------------------------------------------------------------------
    def _generate(self, seg, real):
        if self.use_vae:
            return self.generator(seg, real, training=True)
        return self.generator(seg, training=True)

    def _discriminate(self, seg, fakes: dict, real):
        """D on [fake_1; ...; fake_k; real] (batch concat) -> ({key: D output}, D output on real)."""
        keys = list(fakes)
        images = tf.concat([tf.cast(fakes[k], tf.float32) for k in keys] + [tf.cast(real, tf.float32)], axis=0)
        segs = tf.concat([seg] * (len(keys) + 1), axis=0)
        d_out = self.discriminator(tf.concat([segs, images], axis=-1), training=True)
        chunks = split_discriminator_output(d_out, len(keys) + 1)
        return dict(zip(keys, chunks[:-1])), chunks[-1]

    def _average(self, per_example):
        return tf.nn.compute_average_loss(tf.cast(per_example, tf.float32), global_batch_size=self.global_batch)

    def _g_replica_step(self, batch, step):
        seg, real = batch["semantic"], batch["image"]
        variables = self.generator.trainable_variables
        with tf.GradientTape() as tape:
            outputs = self._generate(seg, real)
            fakes = {k: outputs[k] for k in VISUAL_KEYS if k in outputs}
            d_fakes, d_real = self._discriminate(seg, fakes, real)
            _, terms = losses.generator_loss(outputs, real, outputs.get("class_masks"), d_fakes, d_real,
                                             self.weights, self.vgg, self.gan_mode)
            if self.inject_nan_at_step > 0 and "g_gan" in terms:
                nan = tf.fill(tf.shape(terms["g_gan"]), float("nan"))
                terms["g_gan"] = tf.where(tf.equal(step, self.inject_nan_at_step), nan, terms["g_gan"])
            total = losses.weighted_total(terms, self.weights)
            loss = self._average(total)
            scaled = self.g_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply(grads, variables)
        scalars = {"g_total": loss, **{name: self._average(value) for name, value in terms.items()}}
        visuals = {"label": batch["label"], "real": tf.cast(real, tf.float32),
                   **{k: tf.cast(v, tf.float32) for k, v in fakes.items()}}
        if "weight_map" in outputs:
            visuals["weight_map"] = tf.cast(outputs["weight_map"][..., 0], tf.float32)
        return scalars, visuals

    def _d_replica_step(self, batch):
        seg, real = batch["semantic"], batch["image"]
        outputs = self._generate(seg, real)
        fakes = {k: tf.stop_gradient(outputs[k]) for k in VISUAL_KEYS if k in outputs}
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            d_fakes, d_real = self._discriminate(seg, fakes, real)
            total, terms = losses.discriminator_loss(d_fakes, d_real, self.gan_mode)
            loss = self._average(total)
            scaled = self.d_optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        self.d_optimizer.apply(grads, variables)
        return {"d_total": loss, **{name: self._average(value) for name, value in terms.items()}}

    # --- cross replica ----------------------------------------------------------------------------------------
    def _reduce(self, scalars: dict) -> dict:
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in scalars.items()}

    def _g_step(self, batch, step):
        scalars, visuals = self.strategy.run(self._g_replica, args=(batch, step))
        return self._reduce(scalars), visuals

    def _d_step(self, batch):
        return self._reduce(self.strategy.run(self._d_replica, args=(batch,)))

    @property
    def traces(self) -> int:
        """How many times the G and D steps were traced (2 = once each)."""
        return sum(f.experimental_get_tracing_count() for f in (self.g_step, self.d_step))

    def local_visuals(self, visuals: dict, max_images: int) -> dict:
        """Per-replica visuals -> {key: numpy [n, ...]} from this worker's replicas, n <= max_images."""
        out = {}
        for key, value in visuals.items():
            parts = self.strategy.experimental_local_results(value)
            out[key] = tf.concat(parts, axis=0)[:max_images].numpy()
        return out
