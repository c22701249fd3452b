"""What the discriminator judges in one training step (eager, no tf.function trace): I_C only by default (the paper's
Eq. (9)), I_C, I_G and I_L with d_judges='all' (the official code), and ablation B1's single image once either way."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lggan_tf import losses
from lggan_tf.models import build_discriminator
from lggan_tf.train_steps import GANSteps

B, SIZE, LABEL_NC = 2, 32, 4


class SpyDiscriminator:
    """Records the batch size of every D call (one batched call = the judged fakes and the real image)."""

    def __init__(self, discriminator):
        self.discriminator, self.batches = discriminator, []

    def __call__(self, x, training=None):
        self.batches.append(int(x.shape[0]))
        return self.discriminator(x, training=training)

    @property
    def trainable_variables(self):
        return self.discriminator.trainable_variables


def batch():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, LABEL_NC, size=(B, SIZE, SIZE))
    seg = np.concatenate([np.eye(LABEL_NC, dtype=np.float32)[labels], np.zeros((B, SIZE, SIZE, 1), np.float32)], -1)
    return {"label": tf.constant(labels, tf.int32), "semantic": tf.constant(seg),
            "image": tf.constant(rng.uniform(-1, 1, (B, SIZE, SIZE, 3)).astype(np.float32))}


class StandInGenerator(keras.layers.Layer):
    """Returns the output dict of LGGANGenerator (a 1x1 conv per image stands in for the networks): with
    `local=False` the B1 form, where `image` is the very tensor `image_global`."""

    def __init__(self, local):
        super().__init__()
        self.local = local
        self.conv_g = keras.layers.Conv2D(3, 1)
        if local:
            self.conv_i, self.conv_l = keras.layers.Conv2D(3, 1), keras.layers.Conv2D(3, 1)

    def build(self, seg_shape):
        for conv in (self.conv_i, self.conv_g, self.conv_l) if self.local else (self.conv_g,):
            conv.build(seg_shape)

    def call(self, seg, training=None):
        image_global = tf.tanh(self.conv_g(seg))
        if not self.local:
            return {"image_global": image_global, "image": image_global}
        image_local = tf.tanh(self.conv_l(seg))
        return {"image_global": image_global, "image_local": image_local,
                "image": 0.5 * (image_local + image_global) + 0.1 * self.conv_i(seg)}


@pytest.fixture(scope="module")
def generators():
    return {"B1": StandInGenerator(local=False), "B5": StandInGenerator(local=True)}


@pytest.mark.parametrize("ablation, d_judges, judged", [
    ("B1", None, 1), ("B1", "all", 1),  # B1: I_C is I_G, one image (before: judged twice)
    ("B5", None, 1), ("B5", "fused", 1), ("B5", "all", 3),
])
def test_step_sends_each_judged_image_once(generators, ablation, d_judges, judged):
    d = build_discriminator(LABEL_NC + 1, ndf=4)
    spy = SpyDiscriminator(d)
    kwargs = {} if d_judges is None else {"d_judges": d_judges}
    steps = GANSteps(tf.distribute.get_strategy(), generators[ablation], spy, keras.optimizers.Adam(0.0),
                     keras.optimizers.Adam(0.0), losses.LossWeights(vgg=0.0), global_batch=B, **kwargs)
    scalars, visuals = steps._g_replica_step(batch(), tf.constant(1, tf.int64))
    d_scalars = steps._d_replica_step(batch())
    assert spy.batches == [(judged + 1) * B] * 2  # G step and D step: the judged fakes plus the real image
    # The D loss counts the real hinge term once per judged fake (official form), so B1 and the fused default
    # weigh it once.
    assert np.isfinite(float(d_scalars["d_total"])) and np.isfinite(float(scalars["g_total"]))
    assert {"image", "image_global"} <= set(visuals)  # the summaries still show every image


def test_unknown_d_judges_is_a_clear_error(generators):
    with pytest.raises(ValueError, match="d_judges must be one of"):
        GANSteps(tf.distribute.get_strategy(), generators["B5"], None, None, None, losses.LossWeights(vgg=0.0),
                 d_judges="every")


def test_config_choices_match_the_library():
    from lggan_tf.layers.classifier import CLASS_POOLINGS
    from lggan_tf.models.lggan import WEIGHT_MAP_HEADS
    from lggan_tf import train_config

    assert train_config.D_JUDGES == losses.D_JUDGES
    assert train_config.WEIGHT_MAP_HEADS == WEIGHT_MAP_HEADS and train_config.CLASS_POOLINGS == CLASS_POOLINGS
    # a run directory written before these options existed trained the official behaviour
    old = {k: v for k, v in train_config.TrainConfig().to_dict().items() if k not in train_config.PAPER_OR_OFFICIAL}
    restored = train_config.TrainConfig.from_dict(old)
    assert (restored.d_judges, restored.weight_map_head, restored.class_pooling) == ("all", "official", "official")
