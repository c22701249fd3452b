"""`python -m datasets --dataset NAME --data_dir DIR --split train --summary|--check` (see datasets/report.py)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep stderr to our one-line errors

from datasets.report import main  # noqa: E402

sys.exit(main())
