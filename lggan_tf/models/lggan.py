"""LGGAN / LGGAN++ generator for semantic image synthesis (paper §3, Fig. 2 and 6).

seg [B,H,W,S] --E--> x_enc [B,H/4,W/4,4nf], latent [B,sh,sw,16nf]
latent --G_g (SPADE decoder)--> I_G
x_enc --9 residual blocks, 2 x2 ups--> F [B,H,W,nf] --N class sub-generators on F*M_i (Eq. (2))--> U [B,H,W,N,3]
U --sum (Eq. (4)) or conv (Eq. (5))--> I_L;  F, M --classification module (Eq. (6))--> class logits
x_enc --G_w: 2 x2 ups, 1x1 conv (-> IN -> ReLU, paper), channel softmax (Eq. (7))--> W [B,H,W,2];
I_C = W_l * I_L + W_g * I_G (Eq. (8))

Ablations (Table 9): B1 local_fusion='none'; B2 'sum'; B3 'conv'; B4 + use_classifier; B5 + use_weight_map
(without the weight map I_C = (I_L + I_G) / 2). With upsampler='sau' the decoder's width-changing ups, G_l and G_w
upsample with SAU: LGGAN++. The class masks are the one-hot label channels (the instance-edge channel excluded); `local_rest_from=K`
merges channels >= K into one "rest" sub-generator (official ADE20K: 51 + rest, 51-way classifier).
`mask_class_images` (default on) keeps each U_i only inside M_i, so an absent class contributes nothing; off is the
official behaviour, where only the local L1 loss pushes U_i towards 0 outside its mask.
`recompute` lists blocks whose activations are recomputed in the backward pass: decoder block names ("up_2", ...),
"local" (the 9 residual blocks of G_l) and "branch_ups" (the x2 stages of G_l and G_w).
Paper vs official code (docs/fidelity.md): `weight_map_head` 'paper' ends G_w in Conv1x1 -> InstanceNorm -> ReLU as
§3.3 describes, 'official' in the bare 1x1 conv; `class_pooling` 'paper' averages each F_i over its class region,
'official' over the whole image (lggan_tf.layers.classifier). Neither changes the parameter count.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.blocks import ResnetBlock, UpNormAct
from lggan_tf.layers.class_conv import ClassConv, LocalFusionConv, fuse_sum
from lggan_tf.layers.classifier import ClassFeatureClassifier
from lggan_tf.layers.common import Conv, register
from lggan_tf.layers.norms import standardize
from lggan_tf.layers.recompute import recompute_grad
from lggan_tf.models.encoders import SharedEncoder
from lggan_tf.models.spade_decoder import SPADEDecoder, latent_size

WEIGHT_MAP_HEADS = ("paper", "official")

ABLATIONS = {
    "B1": dict(local_fusion="none", use_classifier=False, use_weight_map=False),
    "B2": dict(local_fusion="sum", use_classifier=False, use_weight_map=False),
    "B3": dict(local_fusion="conv", use_classifier=False, use_weight_map=False),
    "B4": dict(local_fusion="conv", use_classifier=True, use_weight_map=False),
    "B5": dict(local_fusion="conv", use_classifier=True, use_weight_map=True),
}


def class_masks(seg, label_channels: int, rest_from=None):
    """Class masks M [B,H,W,N] from the one-hot part of seg; channels >= rest_from are merged into one."""
    masks = seg[..., :label_channels]
    if rest_from is not None and rest_from < label_channels:
        masks = tf.concat([masks[..., :rest_from], tf.reduce_sum(masks[..., rest_from:], -1, keepdims=True)], -1)
    return masks


def local_and_fused_outputs(generator, features, masks, image_global, weight_logits):
    """The local branch from F and the fusion, shared by the synthesis and cross-view LGGAN generators.

    Eq. (2) class images U_i [B,H,W,N,3] from F*M_i (kept only inside M_i when `mask_class_images`), Eq. (4)/(5)
    local fusion, Eq. (6) classification module, Eq. (7)-(8) weight-map fusion (without a weight map, the mean of
    the two images). `generator` provides the sublayers and switches; `weight_logits()` returns G_w's [B,H,W,2]
    logits and is called only when the weight map is on. Returns the output dict without `image_global`.
    """
    class_images = generator.class_generators(features, masks)
    if generator.mask_class_images:  # U_i only inside M_i: an absent class contributes nothing (docs/fidelity.md)
        class_images = class_images * masks[..., None]
    if generator.local_fusion == "conv":
        image_local = generator.local_fusion_conv(class_images)
    else:
        image_local = fuse_sum(class_images)
    outputs = {"image_local": image_local, "class_images": class_images, "class_masks": masks}
    if generator.use_classifier:
        outputs["class_logits"], outputs["class_valid"] = generator.classifier(features, masks)
    if generator.use_weight_map:
        logits = weight_logits()
        if generator.weight_map_head == "paper":  # §3.3: G_w's last block is Conv1x1 -> InstanceNorm -> ReLU
            logits = tf.nn.relu(standardize(logits, axes=[1, 2])[0])
        weights = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)  # Eq. (7)
        weights = tf.cast(weights, image_local.dtype)
        outputs["weight_map"] = weights
        outputs["image"] = weights[..., 0:1] * image_local + weights[..., 1:2] * image_global  # Eq. (8)
    else:
        outputs["image"] = 0.5 * (image_local + image_global)
    return outputs


@register
class LGGANGenerator(keras.layers.Layer):
    """call(seg [B,H,W,S], training) -> dict with `image`, `image_global` and, when the local branch is on,
    `image_local`, `class_images` [B,H,W,N,3], `class_masks` [B,H,W,N], `weight_map` [B,H,W,2] (ch 0 = W_l),
    `class_logits` [B,K,K], `class_valid` [B,K]."""

    def __init__(self, semantic_nc, label_channels, crop_size=256, aspect_ratio=1.0,
                 num_upsampling_layers="normal", ngf=64, norm="syncbatch", spade_hidden=128, upsampler="nearest",
                 branch_upsampler=None, upsampler_options=None, upsample_all=False, local_fusion="conv",
                 use_classifier=True, use_weight_map=True, local_rest_from=None, num_resblocks=9,
                 class_conv_impl="partition", mask_class_images=True, recompute=(), weight_map_head="paper",
                 class_pooling="paper", **kwargs):
        super().__init__(**kwargs)
        if local_fusion not in ("none", "sum", "conv"):
            raise ValueError(f"local_fusion must be 'none', 'sum' or 'conv', got {local_fusion!r}")
        if weight_map_head not in WEIGHT_MAP_HEADS:
            raise ValueError(f"weight_map_head must be one of {WEIGHT_MAP_HEADS}, got {weight_map_head!r}")
        self.weight_map_head, self.class_pooling = weight_map_head, class_pooling
        self.semantic_nc, self.label_channels = int(semantic_nc), int(label_channels)
        self.crop_size, self.aspect_ratio = int(crop_size), float(aspect_ratio)
        self.num_upsampling_layers, self.ngf = num_upsampling_layers, int(ngf)
        self.upsampler = upsampler
        self.branch_upsampler = branch_upsampler or ("sau" if upsampler == "sau" else "convtranspose")
        self.upsampler_options = dict(upsampler_options or {})
        self.local_fusion, self.use_classifier = local_fusion, bool(use_classifier)
        self.use_weight_map = bool(use_weight_map)
        self.local_rest_from = None if local_rest_from is None else int(local_rest_from)
        self.num_resblocks, self.class_conv_impl, self.recompute = int(num_resblocks), class_conv_impl, tuple(recompute)
        self.mask_class_images = bool(mask_class_images)
        self.num_local_classes = (self.label_channels if self.local_rest_from is None
                                  or self.local_rest_from >= self.label_channels else self.local_rest_from + 1)
        self.latent_hw = latent_size(self.crop_size, self.aspect_ratio, num_upsampling_layers)
        nf = self.ngf
        up_opts = dict(upsampler=self.branch_upsampler, upsampler_options=self.upsampler_options)

        self.encoder = SharedEncoder(nf, self.latent_hw, name="encoder")
        self.global_generator = SPADEDecoder(nf, num_upsampling_layers, norm, spade_hidden, upsampler,
                                             upsampler_options, upsample_all,
                                             [r for r in self.recompute if not r.startswith("local")],
                                             name="global_generator")
        if self.has_local:
            for i in range(self.num_resblocks):
                setattr(self, f"local_res_{i}", ResnetBlock(name=f"local_res_{i}"))
            self.local_up_0 = UpNormAct(2 * nf, name="local_up_0", **up_opts)
            self.local_up_1 = UpNormAct(nf, name="local_up_1", **up_opts)
            self.class_generators = ClassConv(self.num_local_classes, filters=3, kernel_size=7,
                                              impl=class_conv_impl, name="class_generators")
            if local_fusion == "conv":
                self.local_fusion_conv = LocalFusionConv(name="local_fusion_conv")
            if self.use_classifier:
                k = self.local_rest_from if self.num_local_classes != self.label_channels else None
                self.classifier = ClassFeatureClassifier(self.num_local_classes, num_classes_classified=k,
                                                         pooling=class_pooling, name="classifier")
            if self.use_weight_map:
                self.weight_up_0 = UpNormAct(2 * nf, name="weight_up_0", **up_opts)
                self.weight_up_1 = UpNormAct(nf, name="weight_up_1", **up_opts)
                self.weight_conv = Conv(2, 1, name="weight_conv")

    @property
    def has_local(self):
        return self.local_fusion != "none"

    def build(self, seg_shape):
        b, h, w, _ = seg_shape
        nf = self.ngf
        self.encoder.build(seg_shape)
        sh, sw = self.latent_hw
        self.global_generator.build((b, sh, sw, 16 * nf), seg_shape)
        if not self.has_local:
            return
        enc_shape = (b, h // 4, w // 4, 4 * nf)
        for i in range(self.num_resblocks):
            getattr(self, f"local_res_{i}").build(enc_shape)
        self.local_up_0.build(enc_shape)
        self.local_up_1.build((b, h // 2, w // 2, 2 * nf))
        feat_shape, mask_shape = (b, h, w, nf), (b, h, w, self.num_local_classes)
        self.class_generators.build(feat_shape, mask_shape)
        if self.local_fusion == "conv":
            self.local_fusion_conv.build((b, h, w, self.num_local_classes, 3))
        if self.use_classifier:
            self.classifier.build(feat_shape, mask_shape)
        if self.use_weight_map:
            self.weight_up_0.build(enc_shape)
            self.weight_up_1.build((b, h // 2, w // 2, 2 * nf))
            self.weight_conv.build(feat_shape)

    def _run(self, layer, x, training, recompute_name):
        """layer(x), with its activations recomputed in the backward pass when `recompute_name` is listed."""
        return recompute_grad(layer)(x) if (training and recompute_name in self.recompute) else layer(x)

    def _local_trunk(self, x, training):
        for i in range(self.num_resblocks):
            x = self._run(getattr(self, f"local_res_{i}"), x, training, "local")
        x = self._run(self.local_up_0, x, training, "branch_ups")
        return self._run(self.local_up_1, x, training, "branch_ups")

    def call(self, seg, training=None):
        enc = self.encoder(seg)
        image_global = self.global_generator(enc["latent"], seg, training=training)
        outputs = {"image_global": image_global}
        if not self.has_local:
            outputs["image"] = image_global
            return outputs
        masks = tf.cast(class_masks(seg, self.label_channels, self.local_rest_from), self.compute_dtype)
        features = self._local_trunk(enc["x_enc"], training)

        def weight_logits():
            w_feat = self._run(self.weight_up_0, enc["x_enc"], training, "branch_ups")
            return self.weight_conv(self._run(self.weight_up_1, w_feat, training, "branch_ups"))

        outputs.update(local_and_fused_outputs(self, features, masks, image_global, weight_logits))
        return outputs

    def get_config(self):
        g = self.global_generator
        return {**super().get_config(), "semantic_nc": self.semantic_nc, "label_channels": self.label_channels,
                "crop_size": self.crop_size, "aspect_ratio": self.aspect_ratio,
                "num_upsampling_layers": self.num_upsampling_layers, "ngf": self.ngf, "norm": g.norm,
                "spade_hidden": g.spade_hidden, "upsampler": self.upsampler,
                "branch_upsampler": self.branch_upsampler, "upsampler_options": self.upsampler_options,
                "upsample_all": g.upsample_all, "local_fusion": self.local_fusion,
                "use_classifier": self.use_classifier, "use_weight_map": self.use_weight_map,
                "local_rest_from": self.local_rest_from, "num_resblocks": self.num_resblocks,
                "class_conv_impl": self.class_conv_impl, "mask_class_images": self.mask_class_images,
                "recompute": list(self.recompute), "weight_map_head": self.weight_map_head,
                "class_pooling": self.class_pooling}
