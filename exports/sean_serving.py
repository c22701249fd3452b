"""Serving endpoints of a SEAN / SEAN+SAU generator: the label-map signatures of exports/serving.py rendered with
the run's mean style codes, plus `style` (per-region styles from a reference image).

  style: label_map int32 [B,H,W], style_image uint8 [B,H,W,3], style_label int32 [B,H,W] -> image uint8 [B,H,W,3]
         Codes come from the style image's regions (Zencoder + region-wise average pooling over style_label); the
         classes of label_map that style_label lacks take the mean code. All three inputs are checked in the graph
         (rank, size, class range) with InvalidArgument messages saying what was expected.
The other signatures use the mean code of every class (`python -m lggan_tf.mean_style_codes`; zeros when the run
has none, which `assets/classes.json` records as "mean_style_codes": false).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from datasets.transforms import semantic_from_labels
from exports.serving import SynthesisEndpoints, _check_shape, _spec_view, to_uint8
from lggan_tf.layers.common import nearest_resize_to


class SEANEndpoints(SynthesisEndpoints):
    """SynthesisEndpoints for a SEANGenerator; `mean_codes` float32 [S, D] (None = zeros)."""

    def __init__(self, generator, contract, mean_codes=None):
        self.mean_codes = tf.constant(np.zeros((generator.semantic_nc, generator.style_dim), np.float32)
                                      if mean_codes is None else np.asarray(mean_codes, np.float32))
        super().__init__(generator, contract)
        c = contract
        self.generate_styled = tf.function(
            self._generate_styled, autograph=False,
            input_signature=[tf.TensorSpec([c.batch_size, c.height, c.width, c.semantic_nc], tf.float32),
                             tf.TensorSpec([c.batch_size, c.height, c.width, 3], tf.float32),
                             tf.TensorSpec([c.batch_size, c.height, c.width, c.semantic_nc], tf.float32)])

    def _mean_batch(self, seg):
        return tf.tile(self.mean_codes[None], [tf.shape(seg)[0], 1, 1])

    def _generate(self, seg):
        return {"image": tf.cast(self.generator(seg, style_codes=self._mean_batch(seg), training=False)["image"],
                                 tf.float32)}

    def _generate_styled(self, seg, image, style_seg):
        g, c = self.generator, self.contract
        codes = tf.cast(g.encode_styles(image, style_seg), tf.float32)
        present = tf.reduce_max(nearest_resize_to(style_seg, c.height // 2, c.width // 2), axis=[1, 2]) > 0
        codes = tf.where(present[..., None], codes, self._mean_batch(seg))
        return tf.cast(g(seg, style_codes=codes, training=False)["image"], tf.float32)

    def style(self, label_map, style_image, style_label):
        c = self.contract
        image = _check_shape(style_image, [c.batch_size, c.height, c.width, 3],
                             f"style_image: expected uint8 [{c.batch_dims}, {c.height}, {c.width}, 3] (RGB, the "
                             "label map's size)")
        seg = self.semantic(label_map)
        style_seg = semantic_from_labels(c.check_labels(style_label, "style_label"), None, _spec_view(c))
        batch_ok = tf.debugging.assert_equal(tf.shape(image)[0], tf.shape(seg)[0],
                                             message="style_image, style_label: one per label_map (same batch)")
        with tf.control_dependencies([batch_ok]):
            image = tf.cast(image, tf.float32) / 127.5 - 1.0
        return {"image": to_uint8(self.generate_styled(seg, image, style_seg))}

    def endpoints(self):
        items = super().endpoints()
        items.append(("style", self.style, [tf.TensorSpec(None, tf.int32, name="label_map"),
                                            tf.TensorSpec(None, tf.uint8, name="style_image"),
                                            tf.TensorSpec(None, tf.int32, name="style_label")]))
        return items


__all__ = ["SEANEndpoints"]
