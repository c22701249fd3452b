"""Convert official PyTorch checkpoints (LGGAN, SPADE/GauGAN, cross-view LGGAN) into an lggan-tf run directory.

    python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth [--pytorch_discriminator latest_net_D.pth] \
        --model lggan --dataset cityscapes --model_dir runs/official-lggan-cityscapes
    python -m lggan_tf.convert --pytorch_checkpoint latest_net_G.pth --pytorch_discriminator latest_net_D.pth \
        --pytorch_discriminator2 latest_net_D2.pth --model lggan_cv --dataset dayton --model_dir runs/official-dayton

Sizes (--ngf, --ndf, --spade_hidden, --height/--width or --crop_size) default to the dataset's official training
config (flags/<dataset>.cfg). No PyTorch needed: the .pth is read by a restricted unpickler. Exit codes: 0 written,
2 bad flags or a checkpoint that does not fit / cannot be read (nothing is written to --model_dir).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZE_FLAGS = ("ngf", "ndf", "spade_hidden", "height", "width", "crop_size")

flags.DEFINE_string("pytorch_checkpoint", None, "Official generator state_dict (latest_net_G.pth).")
flags.DEFINE_string("pytorch_discriminator", None, "Official discriminator (latest_net_D.pth): the SIS multiscale "
                    "D, or the cross-view D_i (D1). Without it D keeps a fresh initialisation.")
flags.DEFINE_string("pytorch_discriminator2", None, "Cross-view only: the semantic-guided D_s (latest_net_D2.pth).")
flags.DEFINE_string("pytorch_encoder", None, "GauGAN only: the VAE style encoder (latest_net_E.pth); turns on "
                    "--use_vae in the converted run.")
flags.DEFINE_enum("model", None, ["lggan", "gaugan", "lggan_cv"], "Which official model the checkpoint is.")
flags.DEFINE_string("dataset", None, "Dataset it was trained on (cityscapes, ade20k, coco_stuff, ..., dayton, "
                    "dayton_g2a, cvusa, sva): fixes the class count and the official sizes.")
flags.DEFINE_string("model_dir", None, "Run directory to write (must not exist unless --overwrite).")
flags.DEFINE_string("data_dir", "", "Dataset folder recorded in the run's config (for evaluate.py / fine-tuning).")
flags.DEFINE_bool("overwrite", False, "Replace an existing --model_dir (after a successful conversion).")
flags.DEFINE_integer("ngf", None, "Generator base width (default: the dataset's official, 64).")
flags.DEFINE_integer("ndf", None, "Discriminator base width (default: the dataset's official, 64).")
flags.DEFINE_integer("spade_hidden", None, "SPADE hidden width (official 128).")
flags.DEFINE_integer("height", None, "Image height (with --width); default the dataset's official size.")
flags.DEFINE_integer("width", None, "Image width (with --height).")
flags.DEFINE_integer("crop_size", None, "Image width with the dataset's aspect ratio (instead of --height/--width).")
FLAGS = flags.FLAGS


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
        sizes = {name: getattr(FLAGS, name) for name in SIZE_FLAGS if getattr(FLAGS, name) is not None}
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


if __name__ == "__main__":
    app.run(main)
