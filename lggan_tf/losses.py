"""Losses of LGGAN / LGGAN++ for semantic image synthesis (SIS) and cross-view translation.

Conventions (shared with the models and the trainer):
- Every loss returns per-example values, shape [B], float32; inputs are cast to float32 first (mixed precision).
  The trainer averages over the global batch (`tf.nn.compute_average_loss`).
- A discriminator output is a list over scales; each scale is a list `[f_0, ..., f_{L-1}, pred]` of NHWC tensors
  (intermediate activations for feature matching, then the patch prediction). A bare tensor counts as one scale
  holding only a prediction.
- Generator outputs are a dict: `image` (I_C), `image_global` (I_G), `image_local` (I_L), each [B, H, W, 3];
  `class_images` [B, H, W, N, 3] (the U_i); `class_masks` [B, H, W, N]; `class_logits` [B, N, N];
  `class_valid` [B, N]; optional VAE `mu`, `logvar` [B, Z]. Absent keys (ablations) drop the terms that need them.

Official sources: LGGAN `SIS/models/pix2pix_model.py` + SPADE `models/networks/loss.py` (SIS) and
`CV/models/lggan_model.py` (cross-view); see docs/fidelity.md for the deviations.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

GAN_MODES = ("hinge", "ls", "original", "w")
IMAGE_KEYS = ("image", "image_global", "image_local")
# What D judges: 'fused' = I_C only (the paper's Eq. (9), (10)); 'all' = I_C, I_G and I_L (the official code).
D_JUDGES = ("fused", "all")
BCE_EPS = 1e-7  # probability clip for BCE on sigmoid outputs (Keras' epsilon)


@dataclasses.dataclass(frozen=True)
class LossWeights:
    """Loss weights; defaults are the official SIS ones. A weight of 0 skips its term's computation entirely.

    gan: adversarial (1); feat: D feature matching (lambda_feat 10); vgg: VGG19 perceptual (lambda_vgg 10);
    l1_local: Eq. (3) local L1 (1); class_ce: Eq. (6) class CE (1); l1_image: image L1 (0: the official scripts
    pass --no_l1_loss); kld: VAE KL (0.05, used only when outputs carry `mu`/`logvar`); tv: total variation (0).
    """

    gan: float = 1.0
    feat: float = 10.0
    vgg: float = 10.0
    l1_local: float = 1.0
    class_ce: float = 1.0
    l1_image: float = 0.0
    kld: float = 0.05
    tv: float = 0.0

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"LossWeights.{field.name} must be a finite number >= 0 (0 disables the term), "
                                 f"got {value!r}")
            object.__setattr__(self, field.name, float(value))

    @classmethod
    def cross_view(cls, **overrides) -> "LossWeights":
        """Official cross-view weights (CV/models/lggan_model.py): GAN 1, L1 100 on each image and 100 on the local
        sub-images, VGG 10, TV 1e-6; no feature matching, no classifier, no VAE."""
        values = dict(gan=1.0, feat=0.0, vgg=10.0, l1_local=100.0, class_ce=0.0, l1_image=100.0, kld=0.0, tv=1e-6)
        values.update(overrides)
        return cls(**values)

    @property
    def use_gan(self) -> bool:
        return self.gan > 0

    @property
    def use_feat(self) -> bool:
        return self.feat > 0

    @property
    def use_vgg(self) -> bool:
        return self.vgg > 0

    @property
    def use_l1_local(self) -> bool:
        return self.l1_local > 0

    @property
    def use_class_ce(self) -> bool:
        return self.class_ce > 0

    @property
    def use_l1_image(self) -> bool:
        return self.l1_image > 0

    @property
    def use_kld(self) -> bool:
        return self.kld > 0

    @property
    def use_tv(self) -> bool:
        return self.tv > 0


# Which weight multiplies each term in the totals (terms are reported unweighted).
TERM_WEIGHT = {"g_gan": "gan", "g_gan_di": "gan", "g_gan_ds": "gan", "g_feat": "feat", "g_vgg": "vgg",
               "g_local_l1": "l1_local", "g_class": "class_ce", "g_l1": "l1_image", "g_kld": "kld", "g_tv": "tv"}


def _f32(x):
    return tf.cast(x, tf.float32)


def mean_per_example(x):
    """Mean over every axis but the batch axis: [B, ...] -> [B] float32."""
    x = _f32(x)
    return tf.reduce_mean(x, axis=list(range(1, x.shape.rank))) if x.shape.rank > 1 else x


def _as_scales(d_out, name):
    """Normalise a D output to a list over scales of lists [f_0, ..., pred]."""
    if tf.is_tensor(d_out) or isinstance(d_out, np.ndarray):
        return [[d_out]]
    if isinstance(d_out, (list, tuple)) and d_out and all(isinstance(s, (list, tuple)) and s for s in d_out):
        return [list(s) for s in d_out]
    raise ValueError(f"{name}: expected a discriminator output = a non-empty list over scales, each a non-empty list "
                     f"[f_0, ..., f_(L-1), pred] (or one bare prediction tensor); got {type(d_out).__name__}. "
                     "Wrap a single-scale output as [[..., pred]].")


def _check_mode(mode, sigmoid_outputs):
    if mode not in GAN_MODES:
        raise ValueError(f"gan_mode must be one of {GAN_MODES}, got {mode!r}")
    if sigmoid_outputs and mode != "original":
        raise ValueError(f"sigmoid_outputs=True is BCE on probabilities and needs gan_mode='original', got {mode!r}")


def _patch_loss(pred, target_is_real, mode, for_discriminator, sigmoid_outputs):
    """Per-example mean over the patch map of one prediction tensor [B, h, w, 1] -> [B]."""
    pred = _f32(pred)
    if sigmoid_outputs:  # the cross-view D ends in a Sigmoid: BCE on clipped probabilities
        p = tf.clip_by_value(pred, BCE_EPS, 1.0 - BCE_EPS)
        loss = -tf.math.log(p) if target_is_real else -tf.math.log(1.0 - p)
    elif mode == "original":  # BCE with logits; on the G side the non-saturating -log D(G(x))
        loss = tf.nn.softplus(-pred) if target_is_real else tf.nn.softplus(pred)
    elif mode == "ls":
        loss = tf.square(pred - 1.0) if target_is_real else tf.square(pred)
    elif mode == "hinge":
        if not for_discriminator:
            if not target_is_real:
                raise ValueError("the hinge generator loss is only defined with target_is_real=True")
            loss = -pred
        else:
            loss = tf.nn.relu(1.0 - pred) if target_is_real else tf.nn.relu(1.0 + pred)
    else:  # "w"
        loss = -pred if target_is_real else pred
    return mean_per_example(loss)


def gan_loss(d_out, target_is_real: bool, mode: str = "hinge", for_discriminator: bool = True,
             sigmoid_outputs: bool = False):
    """SPADE `GANLoss`: per-example patch mean of the last tensor of each scale, averaged over scales -> [B]."""
    _check_mode(mode, sigmoid_outputs)
    scales = _as_scales(d_out, "d_out")
    per_scale = [_patch_loss(s[-1], target_is_real, mode, for_discriminator, sigmoid_outputs) for s in scales]
    return tf.add_n(per_scale) / float(len(per_scale))


def gan_generator_loss(d_out, mode: str = "hinge", sigmoid_outputs: bool = False):
    """Generator side: hinge -mean(D), ls (D-1)^2, original softplus(-D), w -D; mean over scales -> [B]."""
    return gan_loss(d_out, True, mode, for_discriminator=False, sigmoid_outputs=sigmoid_outputs)


def gan_discriminator_terms(d_real, d_fake, mode: str = "hinge", sigmoid_outputs: bool = False):
    """Discriminator side as (real term [B], fake term [B]), each averaged over scales."""
    return (gan_loss(d_real, True, mode, True, sigmoid_outputs), gan_loss(d_fake, False, mode, True, sigmoid_outputs))


def gan_discriminator_loss(d_real, d_fake, mode: str = "hinge", sigmoid_outputs: bool = False):
    """Discriminator side: hinge relu(1-real)+relu(1+fake), ls (real-1)^2+fake^2, original BCE, w -real+fake -> [B]."""
    real, fake = gan_discriminator_terms(d_real, d_fake, mode, sigmoid_outputs)
    return real + fake


def feature_matching_loss(d_fake, d_real):
    """pix2pixHD/SPADE feature matching: sum over scales and intermediate layers of the per-example L1 mean between
    fake and (detached) real activations, divided by the number of scales -> [B]. Not multiplied by lambda_feat."""
    fakes, reals = _as_scales(d_fake, "d_fake"), _as_scales(d_real, "d_real")
    if len(fakes) != len(reals):
        raise ValueError(f"feature_matching_loss: d_fake has {len(fakes)} scales but d_real has {len(reals)}")
    terms = []
    for i, (fake, real) in enumerate(zip(fakes, reals)):
        if len(fake) != len(real):
            raise ValueError(f"feature_matching_loss: scale {i} has {len(fake)} tensors in d_fake, "
                             f"{len(real)} in d_real")
        terms += [mean_per_example(tf.abs(_f32(f) - tf.stop_gradient(_f32(r)))) for f, r in zip(fake[:-1], real[:-1])]
    if not terms:
        raise ValueError("feature_matching_loss: the discriminator returned no intermediate activations (each scale "
                         "must be [f_0, ..., pred]); set LossWeights.feat=0 to train without feature matching")
    return tf.add_n(terms) / float(len(fakes))


def local_l1_loss(class_images, real, masks):
    """Eq. (3) as in the official code: sum_i mean_{h,w,c} |U_i - I_real * M_i| (U_i is not masked, so outputs
    outside M_i are pulled to 0).

    class_images [B, H, W, N, 3], real [B, H, W, 3], masks [B, H, W, N] -> [B].
    """
    class_images, real, masks = _f32(class_images), _f32(real), _f32(masks)
    if class_images.shape.rank != 5 or masks.shape.rank != 4 or real.shape.rank != 4:
        raise ValueError(f"local_l1_loss expects class_images [B,H,W,N,3], real [B,H,W,3], masks [B,H,W,N]; got "
                         f"{class_images.shape}, {real.shape}, {masks.shape}")
    if class_images.shape[3] is not None and masks.shape[3] is not None and class_images.shape[3] != masks.shape[3]:
        raise ValueError(f"local_l1_loss: class_images has N={class_images.shape[3]} classes but masks has "
                         f"{masks.shape[3]}; pass the masks the local generator used")
    diff = tf.abs(class_images - real[:, :, :, None, :] * masks[..., None])
    return tf.reduce_sum(tf.reduce_mean(diff, axis=[1, 2, 4]), axis=1)


def image_l1_loss(fake, real):
    """Per-example mean |fake - real|: [B, H, W, C] x2 -> [B]."""
    return mean_per_example(tf.abs(_f32(fake) - _f32(real)))


def kl_divergence(mu, logvar):
    """VAE KL to N(0, I), summed over the latent dims (official sums; here per example): [B, Z] x2 -> [B]."""
    mu, logvar = _f32(mu), _f32(logvar)
    axes = list(range(1, mu.shape.rank))
    return -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mu) - tf.exp(logvar), axis=axes)


def total_variation_loss(x):
    """Cross-view TV: per-example *sum* (not mean) of absolute horizontal and vertical differences, [B,H,W,C] -> [B]."""
    x = _f32(x)
    dh = tf.reduce_sum(tf.abs(x[:, 1:, :, :] - x[:, :-1, :, :]), axis=[1, 2, 3])
    dw = tf.reduce_sum(tf.abs(x[:, :, 1:, :] - x[:, :, :-1, :]), axis=[1, 2, 3])
    return dh + dw


def weighted_total(terms, weights: LossWeights):
    """sum_t weight(t) * term_t over the terms present -> [B]."""
    return tf.add_n([getattr(weights, TERM_WEIGHT[name]) * value for name, value in terms.items()])


def distinct_image_keys(outputs) -> list:
    """The distinct generated images among I_C, I_G, I_L. Without a local branch (ablation B1, Table 9) I_C *is*
    I_G, so it is listed once (as `image`) and no loss counts it twice."""
    keys = [k for k in IMAGE_KEYS if k in outputs]
    return keys if "image_local" in outputs else [k for k in keys if k != "image_global"]


def judged_keys(outputs, d_judges: str = "fused") -> list:
    """The generator outputs the discriminator judges: 'fused' = I_C only (Eq. (9), (10)); 'all' = every distinct
    image of I_C, I_G, I_L (the official code; B1 has one). docs/fidelity.md."""
    if d_judges not in D_JUDGES:
        raise ValueError(f"d_judges must be one of {D_JUDGES}, got {d_judges!r}")
    return ["image"] if d_judges == "fused" else distinct_image_keys(outputs)


def _fake_keys(outputs, d_fakes, name):
    keys = [k for k in IMAGE_KEYS if k in d_fakes]
    unknown = sorted(set(d_fakes) - set(IMAGE_KEYS))
    if unknown or not keys:
        raise ValueError(f"{name} must map a non-empty subset of {IMAGE_KEYS} to D outputs; got keys {sorted(d_fakes)}")
    missing = [k for k in keys if k not in outputs]
    if missing:
        raise ValueError(f"{name} has D outputs for {missing} but the generator outputs lack those images")
    if "image" in keys and "image_global" in keys and "image_local" not in outputs:
        raise ValueError(f"{name} judges `image` and `image_global`, but without a local branch (ablation B1) they are "
                         "the same image; judge it once (losses.judged_keys)")
    return keys


def _reconstruction_terms(outputs, real, masks, weights, vgg):
    """Terms shared by both tasks, summed over the distinct fake images (I_C, I_G, I_L as the official code; I_C
    once for B1): g_vgg, g_l1, g_tv, g_local_l1."""
    keys = distinct_image_keys(outputs)
    terms = {}
    if weights.use_vgg:
        if vgg is None:
            raise ValueError("LossWeights.vgg > 0 needs a `vgg` callable (lggan_tf.vgg.VGGPerceptual); pass one or set "
                             "the VGG weight to 0")
        terms["g_vgg"] = tf.add_n([_f32(vgg(outputs[k], real)) for k in keys])
    if weights.use_l1_image:
        terms["g_l1"] = tf.add_n([image_l1_loss(outputs[k], real) for k in keys])
    if weights.use_tv:
        terms["g_tv"] = tf.add_n([total_variation_loss(outputs[k]) for k in keys])
    if weights.use_l1_local and "class_images" in outputs:
        if masks is None:
            raise ValueError("the local L1 loss (Eq. 3) needs the class masks [B,H,W,N]; pass `masks` or set "
                             "LossWeights.l1_local=0")
        terms["g_local_l1"] = local_l1_loss(outputs["class_images"], real, masks)
    return terms


def generator_loss(outputs, real, masks, d_fakes, d_real, weights: LossWeights = LossWeights(), vgg=None,
                   gan_mode: str = "hinge"):
    """SIS generator loss (official LGGAN SIS): GAN + feature matching on each fake image in `d_fakes` (see
    `judged_keys`), VGG (and optional image L1) on each distinct image of I_C, I_G, I_L (summed), local L1 (Eq. 3),
    class CE (Eq. 6), optional VAE KL.

    Args:
      outputs: generator dict (see module docstring).
      real: [B, H, W, 3] in [-1, 1]. masks: [B, H, W, N] local-class masks (local L1); None uses
        outputs["class_masks"] when the generator returns them.
      d_fakes: {image key: D output on that fake image}. d_real: D output on the real image (feature matching).
      weights: LossWeights. vgg: callable (fake, real) -> [B], e.g. VGGPerceptual. gan_mode: one of GAN_MODES.
    Returns:
      (total [B], terms {name: unweighted [B]}) with total = sum_t weight_t * term_t; names among
      g_gan, g_feat, g_vgg, g_local_l1, g_class, g_l1, g_kld, g_tv (zero-weight or inapplicable terms are absent).
    """
    keys = _fake_keys(outputs, d_fakes, "d_fakes")
    masks = outputs.get("class_masks") if masks is None else masks
    terms = {}
    if weights.use_gan:
        terms["g_gan"] = tf.add_n([gan_generator_loss(d_fakes[k], gan_mode) for k in keys])
    if weights.use_feat:
        if d_real is None:
            raise ValueError("feature matching needs d_real (D output on the real image); pass it or set "
                             "LossWeights.feat=0")
        terms["g_feat"] = tf.add_n([feature_matching_loss(d_fakes[k], d_real) for k in keys])
    terms.update(_reconstruction_terms(outputs, real, masks, weights, vgg))
    if weights.use_class_ce and "class_logits" in outputs:
        from lggan_tf.layers.classifier import per_example_class_cross_entropy  # noqa: PLC0415 (optional module)

        logits, valid = tf.convert_to_tensor(outputs["class_logits"]), tf.convert_to_tensor(outputs["class_valid"])
        terms["g_class"] = _f32(per_example_class_cross_entropy(logits, valid))
    if weights.use_kld and "mu" in outputs and "logvar" in outputs:
        terms["g_kld"] = kl_divergence(outputs["mu"], outputs["logvar"])
    return weighted_total(terms, weights), terms


def discriminator_loss(d_fakes, d_real, gan_mode: str = "hinge"):
    """SIS discriminator loss: sum over the fake images of [fake term + real term] (the real term is therefore
    counted once per fake, as in the official code). d_fakes: {image key: D output on the detached fake}.

    Returns (total [B], {"d_fake": sum of fake terms, "d_real": n_fakes * real term}), total = d_fake + d_real.
    """
    if not d_fakes:
        raise ValueError("discriminator_loss needs at least one fake D output in d_fakes")
    real = gan_loss(d_real, True, gan_mode, for_discriminator=True)
    fake = tf.add_n([gan_loss(d_fakes[k], False, gan_mode, for_discriminator=True) for k in d_fakes])
    terms = {"d_fake": fake, "d_real": float(len(d_fakes)) * real}
    return terms["d_fake"] + terms["d_real"], terms


def cross_view_generator_loss(outputs, real, masks, d_image_fakes, d_semantic_fakes, weights: LossWeights | None = None,
                              vgg=None, sigmoid_outputs: bool = True):
    """Cross-view generator loss (official CV/models/lggan_model.py): BCE(D_i(I_a, x), 1) + BCE(D_s(S_g, x), 1)
    (Eq. 9, 10, non-saturating) over the judged fakes x (`judged_keys`); L1 100 * |x - I_g|, VGG 10, TV 1e-6 over
    each distinct image of I_C, I_G, I_L; plus local L1 100 * Eq. (3) over the class sub-images.

    Args:
      d_image_fakes / d_semantic_fakes: {image key: D_i / D_s output on that fake}, same keys.
      weights: defaults to LossWeights.cross_view(). sigmoid_outputs: True when the D ends in a Sigmoid (official);
        False for logits (BCE with logits).
    Returns (total [B], terms) with names among g_gan_di, g_gan_ds, g_l1, g_local_l1, g_vgg, g_tv (unweighted).
    """
    weights = LossWeights.cross_view() if weights is None else weights
    keys = _fake_keys(outputs, d_image_fakes, "d_image_fakes")
    masks = outputs.get("class_masks") if masks is None else masks
    if set(d_semantic_fakes) != set(d_image_fakes):
        raise ValueError(f"d_semantic_fakes keys {sorted(d_semantic_fakes)} must equal d_image_fakes keys {keys}")
    terms = {}
    if weights.use_gan:
        terms["g_gan_di"] = tf.add_n([gan_generator_loss(d_image_fakes[k], "original", sigmoid_outputs) for k in keys])
        terms["g_gan_ds"] = tf.add_n([gan_generator_loss(d_semantic_fakes[k], "original", sigmoid_outputs)
                                      for k in keys])
    terms.update(_reconstruction_terms(outputs, real, masks, weights, vgg))
    return weighted_total(terms, weights), terms


def cross_view_discriminator_loss(d_image_fakes, d_image_real, d_semantic_fakes, d_semantic_real,
                                  sigmoid_outputs: bool = True):
    """Cross-view D loss: for each fake x and each D in (D_i, D_s), 0.5 * [BCE(D(x), 0) + BCE(D(real), 1)].

    Returns (total [B], terms) with d_di_fake, d_di_real, d_ds_fake, d_ds_real, each summed over the fakes (the real
    term counted once per fake); total = 0.5 * sum of the four.
    """
    if not d_image_fakes or set(d_semantic_fakes) != set(d_image_fakes):
        raise ValueError(f"cross_view_discriminator_loss: d_image_fakes {sorted(d_image_fakes)} and d_semantic_fakes "
                         f"{sorted(d_semantic_fakes)} must have the same non-empty keys")
    n = float(len(d_image_fakes))
    terms = {}
    for tag, fakes, real in (("di", d_image_fakes, d_image_real), ("ds", d_semantic_fakes, d_semantic_real)):
        terms[f"d_{tag}_fake"] = tf.add_n([gan_loss(fakes[k], False, "original", True, sigmoid_outputs)
                                           for k in fakes])
        terms[f"d_{tag}_real"] = n * gan_loss(real, True, "original", True, sigmoid_outputs)
    return 0.5 * tf.add_n(list(terms.values())), terms
