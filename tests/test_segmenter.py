"""The project's small segmenter: trains on synthetic scenes and round-trips through segmenter.json."""

import json

import numpy as np

from lggan_tf import segmenter
from lggan_tf.metrics.segmentation import Segmenter


def test_trained_segmenter_loads_and_predicts_class_maps(tiny_segmenter):
    meta = json.loads((tiny_segmenter / "segmenter.json").read_text())
    assert meta["num_classes"] == 13 and meta["input_size"] == [32, 32] and meta["steps"] == 3
    seg = Segmenter.load(str(tiny_segmenter))
    pred = seg.predict(np.zeros((2, 48, 40, 3), np.uint8))  # resized to 32x32 and back
    assert pred.shape == (2, 48, 40) and pred.min() >= 0 and pred.max() < 13
    assert seg.class_names[0] == "road"


def test_cli_requires_train_command_and_out(tmp_path):
    assert segmenter.main(["segmenter", "--out", str(tmp_path)]) == 2
    assert segmenter.main(["segmenter", "train"]) == 2
