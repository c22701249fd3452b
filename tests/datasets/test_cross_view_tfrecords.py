"""Cross-view datasets as TFRecords (`python -m datasets.make_tfrecords --dataset dayton ...`): the batches read
from the records, raw or --presize, equal the batches read from the six-panel files exactly (PNG files, lossless
PNG presizing: no decode tolerance needed), in training (shuffle, random crop) and test order, both directions."""

import json

import numpy as np
import pytest

from datasets import build_dataset, get_spec
from datasets.errors import DatasetError
from datasets.make_tfrecords import main as make_tfrecords


@pytest.fixture(scope="module")
def dayton_records(shared_data, tmp_path_factory):
    """The Dayton train samples (10 PNG six-panel files) written by the CLI as raw and as presized records."""
    data = shared_data / "dayton_samples"
    out = tmp_path_factory.mktemp("cv_records")
    for name, extra in (("raw", ["--shards=3"]), ("presized", ["--presize"])):
        code = make_tfrecords(["--dataset=dayton", f"--data_dir={data}", "--split=train", f"--out={out / name}",
                               *extra])
        assert code == 0
    return data, out


def batches(spec, data_dir, training, count=None, **kw):
    ds = build_dataset(spec, str(data_dir), "train", 2, training, seed=5, deterministic=True, **kw)
    return list((ds.take(count) if count else ds).as_numpy_iterator())


def assert_same_batches(a, b):
    assert len(a) == len(b) and len(a) > 0
    for i, (x, y) in enumerate(zip(a, b)):
        assert x.keys() == y.keys() == {"input_image", "image", "semantic", "masks", "name"}
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"batch {i} {key}")


@pytest.mark.parametrize("dataset, training", [("dayton", True), ("dayton", False), ("dayton_g2a", True)])
def test_records_give_the_batches_of_the_files(dayton_records, dataset, training):
    data, out = dayton_records
    spec = get_spec(dataset)
    files = batches(spec, data, training, count=6)  # 12 draws from 10 examples: a reshuffled second epoch
    assert files[0]["input_image"].shape == (2, 256, 256, 3) and files[0]["masks"].shape == (2, 256, 256, 6)
    assert_same_batches(files, batches(spec, out / "raw", training, count=6))
    if dataset == "dayton":  # presized for dayton's direction (dayton_g2a's is rejected below)
        assert_same_batches(files, batches(spec, out / "presized", training, count=6))
    if not training:
        names = [n.decode() for b in files for n in b["name"]]
        assert len(names) == 10 and len(set(names)) == 10


def test_records_at_another_size_and_the_trainers_count(dayton_records):
    from lggan_tf.train_config import TrainConfig
    from lggan_tf.train_setup import resolve_run

    data, out = dayton_records
    spec = get_spec("dayton")
    assert_same_batches(batches(spec, data, True, count=2, height=64, width=64),
                        batches(spec, out / "raw", True, count=2, height=64, width=64))
    plans = [resolve_run(TrainConfig.cross_view(dataset="dayton", data_dir=str(d), height=64, width=64,
                                                batch_size=2)) for d in (data, out / "raw")]
    assert plans[0].num_examples == plans[1].num_examples == 10
    meta = json.loads((out / "presized" / "train-meta.json").read_text())
    assert meta["presized"] == {"mode": "resize_and_crop", "load": 286, "out_h": 256, "out_w": 256}


def test_presized_records_refuse_another_geometry_or_direction(dayton_records):
    _, out = dayton_records
    with pytest.raises(DatasetError, match="presized for .*'load': 286.* this run needs .*'load': 72"):
        batches(get_spec("dayton"), out / "presized", True, count=1, height=64, width=64)
    with pytest.raises(DatasetError, match="presized for --dataset=dayton \\(a2g\\); --dataset=dayton_g2a reads g2a"):
        batches(get_spec("dayton_g2a"), out / "presized", True, count=1)
