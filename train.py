"""Train LGGAN / LGGAN++ (or GauGAN) for semantic image synthesis.

    python train.py                                   # quick start: LGGAN++ on the built-in synthetic dataset
    python train.py --flagfile=flags/cityscapes.cfg --data_dir=/data/cityscapes
    python train.py --flagfile=runs/<run>/flags.txt   # replay a run's flags (resumes in its model_dir)

Exit codes: 0 finished or interrupted after saving (SIGINT/SIGTERM), 2 bad flags or data, 3 NaN/Inf loss,
4 a checkpoint could not be saved.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags as absl_flags  # noqa: E402
from absl import logging  # noqa: E402

from flags import train_flags  # noqa: E402

train_flags.define_train_flags()
FLAGS = absl_flags.FLAGS


def fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


def main(argv):
    logging.set_verbosity(logging.WARNING)  # keep stdout to the status lines (TF checkpoint INFO chatter off)
    if len(argv) > 1:
        return fail(2, f"unexpected arguments {argv[1:]}; every option is a --flag (see --helpfull)")
    try:
        config = train_flags.config_from_flags(FLAGS)
    except ValueError as err:
        return fail(2, str(err))
    if config.logical_cpus:
        from lggan_tf.strategy import configure_logical_cpus

        configure_logical_cpus(config.logical_cpus)  # before any TensorFlow op
    from datasets.errors import DatasetError
    from lggan_tf import trainer

    try:
        if FLAGS.dry_run:
            print(json.dumps(trainer.dry_run(config), sort_keys=True), flush=True)
            return 0
        result = trainer.train(config, flags_text=FLAGS.flags_into_string())
    except DatasetError as err:
        return fail(2, f"dataset: {err}")
    except trainer.TrainingDiverged as err:
        return fail(3, str(err))
    except trainer.CheckpointSaveError as err:
        return fail(4, str(err))
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        return fail(2, str(err))
    print(result.message, flush=True)
    return 0


if __name__ == "__main__":
    app.run(main)
