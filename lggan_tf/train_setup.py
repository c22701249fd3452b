"""Resolve a TrainConfig against its dataset (sizes, steps) and build the models and optimisers for it (synthesis:
LGGAN / GauGAN + multiscale D_s; cross-view: CrossViewGenerator + DualDiscriminator, one Adam over D_i and D_s)."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from lggan_tf import schedules
from lggan_tf.models.spade_decoder import NUM_UPSAMPLING
from lggan_tf.optimizers import FusedAdam
from lggan_tf.train_config import TrainConfig



@dataclasses.dataclass(frozen=True)
class RunPlan:
    """What a config means for its dataset.

    height/width: the training size; data_height/data_width: the same when it overrides the dataset's own output
    size, else None (the dataset pipeline then runs exactly as specified). generator_kwargs: for build_generator.
    num_examples: training examples used; steps_per_epoch = num_examples // batch_size; total_steps: the target step.
    """

    spec: object
    height: int
    width: int
    data_height: int | None
    data_width: int | None
    generator_kwargs: dict
    num_examples: int
    steps_per_epoch: int
    total_steps: int

    @property
    def semantic_nc(self) -> int:
        """Generator condition channels: the one-hot label map (synthesis) or the colour semantic map (cross-view)."""
        return 3 if self.spec.task == "cross_view" else self.spec.semantic_nc

    @property
    def palette(self) -> np.ndarray:
        return self.spec.palette_array()

    def describe(self) -> dict:
        return {"height": self.height, "width": self.width, "semantic_nc": self.semantic_nc,
                "label_nc": self.spec.label_nc, "generator_kwargs": self.generator_kwargs,
                "num_examples": self.num_examples, "steps_per_epoch": self.steps_per_epoch,
                "total_steps": self.total_steps}


def training_size(config: TrainConfig, spec) -> tuple[int, int]:
    """(H, W): --height/--width, else --crop_size (W) with the dataset's aspect ratio, else the dataset's size."""
    if config.height:
        return config.height, config.width
    if config.crop_size:
        return int(round(config.crop_size / spec.aspect_ratio)), config.crop_size
    return spec.output_size(training=True)


def _check_size(h: int, w: int, num_upsampling_layers: str) -> None:
    n = NUM_UPSAMPLING[num_upsampling_layers]
    if h % 2 ** n or w % 2 ** n:
        raise ValueError(f"training size {h}x{w} (--height/--width or --crop_size): both sides must be multiples of "
                         f"{2 ** n} (num_upsampling_layers={num_upsampling_layers!r} starts the decoder at "
                         f"1/{2 ** n} scale); e.g. --height={max(2 ** n, h - h % 2 ** n)} "
                         f"--width={max(2 ** n, w - w % 2 ** n)}")


def count_examples(spec, data_dir: str, num_examples: int, height, width) -> int:
    """Training examples after --num_examples; validates the dataset first (DatasetError on bad data)."""
    from datasets import build_dataset, validate
    from datasets.base import PROCEDURAL
    from datasets.errors import DatasetError

    examples = validate(spec, data_dir or None, "train")
    if examples:
        n = len(examples)
    elif spec.layout_name in PROCEDURAL:
        n = int(PROCEDURAL[spec.layout_name][1]["train"])
    else:
        ds = build_dataset(spec, data_dir or None, "train", 1, training=False, height=height, width=width)
        n = int(ds.cardinality())
        if n < 0:
            n = int(ds.reduce(0, lambda acc, _: acc + 1))
    if n < 1:
        raise DatasetError(f"{spec.name}: no training examples found in --data_dir={data_dir!r}")
    return min(n, num_examples) if num_examples else n


def _check_task(config: TrainConfig, spec) -> None:
    if spec.task != config.task:
        from datasets import list_datasets, get_spec

        fitting = [n for n in list_datasets() if n != "custom" and get_spec(n).task == config.task]
        raise ValueError(f"--dataset={config.dataset} is a {spec.task} dataset but --task={config.task}; pass "
                         f"--task={spec.task}, or one of the {config.task} datasets {fitting}")


def resolve_run(config: TrainConfig, count: bool = True) -> RunPlan:
    """Resolve sizes and lengths. count=False (dry run) skips the data and assumes the dataset's nominal size."""
    from datasets import get_spec
    from lggan_tf.describe import model_facts

    spec = get_spec(config.dataset)
    _check_task(config, spec)
    h, w = training_size(config, spec)
    overrides = (h, w) != tuple(spec.output_size(training=True))
    if config.task == "cross_view":
        if h % 4 or w % 4 or h != w:
            raise ValueError(f"training size {h}x{w} (--height/--width or --crop_size): cross-view panels are square "
                             "and both sides must be multiples of 4 (two stride-2 convs), e.g. 64 or 256")
        facts = dict(num_classes=spec.label_nc, use_classifier=config.cross_view_classifier,
                     weight_map_head=config.weight_map_head, class_pooling=config.class_pooling)
    else:
        _check_size(h, w, spec.num_upsampling_layers)
        facts, _ = model_facts(spec, h, w)
        facts.update(crop_size=w, aspect_ratio=w / h, spade_hidden=config.spade_hidden)
        if config.model == "lggan":
            facts.update(weight_map_head=config.weight_map_head, class_pooling=config.class_pooling)
        if config.model == "lggan" and spec.local_rest_from is not None:
            facts["local_rest_from"] = spec.local_rest_from
        if config.model == "gaugan" and config.use_vae:
            facts["use_vae"] = True
        if config.model == "sean":
            facts.update(style_dim=config.style_dim, num_regions=config.style_regions or None)
    if config.model == "lggan" and not config.mask_class_images:  # the official unmasked class images
        facts["mask_class_images"] = False
    data_h, data_w = (h, w) if overrides else (None, None)
    n = count_examples(spec, config.data_dir, config.num_examples, data_h, data_w) if count else 0
    steps_per_epoch = max(1, n // config.batch_size) if count else 0
    if count and n < config.batch_size:
        from datasets.errors import DatasetError

        raise DatasetError(f"{spec.name}: {n} training examples < --batch_size={config.batch_size}; lower the batch "
                           "size or add data")
    epochs = config.epochs or (config.niter + config.niter_decay)
    total = config.train_steps or epochs * steps_per_epoch
    if count:
        check_schedule(config, steps_per_epoch)
    return RunPlan(spec, h, w, data_h, data_w, facts, n, steps_per_epoch, total)


def check_schedule(config: TrainConfig, steps_per_epoch: int) -> None:
    """A --train_steps past the learning-rate schedule (niter + niter_decay epochs; the rate is 0 after it) is an
    error, not silent steps at rate 0 (TrainConfig checks --epochs the same way). No limit when niter_decay = 0."""
    end = (config.niter + config.niter_decay) * steps_per_epoch
    if config.niter_decay > 0 and config.train_steps > end:
        raise ValueError(f"--train_steps={config.train_steps} is past the end of the learning-rate schedule: "
                         f"niter + niter_decay = {config.niter} + {config.niter_decay} epochs x {steps_per_epoch} "
                         f"steps per epoch = {end} steps (the rate is 0 after step {end}); lower --train_steps to "
                         f"at most {end}, or raise --niter / --niter_decay")


def build_models(config: TrainConfig, run: RunPlan):
    """Generator and discriminator, built on the training shapes (call inside the strategy scope)."""
    from lggan_tf.models import build_discriminator, build_generator

    if config.task == "cross_view":
        from lggan_tf.models import DualDiscriminator, build_cross_view_generator

        generator = build_cross_view_generator(config.ngf, config.upsampler, ablation=config.ablation or None,
                                               **run.generator_kwargs)
        generator.build((None, run.height, run.width, 6), (None, run.height, run.width, run.spec.label_nc))
        discriminator = DualDiscriminator(config.ndf, sigmoid=config.gan_mode == "original", name="discriminator")
        discriminator.build((None, run.height, run.width, 3))
        return generator, discriminator
    generator = build_generator(config.model, ngf=config.ngf, upsampler=config.upsampler,
                                ablation=config.ablation or None, **run.generator_kwargs)
    generator.build((None, run.height, run.width, run.semantic_nc))
    discriminator = build_discriminator(run.semantic_nc, ndf=config.ndf, model=config.model)
    discriminator.build((None, run.height, run.width, run.semantic_nc + 3))
    return generator, discriminator


def build_optimizers(config: TrainConfig, precision: str, generator, discriminator):
    """Two Adam optimisers (TTUR by default; lggan_tf.optimizers.FusedAdam, Keras Adam with one kernel per
    variable), built on their variables (must run inside the strategy scope)."""
    s = schedules.optimizer_settings(config.lr, config.beta1, config.beta2, config.ttur, 0, config.niter,
                                     config.niter_decay)
    optimizers = []
    for lr, name, model in ((s.lr_g, "g_adam", generator), (s.lr_d, "d_adam", discriminator)):
        opt = FusedAdam(learning_rate=lr, beta_1=s.beta1, beta_2=s.beta2, epsilon=schedules.ADAM_EPSILON, name=name)
        if precision == "mixed_float16":
            opt = keras.optimizers.LossScaleOptimizer(opt, name=f"{name}_loss_scale")
        opt.build(model.trainable_variables)
        optimizers.append(opt)
    return tuple(optimizers)

