"""The distributed generator and discriminator steps (official order: one G step, then one D step on the same batch).

Per replica: per-example losses [B] (lggan_tf.losses) averaged over the *global* batch with
`tf.nn.compute_average_loss`, gradients applied with the replica-summing optimisers, scalars SUM-reduced across
replicas (tf_keras_notes.md §4). The D step re-runs G (train mode, as the official code) and detaches the fakes.
D judges the fakes `losses.judged_keys` names (`d_judges`: 'fused' = I_C only, Eq. (9); 'all' = each distinct
image of I_C, I_G, I_L, the official code; ablation B1's I_C = I_G once) and the real image in one batched call on
concat(seg, image) (instance norm and the patch losses are per example, so batching changes nothing but speed;
spectral norm then does one power iteration per step and network instead of one per fake).
Cross-view (`CrossViewSteps`): the official order, one G forward, the D_i + D_s update, then the G update.
"""

from __future__ import annotations

import dataclasses

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
      global_batch: images per step over all replicas. use_vae: call G(seg, image) (GauGAN VAE; SEAN, whose style
        image is the ground truth, as the official code).
      jit_compile: XLA-compile the replica steps. inject_nan_at_step: testing hook, > 0 adds NaN to the G loss
        term `g_gan` at that (1-based) step. d_judges: what D judges (losses.D_JUDGES; 'fused' = I_C, Eq. (9)).

    Batches: dicts with `label` int32 [b,H,W], `image` float32 [b,H,W,3], `semantic` float32 [b,H,W,S].
    g_step returns ({name: scalar}, {visual: per-replica tensor}); d_step returns {name: scalar}.
    """

    def __init__(self, strategy, generator, discriminator, g_optimizer, d_optimizer, weights, vgg=None,
                 gan_mode="hinge", global_batch=1, use_vae=False, jit_compile=False, inject_nan_at_step=0,
                 d_judges="fused"):
        self.strategy, self.generator, self.discriminator = strategy, generator, discriminator
        losses.judged_keys({}, d_judges)  # raises on an unknown name
        self.d_judges = d_judges
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.weights, self.vgg, self.gan_mode = weights, vgg, gan_mode
        self.global_batch, self.use_vae = int(global_batch), bool(use_vae)
        self.inject_nan_at_step = int(inject_nan_at_step)
        # autograph=False: the steps (and every layer they call) have no tensor-dependent Python control flow, so
        # AutoGraph's source-to-source conversion of each call (~20 % of tracing on CPU) is skipped; a tensor used
        # as a Python bool in a step now fails loudly at trace time instead of being converted.
        self._g_replica = tf.function(self._g_replica_step, jit_compile=jit_compile or None, autograph=False)
        self._d_replica = tf.function(self._d_replica_step, jit_compile=jit_compile or None, autograph=False)
        self.g_step = tf.function(self._g_step, autograph=False)
        self.d_step = tf.function(self._d_step, autograph=False)

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
            fakes = {k: outputs[k] for k in losses.judged_keys(outputs, self.d_judges)}
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
                   **{k: tf.cast(outputs[k], tf.float32) for k in VISUAL_KEYS if k in outputs}}
        if "weight_map" in outputs:
            visuals["weight_map"] = tf.cast(outputs["weight_map"][..., 0], tf.float32)
        return scalars, visuals

    def _d_replica_step(self, batch):
        seg, real = batch["semantic"], batch["image"]
        outputs = self._generate(seg, real)
        fakes = {k: tf.stop_gradient(outputs[k]) for k in losses.judged_keys(outputs, self.d_judges)}
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


class CrossViewSteps:
    """One `train_step(batch, step)` tf.function in the official cross-view order (CV/models/lggan_model.py): one G
    forward, update D_i and D_s (one optimiser) on the detached fakes, then update G against the updated Ds using
    the same forward. Saves the second G forward of the synthesis order.

    Args as GANSteps, with `discriminator` a DualDiscriminator (sigmoid outputs when gan_mode == 'original', the
    official BCE; logits with the other modes). Batches: `input_image`, `image`, `semantic` [b,H,W,3], `masks`
    [b,H,W,N] (datasets/cross_view.py). train_step returns ({name: scalar}, {visual: per-replica tensor}).
    """

    def __init__(self, strategy, generator, discriminator, g_optimizer, d_optimizer, weights, vgg=None,
                 gan_mode="original", global_batch=1, jit_compile=False, inject_nan_at_step=0, d_judges="fused"):
        self.strategy, self.generator, self.discriminator = strategy, generator, discriminator
        losses.judged_keys({}, d_judges)  # raises on an unknown name
        self.d_judges = d_judges
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.weights, self.vgg, self.gan_mode = weights, vgg, gan_mode
        self.sigmoid = gan_mode == "original"
        self.global_batch, self.inject_nan_at_step = int(global_batch), int(inject_nan_at_step)
        self._replica = tf.function(self._replica_step, jit_compile=jit_compile or None, autograph=False)  # as GANSteps
        self.train_step = tf.function(self._train_step, autograph=False)

    def _average(self, per_example):
        return tf.nn.compute_average_loss(tf.cast(per_example, tf.float32), global_batch_size=self.global_batch)

    def _discriminate(self, batch, fakes: dict):
        """D_i and D_s on [fake_1; ...; fake_k; real] in one batched call each -> ({key: out}, real out) x 2."""
        keys, n = list(fakes), len(fakes) + 1
        images = tf.concat([tf.cast(fakes[k], tf.float32) for k in keys] + [batch["image"]], axis=0)
        d_i, d_s = self.discriminator(tf.concat([batch["input_image"]] * n, 0), tf.concat([batch["semantic"]] * n, 0),
                                      images, training=True)
        split_i, split_s = split_discriminator_output(d_i, n), split_discriminator_output(d_s, n)
        return (dict(zip(keys, split_i[:-1])), split_i[-1]), (dict(zip(keys, split_s[:-1])), split_s[-1])

    def _d_terms(self, image_pair, semantic_pair):
        if self.sigmoid:
            return losses.cross_view_discriminator_loss(*image_pair, *semantic_pair, sigmoid_outputs=True)
        terms = {}
        for tag, (fakes, real) in (("di", image_pair), ("ds", semantic_pair)):
            terms[f"d_{tag}_fake"] = tf.add_n([losses.gan_loss(f, False, self.gan_mode) for f in fakes.values()])
            terms[f"d_{tag}_real"] = float(len(fakes)) * losses.gan_loss(real, True, self.gan_mode)
        return 0.5 * tf.add_n(list(terms.values())), terms

    def _g_terms(self, outputs, batch, image_pair, semantic_pair):
        weights = self.weights if self.sigmoid else dataclasses.replace(self.weights, gan=0.0)
        _, terms = losses.cross_view_generator_loss(outputs, batch["image"], batch["masks"], image_pair[0],
                                                    semantic_pair[0], weights, self.vgg, sigmoid_outputs=True)
        if not self.sigmoid and self.weights.use_gan:
            for tag, fakes in (("di", image_pair[0]), ("ds", semantic_pair[0])):
                terms[f"g_gan_{tag}"] = tf.add_n([losses.gan_generator_loss(f, self.gan_mode) for f in fakes.values()])
        if self.weights.use_class_ce and "class_logits" in outputs:
            from lggan_tf.layers.classifier import per_example_class_cross_entropy

            terms["g_class"] = tf.cast(per_example_class_cross_entropy(outputs["class_logits"],
                                                                       outputs["class_valid"]), tf.float32)
        return terms

    def _replica_step(self, batch, step):
        g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
        with tf.GradientTape() as g_tape:
            outputs = self.generator(tf.concat([batch["input_image"], batch["semantic"]], -1), batch["masks"],
                                     training=True)
            fakes = {k: outputs[k] for k in losses.judged_keys(outputs, self.d_judges)}
            with g_tape.stop_recording():  # D update on the detached fakes of this forward
                with tf.GradientTape() as d_tape:
                    pairs = self._discriminate(batch, {k: tf.stop_gradient(v) for k, v in fakes.items()})
                    d_total, d_terms = self._d_terms(*pairs)
                    d_loss = self._average(d_total)
                    d_scaled = self.d_optimizer.scale_loss(d_loss)
                self.d_optimizer.apply(d_tape.gradient(d_scaled, d_vars), d_vars)
            terms = self._g_terms(outputs, batch, *self._discriminate(batch, fakes))  # against the updated Ds
            if self.inject_nan_at_step > 0 and "g_gan_di" in terms:
                nan = tf.fill(tf.shape(terms["g_gan_di"]), float("nan"))
                terms["g_gan_di"] = tf.where(tf.equal(step, self.inject_nan_at_step), nan, terms["g_gan_di"])
            g_loss = self._average(losses.weighted_total(terms, self.weights))
            g_scaled = self.g_optimizer.scale_loss(g_loss)
        self.g_optimizer.apply(g_tape.gradient(g_scaled, g_vars), g_vars)
        scalars = {"g_total": g_loss, "d_total": d_loss,
                   **{name: self._average(value) for name, value in {**terms, **d_terms}.items()}}
        visuals = {"input": batch["input_image"], "semantic": batch["semantic"], "real": batch["image"],
                   **{k: tf.cast(outputs[k], tf.float32) for k in VISUAL_KEYS if k in outputs}}
        if "weight_map" in outputs:
            visuals["weight_map"] = tf.cast(outputs["weight_map"][..., 0], tf.float32)
        return scalars, visuals

    def _train_step(self, batch, step):
        scalars, visuals = self.strategy.run(self._replica, args=(batch, step))
        return {k: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None) for k, v in scalars.items()}, visuals

    @property
    def traces(self) -> int:
        """How many times the step was traced (1 = once)."""
        return self.train_step.experimental_get_tracing_count()

    local_visuals = GANSteps.local_visuals
