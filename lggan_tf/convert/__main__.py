"""Convert official PyTorch checkpoints (LGGAN, SPADE/GauGAN, cross-view LGGAN) into an lggan-tf run directory.

    python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth [--pytorch_discriminator latest_net_D.pth] \
        --model lggan --dataset cityscapes --model_dir runs/official-lggan-cityscapes
    python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth --pytorch_discriminator latest_net_D1.pth \
        --pytorch_discriminator2 latest_net_D2.pth --model lggan_cv --dataset dayton --model_dir runs/official-dayton

Sizes (--ngf, --ndf, --spade_hidden, --height/--width or --crop_size) default to the dataset's official training
config (flags/<dataset>.cfg). No PyTorch needed: the .pth is read by a restricted unpickler. Exit codes: 0 written,
2 bad flags or a checkpoint that does not fit / cannot be read (nothing is written to --model_dir).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLAGS = flags.FlagValues()  # private: the converter can run in-process next to train.py / evaluate.py flags

_STRINGS = (
    ("pytorch_checkpoint", None, "Official generator state_dict (latest_net_G.pth)."),
    ("pytorch_discriminator", None, "Official discriminator: the SIS multiscale D (latest_net_D.pth) or the "
                                    "cross-view D_i (latest_net_D1.pth). Without it D keeps a fresh initialisation."),
    ("pytorch_discriminator2", None, "Cross-view only: the semantic-guided D_s (latest_net_D2.pth)."),
    ("pytorch_encoder", None, "GauGAN only: the VAE style encoder (latest_net_E.pth); turns on --use_vae."),
    ("dataset", None, "Dataset it was trained on (cityscapes, ade20k, coco_stuff, ..., dayton, dayton_g2a, cvusa, "
                      "sva): fixes the class count and the official sizes."),
    ("model_dir", None, "Run directory to write (must not exist unless --overwrite)."),
    ("data_dir", "", "Dataset folder recorded in the run's config (for evaluate.py / fine-tuning)."),
)
_SIZES = {"ngf": "Generator base width", "ndf": "Discriminator base width", "spade_hidden": "SPADE hidden width",
          "height": "Image height (with --width)", "width": "Image width (with --height)",
          "crop_size": "Image width with the dataset's aspect ratio (instead of --height/--width)"}
for _name, _default, _help in _STRINGS:
    flags.DEFINE_string(_name, _default, _help, flag_values=FLAGS)
for _name, _help in _SIZES.items():
    flags.DEFINE_integer(_name, None, f"{_help}; default: the dataset's official value (flags/<dataset>.cfg).",
                         flag_values=FLAGS)
flags.DEFINE_enum("model", None, ["lggan", "gaugan", "lggan_cv"], "Which official model the checkpoint is.",
                  flag_values=FLAGS)
flags.DEFINE_bool("overwrite", False, "Replace an existing --model_dir (after a successful conversion).",
                  flag_values=FLAGS)


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 2


def main(argv):
    logging.set_verbosity(logging.WARNING)
    if len(argv) > 1:
        return fail(f"unexpected arguments {argv[1:]}; every option is a --flag (see --helpfull)")
    for name in ("pytorch_checkpoint", "model", "dataset", "model_dir"):
        if not getattr(FLAGS, name):
            return fail(f"--{name} is required (python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth "
                        "--model lggan --dataset cityscapes --model_dir runs/official-lggan-cityscapes)")
    from datasets import list_datasets
    from lggan_tf.convert.official_config import base_config, converted_config
    from lggan_tf.convert.run_writer import convert_checkpoints

    if FLAGS.dataset not in list_datasets():
        return fail(f"--dataset={FLAGS.dataset!r}: expected one of {list_datasets()}")
    try:
        sizes = {name: getattr(FLAGS, name) for name in _SIZES if getattr(FLAGS, name) is not None}
        config = converted_config(FLAGS.model, base_config(FLAGS.dataset, FLAGS.model, os.path.join(REPO, "flags")),
                                  use_vae=bool(FLAGS.pytorch_encoder), data_dir=FLAGS.data_dir, **sizes)
        result = convert_checkpoints(FLAGS.model, config, FLAGS.model_dir, FLAGS.pytorch_checkpoint,
                                     FLAGS.pytorch_discriminator, FLAGS.pytorch_discriminator2,
                                     FLAGS.pytorch_encoder, overwrite=FLAGS.overwrite)
    except (ValueError, OSError) as err:
        return fail(str(err))
    print(result["message"], flush=True)
    print(f"checkpoint: {result['checkpoint']}", flush=True)
    return 0


def run(argv: list[str]) -> int:
    """Parse `argv` (argv[0] = program name) and convert; returns the exit code (in-process entry point)."""
    FLAGS.unparse_flags()
    if any(a in ("--help", "-h", "--helpfull") for a in argv[1:]):
        print(__doc__ + "\n" + FLAGS.get_help())
        return 0
    try:
        rest = FLAGS(argv)
    except flags.Error as err:
        return fail(f"{err} (see --help)")
    return main(rest)


if __name__ == "__main__":
    sys.exit(run(sys.argv))
