"""The procedural street-scene dataset (datasets/synthetic.py) as a registered dataset: no files needed.

Examples are rendered on the fly inside tf.data (`tf.numpy_function`), deterministic in (seed, split, index) and
rendered directly at the output size, so the `fixed` resize is a no-op. Split sizes default to
`synthetic.DEFAULT_SPLIT_SIZES`; `build_dataset(..., num_examples=N)` overrides them. data_dir is ignored.
"""

from __future__ import annotations

from datasets import synthetic
from datasets.base import DatasetSpec, register_procedural

SPEC = DatasetSpec(
    name="synthetic", label_nc=int(synthetic.LABEL_NC), contain_dontcare=False, use_instance=True,
    preprocess_mode="fixed", load_size=128, crop_size=128, aspect_ratio=1.0, num_upsampling_layers="normal",
    class_names=tuple(synthetic.CLASS_NAMES), palette=tuple(tuple(int(v) for v in c) for c in synthetic.PALETTE),
    default_metrics=("fid", "miou"), batch_size=8, niter=10, niter_decay=10,
)

register_procedural("synthetic", synthetic.render_scene, synthetic.DEFAULT_SPLIT_SIZES)
