"""The resolved training configuration: one frozen dataclass, written to `<model_dir>/config.json`.

`train.py` turns absl flags into a `TrainConfig`; the library (`lggan_tf.trainer.train`) reads only this object, so
it can be built directly in tests and notebooks. Defaults are the quick-start values (flags/synthetic.cfg).
"""

from __future__ import annotations

import dataclasses
import json
import math

TASKS = ("synthesis", "cross_view")
MODELS = ("gaugan", "lggan", "sean")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker")
GAN_MODES = ("hinge", "ls", "original", "w")
D_JUDGES = ("fused", "all")  # lggan_tf.losses.D_JUDGES
WEIGHT_MAP_HEADS = ("paper", "official")  # lggan_tf.models.lggan.WEIGHT_MAP_HEADS
CLASS_POOLINGS = ("paper", "official")  # lggan_tf.layers.classifier.CLASS_POOLINGS
# Where the paper and the official code disagree, the fields below default to the paper; a config written before
# they existed trained the official behaviour, so `from_dict` reads a missing field as "official" / "all".
PAPER_OR_OFFICIAL = {"d_judges": "all", "weight_map_head": "official", "class_pooling": "official"}
# --task=cross_view: the official cross-view settings for every flag the user leaves unset (flags/train_flags.py);
# `TrainConfig.cross_view()` gives the same in code. lggan_official_code.md §2.2-2.4: ngf/ndf 64, Adam(2e-4, 0.5,
# 0.999), sigmoid D + BCE, L1 100 on each image and the class sub-images, VGG19 10, TV 1e-6; the Dayton 256 script
# (train_dayton_a2g_256.sh): batch 4, 256x256 crops, 20 + 15 epochs, every training image.
CROSS_VIEW_DEFAULTS = dict(dataset="dayton", upsampler="convtranspose", ngf=64, ndf=64, height=256, width=256,
                           num_examples=0, batch_size=4, niter=20, niter_decay=15, ttur=False, lr=2e-4, beta1=0.5,
                           beta2=0.999, gan_mode="original", lambda_feat=0.0, lambda_vgg=10.0, lambda_l1=100.0,
                           lambda_l1_local=100.0, lambda_tv=1e-6, vgg_weights="imagenet", mixed_precision="float32")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every knob of a training run. Sizes: 0 means "the dataset's own" (height/width/crop_size, num_examples).

    Schedule: `niter` epochs at the base rate, then `niter_decay` epochs of linear decay to 0 (official SIS). The run
    stops at `train_steps` when > 0, else after `epochs` epochs when > 0, else after niter + niter_decay epochs.
    TTUR (default): G lr/2, D lr*2, Adam betas (0, 0.9); `ttur=False`: both lr, betas (beta1, beta2).
    """

    task: str = "synthesis"
    dataset: str = "synthetic"
    data_dir: str = ""
    model_dir: str = ""
    model: str = "lggan"
    upsampler: str = "sau"
    ablation: str = ""
    use_vae: bool = False
    style_dim: int = 512
    style_regions: int = 0
    ngf: int = 8
    ndf: int = 16
    spade_hidden: int = 32
    crop_size: int = 0
    height: int = 64
    width: int = 64
    num_examples: int = 400
    batch_size: int = 4
    train_steps: int = 0
    epochs: int = 0
    niter: int = 2
    niter_decay: int = 2
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ttur: bool = True
    gan_mode: str = "hinge"
    lambda_feat: float = 10.0
    lambda_vgg: float = 0.0
    lambda_l1_local: float = 1.0
    lambda_class: float = 1.0
    lambda_l1: float = 0.0
    lambda_kld: float = 0.05
    lambda_tv: float = 0.0
    d_judges: str = "fused"
    weight_map_head: str = "paper"
    class_pooling: str = "paper"
    cross_view_classifier: bool = False
    mask_class_images: bool = True
    vgg_weights: str = "none"
    mixed_precision: str = "auto"
    jit_compile: bool = False
    strategy: str = "auto"
    logical_cpus: int = 0
    seed: int = 0
    synthetic_seed: int = 0
    deterministic: bool = False
    resume: str = "auto"
    log_every_steps: int = 20
    summary_every_steps: int = 100
    save_every_steps: int = 100
    keep_checkpoints: int = 3
    num_sample_images: int = 4
    inject_nan_at_step: int = 0

    def __post_init__(self):
        def bad(field, expected):
            raise ValueError(f"--{field}={getattr(self, field)!r}: expected {expected}")

        for field, choices in (("task", TASKS), ("model", MODELS), ("mixed_precision", PRECISIONS),
                               ("strategy", STRATEGIES), ("gan_mode", GAN_MODES), ("d_judges", D_JUDGES),
                               ("weight_map_head", WEIGHT_MAP_HEADS), ("class_pooling", CLASS_POOLINGS)):
            if getattr(self, field) not in choices:
                bad(field, f"one of {choices}")
        for field in ("ngf", "ndf", "spade_hidden", "batch_size", "log_every_steps", "summary_every_steps", "save_every_steps",
                      "keep_checkpoints"):
            if getattr(self, field) < 1:
                bad(field, "an integer >= 1")
        for field in ("crop_size", "height", "width", "num_examples", "train_steps", "epochs", "niter",
                      "niter_decay", "logical_cpus", "num_sample_images", "inject_nan_at_step", "synthetic_seed"):
            if getattr(self, field) < 0:
                bad(field, "an integer >= 0 (0 = default)")
        if (self.height == 0) != (self.width == 0):
            bad("height", f"--height and --width set together (got height={self.height}, width={self.width})")
        for field in ("lr", "beta1", "beta2", "lambda_feat", "lambda_vgg", "lambda_l1_local", "lambda_class",
                      "lambda_l1", "lambda_kld", "lambda_tv"):
            value = getattr(self, field)
            if not math.isfinite(value) or value < 0:
                bad(field, "a finite number >= 0")
        if not 0 <= self.beta1 < 1 or not 0 <= self.beta2 < 1:
            bad("beta1", f"betas in [0, 1) (got beta1={self.beta1}, beta2={self.beta2})")
        if self.train_steps == 0 and self.epochs == 0 and self.niter + self.niter_decay == 0:
            bad("train_steps", "a length: --train_steps, --epochs or --niter/--niter_decay > 0")
        schedule = self.niter + self.niter_decay
        if self.epochs > schedule > 0 and self.niter_decay > 0:
            bad("epochs", f"at most niter + niter_decay = {self.niter} + {self.niter_decay} = {schedule} epochs (the "
                          f"learning rate is 0 after epoch {schedule}); got {self.epochs} epochs. Raise --niter or "
                          "--niter_decay, or lower --epochs")
        if self.ablation and self.model != "lggan":
            bad("ablation", "--model=lggan (the Table 9 ablations switch LGGAN branches)")
        if self.model != "sean" and (self.style_dim != 512 or self.style_regions):
            bad("style_dim" if self.style_dim != 512 else "style_regions",
                "--model=sean (per-region style codes are SEAN's; leave it unset for other models)")
        if self.style_dim < 1 or self.style_regions < 0:
            bad("style_dim", f"style_dim >= 1 and style_regions >= 0 (got {self.style_dim}, {self.style_regions})")
        if self.use_vae and self.model != "gaugan":
            bad("use_vae", "--model=gaugan (the VAE style encoder is a GauGAN option)")
        if self.task == "cross_view" and self.model != "lggan":
            bad("model", "--model=lggan with --task=cross_view (the cross-view generator is LGGAN's)")
        if self.task == "cross_view" and self.lambda_feat > 0:
            bad("lambda_feat", "0 with --task=cross_view (the official cross-view loss has no feature matching)")
        if self.cross_view_classifier and self.task != "cross_view":
            bad("cross_view_classifier", "--task=cross_view (synthesis LGGAN has the classifier; see --ablation)")

    @classmethod
    def cross_view(cls, **changes) -> "TrainConfig":
        """A cross-view config: the defaults with CROSS_VIEW_DEFAULTS, then `changes`."""
        return cls(**{**CROSS_VIEW_DEFAULTS, "task": "cross_view", **changes})

    @property
    def run_name(self) -> str:
        return f"{self.dataset}-{self.model}-{self.upsampler}"

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {**PAPER_OR_OFFICIAL, **values}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"TrainConfig: unknown field(s) {unknown}; expected some of {sorted(known)}")
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        return cls.from_dict(json.loads(text))
