"""LGGAN for cross-view image translation (paper §3.3, Fig. 2; official `ResnetGenerator_local`, `CV/`).

x = concat(I_a, S_g) [B,H,W,6] --E: reflect-pad 7x7 conv 64, 2 stride-2 3x3 convs 128, 256 (IN, ReLU), 9 residual
blocks--> f [B,H/4,W/4,256]
f --G_l: 2 x2 ups to 64 ch--> F; U_i = tanh(Conv7x7_i(pad3(F * M_i))) (Eq. (2)); I_L = sum_i U_i (Eq. (4), official:
no conv, no tanh) or Conv(concat U_i) (Eq. (5))
f --G_g: 2 x2 ups, reflect-pad 7x7 conv -> 3, tanh--> I_G
f --G_w: 2 x2 ups, 1x1 conv -> 2 (-> IN -> ReLU with weight_map_head='paper'), channel softmax (Eq. (7))--> W;
I_C = W_l * I_L + W_g * I_G (Eq. (8))

All three decoders read f (official; lggan_official_code.md §2.2). Init normal(0, 0.02), biases 0, affine-free IN.
The official code's unused seventh ("void") branch is not built: 12,181,847 parameters (official 12,191,258 less
9,411). `upsampler='convtranspose'` (or 'nearest') keeps the official ConvTranspose ups; any other upsampler registry
name ('sau' = LGGAN++) upsamples at C channels then a 1x1 conv halves them. The dual discriminator (D_i on
concat(I_a, x), D_s on concat(S_g, x); Eq. (9), (10)) is `DualDiscriminator`.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from lggan_tf.layers.blocks import ConvNormAct, ResnetBlock, UpNormAct
from lggan_tf.layers.class_conv import ClassConv, LocalFusionConv
from lggan_tf.layers.classifier import ClassFeatureClassifier
from lggan_tf.layers.common import Conv, normal_init, register
from lggan_tf.models.discriminator import cross_view_discriminator
from lggan_tf.models.lggan import WEIGHT_MAP_HEADS, local_and_fused_outputs

OFFICIAL_UPSAMPLERS = ("convtranspose", "nearest")


@register
class CrossViewGenerator(keras.layers.Layer):
    """call(inputs [B,H,W,6] = concat(I_a, S_g), masks [B,H,W,N], training) -> dict with `image` (I_C),
    `image_global`, and with the local branch `image_local`, `class_images` [B,H,W,N,3], `class_masks` [B,H,W,N],
    `weight_map` [B,H,W,2] (ch 0 = W_l), optional `class_logits` [B,N,N], `class_valid` [B,N].

    H and W must be multiples of 4. Switches as LGGANGenerator (ablations B1-B5 of Table 9): local_fusion
    'none' | 'sum' (official) | 'conv', use_classifier (off: the official cross-view code has none), use_weight_map
    (off: I_C = (I_L + I_G) / 2). mask_class_images: keep each U_i only inside M_i (docs/fidelity.md row 4).
    weight_map_head / class_pooling: 'paper' (default) or 'official', as LGGANGenerator.
    """

    def __init__(self, num_classes=6, ngf=64, input_nc=6, num_resblocks=9, upsampler="convtranspose",
                 upsampler_options=None, local_fusion="sum", use_classifier=False, use_weight_map=True,
                 class_conv_impl="partition", mask_class_images=True, weight_map_head="paper", class_pooling="paper",
                 **kwargs):
        super().__init__(**kwargs)
        if local_fusion not in ("none", "sum", "conv"):
            raise ValueError(f"CrossViewGenerator: local_fusion must be 'none', 'sum' or 'conv', got {local_fusion!r}")
        if weight_map_head not in WEIGHT_MAP_HEADS:
            raise ValueError(f"CrossViewGenerator: weight_map_head must be one of {WEIGHT_MAP_HEADS}, got "
                             f"{weight_map_head!r}")
        self.weight_map_head, self.class_pooling = weight_map_head, class_pooling
        self.num_classes, self.ngf, self.input_nc = int(num_classes), int(ngf), int(input_nc)
        self.num_resblocks, self.upsampler = int(num_resblocks), upsampler
        self.upsampler_options = dict(upsampler_options or {})
        self.branch_upsampler = "convtranspose" if upsampler in OFFICIAL_UPSAMPLERS else upsampler
        self.local_fusion, self.use_classifier = local_fusion, bool(use_classifier)
        self.use_weight_map, self.class_conv_impl = bool(use_weight_map), class_conv_impl
        self.mask_class_images = bool(mask_class_images)
        nf = self.ngf

        def up(filters, name):
            return UpNormAct(filters, upsampler=self.branch_upsampler, upsampler_options=self.upsampler_options,
                             kernel_initializer=normal_init(), name=name)

        self.enc_0 = ConvNormAct(nf, 7, 1, 3, "reflect", kernel_initializer=normal_init(), name="enc_0")
        self.enc_1 = ConvNormAct(2 * nf, 3, 2, 1, kernel_initializer=normal_init(), name="enc_1")
        self.enc_2 = ConvNormAct(4 * nf, 3, 2, 1, kernel_initializer=normal_init(), name="enc_2")
        for i in range(self.num_resblocks):
            setattr(self, f"res_{i}", ResnetBlock(kernel_initializer=normal_init(), name=f"res_{i}"))
        self.global_up_0, self.global_up_1 = up(2 * nf, "global_up_0"), up(nf, "global_up_1")
        self.global_conv = Conv(3, 7, 1, 3, "reflect", kernel_initializer=normal_init(), name="global_conv")
        if self.has_local:
            self.local_up_0, self.local_up_1 = up(2 * nf, "local_up_0"), up(nf, "local_up_1")
            self.class_generators = ClassConv(self.num_classes, filters=3, kernel_size=7, impl=class_conv_impl,
                                              kernel_initializer=normal_init(), name="class_generators")
            if local_fusion == "conv":
                self.local_fusion_conv = LocalFusionConv(kernel_initializer=normal_init(), name="local_fusion_conv")
            if self.use_classifier:
                self.classifier = ClassFeatureClassifier(self.num_classes, kernel_initializer=normal_init(),
                                                         pooling=class_pooling, name="classifier")
            if self.use_weight_map:
                self.weight_up_0, self.weight_up_1 = up(2 * nf, "weight_up_0"), up(nf, "weight_up_1")
                self.weight_conv = Conv(2, 1, kernel_initializer=normal_init(), name="weight_conv")

    @property
    def has_local(self):
        return self.local_fusion != "none"

    def build(self, inputs_shape, masks_shape=None):
        b, h, w, c = inputs_shape
        if h is None or w is None or h % 4 or w % 4:
            raise ValueError(f"CrossViewGenerator: input height and width must be static multiples of 4 (two "
                             f"stride-2 convs), got {tuple(inputs_shape)}")
        if c != self.input_nc:
            raise ValueError(f"CrossViewGenerator: expected inputs with input_nc={self.input_nc} channels "
                             f"(concat of input view and target semantic map), got {tuple(inputs_shape)}")
        nf = self.ngf
        self.enc_0.build(inputs_shape)
        self.enc_1.build((b, h, w, nf))
        self.enc_2.build((b, h // 2, w // 2, 2 * nf))
        enc_shape, half, full = (b, h // 4, w // 4, 4 * nf), (b, h // 2, w // 2, 2 * nf), (b, h, w, nf)
        for i in range(self.num_resblocks):
            getattr(self, f"res_{i}").build(enc_shape)
        branches = [("global_up_0", "global_up_1")]
        if self.has_local:
            branches.append(("local_up_0", "local_up_1"))
            if self.use_weight_map:
                branches.append(("weight_up_0", "weight_up_1"))
        for first, second in branches:
            getattr(self, first).build(enc_shape)
            getattr(self, second).build(half)
        self.global_conv.build(full)
        if not self.has_local:
            return
        mask_shape = (b, h, w, self.num_classes)
        self.class_generators.build(full, mask_shape)
        if self.local_fusion == "conv":
            self.local_fusion_conv.build((b, h, w, self.num_classes, 3))
        if self.use_classifier:
            self.classifier.build(full, mask_shape)
        if self.use_weight_map:
            self.weight_conv.build(full)

    def encode(self, inputs):
        """E: [B,H,W,6] -> f [B,H/4,W/4,4 ngf]."""
        x = self.enc_2(self.enc_1(self.enc_0(inputs)))
        for i in range(self.num_resblocks):
            x = getattr(self, f"res_{i}")(x)
        return x

    def call(self, inputs, masks, training=None):
        f = self.encode(inputs)
        image_global = tf.tanh(self.global_conv(self.global_up_1(self.global_up_0(f))))
        outputs = {"image_global": image_global}
        if not self.has_local:
            outputs["image"] = image_global
            return outputs
        masks = tf.cast(masks, self.compute_dtype)
        features = self.local_up_1(self.local_up_0(f))
        outputs.update(local_and_fused_outputs(self, features, masks, image_global,
                                               lambda: self.weight_conv(self.weight_up_1(self.weight_up_0(f)))))
        return outputs

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "ngf": self.ngf, "input_nc": self.input_nc,
                "num_resblocks": self.num_resblocks, "upsampler": self.upsampler,
                "upsampler_options": self.upsampler_options, "local_fusion": self.local_fusion,
                "use_classifier": self.use_classifier, "use_weight_map": self.use_weight_map,
                "class_conv_impl": self.class_conv_impl, "mask_class_images": self.mask_class_images,
                "weight_map_head": self.weight_map_head, "class_pooling": self.class_pooling}


@register
class DualDiscriminator(keras.layers.Layer):
    """D_i (image-guided, Eq. (10)) and D_s (semantic-guided, Eq. (9)): two official PatchGANs (2,767,809 each).

    call(input_image [B,H,W,3], semantic [B,H,W,3], images [B,H,W,3]) -> (D_i output, D_s output), each the
    `[f_0, ..., pred]` list of one scale wrapped in a list over scales (losses.py contract). `sigmoid=True` is the
    official sigmoid + BCE; False gives logits for the other GAN modes.
    """

    def __init__(self, ndf=64, sigmoid=True, **kwargs):
        super().__init__(**kwargs)
        self.ndf, self.sigmoid = int(ndf), bool(sigmoid)
        self.d_image = cross_view_discriminator(self.ndf, name="d_image")
        self.d_semantic = cross_view_discriminator(self.ndf, name="d_semantic")
        self.d_image.sigmoid = self.d_semantic.sigmoid = self.sigmoid

    def build(self, input_image_shape, semantic_shape=None, images_shape=None):
        shape = (*tuple(input_image_shape[:3]), 6)
        self.d_image.build(shape)
        self.d_semantic.build(shape)

    def call(self, input_image, semantic, images, training=None):
        images = tf.cast(images, tf.float32)
        d_i = self.d_image(tf.concat([tf.cast(input_image, tf.float32), images], -1), training=training)
        d_s = self.d_semantic(tf.concat([tf.cast(semantic, tf.float32), images], -1), training=training)
        return [d_i], [d_s]

    def get_config(self):
        return {**super().get_config(), "ndf": self.ndf, "sigmoid": self.sigmoid}


def build_cross_view_generator(ngf=64, upsampler="convtranspose", num_classes=6, ablation=None, **options):
    """CrossViewGenerator by the factory's conventions; `ablation` B1..B5 (Table 9) sets the branch switches."""
    if ablation is not None:
        from lggan_tf.models.lggan import ABLATIONS

        if ablation not in ABLATIONS:
            raise ValueError(f"unknown ablation {ablation!r}; expected one of {sorted(ABLATIONS)}")
        options = {**ABLATIONS[ablation], **options}
    return CrossViewGenerator(num_classes, ngf, upsampler=upsampler, name="generator", **options)


def cross_view_parameter_counts(generator: CrossViewGenerator, discriminator: DualDiscriminator | None = None):
    """Trainable parameters per sub-network, with the official breakdown's names (lggan_official_code.md §5)."""
    from lggan_tf.models import count_trainable

    g = generator
    parts = {"encoder": [g.enc_0, g.enc_1, g.enc_2],
             "resblocks": [getattr(g, f"res_{i}") for i in range(g.num_resblocks)],
             "global": [g.global_up_0, g.global_up_1, g.global_conv],
             "local": [getattr(g, n) for n in ("local_up_0", "local_up_1", "class_generators", "local_fusion_conv")
                       if hasattr(g, n)],
             "weight_map": [getattr(g, n) for n in ("weight_up_0", "weight_up_1", "weight_conv") if hasattr(g, n)],
             "classifier": [g.classifier] if hasattr(g, "classifier") else []}
    counts = {name: sum(count_trainable(layer) for layer in layers) for name, layers in parts.items()}
    counts["generator_total"] = count_trainable(g)
    if discriminator is not None:
        counts["d_image"] = count_trainable(discriminator.d_image)
        counts["d_semantic"] = count_trainable(discriminator.d_semantic)
        counts["discriminator_total"] = count_trainable(discriminator)
    return counts
