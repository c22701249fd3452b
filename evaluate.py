"""Evaluate a trained generator (or any method's images) with the paper's metrics; one JSON line per metric.

    python evaluate.py --model_dir=runs/synthetic-lggan-sau --flagfile=flags/eval_synthetic.cfg --segmenter=runs/seg
    python evaluate.py --real_dir=R --fake_dir=F --label_dir=L --metrics=fid,miou --segmenter=S --dataset=cityscapes
    python evaluate.py --real_dir=R --fake_dir=F --flagfile=flags/eval_cross_view.cfg    # converted nets in weights/

Lines go to stdout and are appended to <out_dir>/metric-<name>.jsonl. Exit code 2: bad flags or missing input.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags as absl_flags  # noqa: E402

from flags import eval_flags  # noqa: E402

eval_flags.define_eval_flags()
FLAGS = absl_flags.FLAGS


def main(argv) -> int:
    if len(argv) > 1:
        print(f"error: unexpected arguments {argv[1:]}; every option is a --flag (see --helpfull)", file=sys.stderr)
        return 2
    from datasets.errors import DatasetError
    from lggan_tf.inference import RunLoadError
    from lggan_tf.metrics.runner import run_evaluation

    try:
        run_evaluation(eval_flags.request_from_flags(FLAGS))
    except (ValueError, FileNotFoundError, DatasetError, RunLoadError) as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    return 0


def run(argv: list[str]) -> int:
    """In-process entry point (tests): parse `argv` (argv[0] = program name) and run main."""
    FLAGS.unparse_flags()
    return main(FLAGS(argv))


if __name__ == "__main__":
    app.run(main)
