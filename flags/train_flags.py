"""Flags of train.py. Defaults come from `TrainConfig` (= the quick start, flags/synthetic.cfg), so `python train.py`
with no flag trains LGGAN++ on the built-in synthetic dataset; `config_from_flags` gives the frozen TrainConfig."""

from __future__ import annotations

import dataclasses

from absl import flags

from lggan_tf.train_config import (CLASS_POOLINGS, CROSS_VIEW_DEFAULTS, D_JUDGES, GAN_MODES, MODELS, PRECISIONS,
                                   STRATEGIES, TASKS, WEIGHT_MAP_HEADS, TrainConfig)

_DEFAULTS = TrainConfig()

HELP = {
    "task": "synthesis (semantic image synthesis) or cross_view (Dayton / CVUSA / SVA; unset flags then take the "
            "official cross-view values: dayton 256x256, ngf/ndf 64, batch 4, 20 + 15 epochs, convtranspose, "
            "Adam(2e-4, 0.5, 0.999), BCE, L1 100, VGG 10 (imagenet weights), TV 1e-6, float32).",
    "dataset": "Dataset name (datasets.list_datasets()); 'synthetic' needs no files.",
    "data_dir": "Dataset root folder (not needed for synthetic).",
    "model_dir": "Run directory; default runs/<dataset>-<model>-<upsampler>. Re-running on it resumes.",
    "model": "gaugan (SPADE baseline), lggan (local + global generators) or sean (per-region style codes, ACE).",
    "upsampler": "sau = LGGAN++ semantic-aware upsampling; nearest = LGGAN / GauGAN; or any upsampler registry name.",
    "ablation": "LGGAN ablation B1..B5 (paper Table 9); empty = full model.",
    "use_vae": "GauGAN only: VAE style encoder (KL weight --lambda_kld).",
    "style_dim": "SEAN only: length of each region's style code (official 512).",
    "style_regions": "SEAN only: fc_mu layers per ACE; 0 = one per semantic channel (any class count), 19 = the "
                     "official ACE (to load converted official checkpoints; channels >= 19 then get no style).",
    "ngf": "Generator base width (paper 64).",
    "ndf": "Discriminator base width (paper 64).",
    "spade_hidden": "Hidden width of each SPADE modulation (official nhidden 128).",
    "crop_size": "Training width; height = width / the dataset's aspect ratio. 0 = the dataset's.",
    "height": "Training height (with --width); overrides --crop_size. 0 = the dataset's.",
    "width": "Training width (with --height). 0 = the dataset's.",
    "num_examples": "Use only the first N training examples (0 = all); also sets the epoch length.",
    "batch_size": "Global batch size, split evenly over the replicas.",
    "train_steps": "Target global step (not 'more steps'); 0 = from --epochs or --niter + --niter_decay.",
    "epochs": "Train this many epochs (0 = niter + niter_decay); ignored when --train_steps > 0.",
    "niter": "Epochs at the base learning rate.",
    "niter_decay": "Epochs of linear learning-rate decay to 0 after --niter.",
    "lr": "Base learning rate (TTUR: G lr/2, D 2lr).",
    "beta1": "Adam beta1 with --no_ttur (TTUR uses 0).",
    "beta2": "Adam beta2 with --no_ttur (TTUR uses 0.9).",
    "gan_mode": "Adversarial loss.",
    "lambda_feat": "Discriminator feature-matching weight.",
    "lambda_vgg": "VGG19 perceptual weight (0 skips VGG entirely).",
    "lambda_l1_local": "Local L1 weight (Eq. (3)).",
    "lambda_class": "Class cross-entropy weight (Eq. (6)).",
    "lambda_l1": "Image L1 weight (official scripts: 0).",
    "lambda_kld": "VAE KL weight (GauGAN --use_vae).",
    "lambda_tv": "Total-variation weight (official cross-view 1e-6).",
    "d_judges": "What the discriminator judges: fused = I_C only (the paper's Eq. (9), (10)); all = I_C, I_G and I_L "
                "(the official code). Without a local branch (ablation B1) I_C is I_G and is judged once.",
    "weight_map_head": "End of G_w: paper = Conv1x1 -> InstanceNorm -> ReLU before the softmax (paper section 3.3); "
                       "official = the bare 1x1 conv of the official code. Same parameters.",
    "class_pooling": "Classification module pooling: paper = mean of each F_i over its class region ('semantic-"
                     "guided average pooling'); official = mean over the whole image, zeros included.",
    "cross_view_classifier": "Cross-view only: add the classification module (Eq. (6), weight --lambda_class); the "
                             "official cross-view code has none.",
    "mask_class_images": "LGGAN: keep each class image U_i only inside its mask M_i (default); off = the official code, "
                         "where U_i is tanh(conv) everywhere (converted official checkpoints set it off).",
    "vgg_weights": "VGG19 weights: imagenet (download), a local .h5 path, or none (random; only with weight 0).",
    "mixed_precision": "auto = mixed_bfloat16 on bf16-capable hardware (AVX512_BF16/AMX CPU, GPU cc>=8), else "
                       "float32. mixed_float16 uses loss scaling.",
    "jit_compile": "XLA-compile the train steps (GPU; slower on CPU).",
    "strategy": "auto = multi_worker with TF_CONFIG, mirrored with several GPUs, else one_device.",
    "logical_cpus": "Split the CPU into N logical devices (tests of the mirrored path without GPUs).",
    "seed": "Random seed (weights, data order, augmentation).",
    "synthetic_seed": "Which scenes the built-in synthetic dataset draws (fixed, so runs with different --seed train "
                      "on the same scenes).",
    "deterministic": "Deterministic ops and input order (bit-exact resume on CPU; slower).",
    "resume": "auto (latest checkpoint in model_dir), none (fresh; refuses a dir with checkpoints) or a checkpoint "
              "prefix.",
    "log_every_steps": "Status line, stats.jsonl and scalar summaries every N steps.",
    "summary_every_steps": "Image summaries and samples/*.png every N steps.",
    "save_every_steps": "Checkpoint every N steps (and at the end / on SIGINT, SIGTERM).",
    "keep_checkpoints": "Checkpoints kept in model_dir/checkpoints.",
    "num_sample_images": "Examples per image summary / sample grid.",
    "inject_nan_at_step": "Testing hook: make the G adversarial loss NaN at this step (0 = off).",
}

_ENUMS = {"task": TASKS, "model": MODELS, "mixed_precision": PRECISIONS, "strategy": STRATEGIES,
          "gan_mode": GAN_MODES, "d_judges": D_JUDGES, "weight_map_head": WEIGHT_MAP_HEADS,
          "class_pooling": CLASS_POOLINGS}


def define_train_flags(flag_values: flags.FlagValues = flags.FLAGS) -> None:
    """Define one flag per TrainConfig field (plus --no_ttur and --dry_run)."""
    for field in dataclasses.fields(TrainConfig):
        name, default = field.name, getattr(_DEFAULTS, field.name)
        if name == "ttur":
            flags.DEFINE_bool("no_ttur", not default, "Disable TTUR: Adam(beta1, beta2), both rates = --lr.",
                              flag_values=flag_values)
        elif name in _ENUMS:
            flags.DEFINE_enum(name, default, _ENUMS[name], HELP[name], flag_values=flag_values)
        elif isinstance(default, bool):
            flags.DEFINE_bool(name, default, HELP[name], flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, HELP[name], flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, HELP[name], flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, HELP[name], flag_values=flag_values)
    flags.DEFINE_bool("dry_run", False, "Print the resolved config and parameter counts as one JSON object, then "
                      "exit (builds the models, reads no data).", flag_values=flag_values)


def config_from_flags(flag_values: flags.FlagValues = flags.FLAGS) -> TrainConfig:
    """The TrainConfig the parsed flags describe (raises ValueError naming the bad flag). With --task=cross_view,
    flags left unset (on the command line and in flag files) take CROSS_VIEW_DEFAULTS."""
    values = {}
    cross_view = flag_values["task"].value == "cross_view"
    for field in dataclasses.fields(TrainConfig):
        flag = "no_ttur" if field.name == "ttur" else field.name
        if cross_view and field.name in CROSS_VIEW_DEFAULTS and not flag_values[flag].present:
            values[field.name] = CROSS_VIEW_DEFAULTS[field.name]
        elif field.name == "ttur":
            values["ttur"] = not flag_values["no_ttur"].value
        else:
            values[field.name] = flag_values[field.name].value
    return TrainConfig(**values)
