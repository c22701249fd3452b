"""build_dataset behaviour: synthetic source, determinism, flip consistency, sharding, caching, TFRecords."""

import numpy as np
import pytest
import tensorflow as tf

import datasets
from datasets import make_tfrecords, synthetic

from .conftest import stripes, write_image, write_label

SIZE = 64


def synthetic_batches(seed, training=False, n=8, batch=4, steps=None, **kw):
    spec = datasets.get_spec("synthetic")
    ds = datasets.build_dataset(spec, None, "val", batch, training=training, seed=seed, num_examples=n,
                                height=SIZE, width=SIZE, deterministic=True, **kw)
    return [{k: v.numpy() for k, v in b.items()} for b in ds.take(steps or n // batch)]


def test_synthetic_shapes_and_every_class_in_val():
    spec = datasets.get_spec("synthetic")
    assert spec.label_nc == synthetic.LABEL_NC and spec.semantic_nc == synthetic.LABEL_NC + 1
    assert spec.output_size(True) == (128, 128) and spec.num_upsampling_layers == "normal"
    batches = synthetic_batches(0, n=16)
    assert batches[0]["semantic"].shape == (4, SIZE, SIZE, synthetic.LABEL_NC + 1)
    assert batches[0]["image"].dtype == np.float32 and batches[0]["name"][0] == b"val_0_0"
    present = set(np.unique(np.concatenate([b["label"] for b in batches])))
    assert present == set(range(synthetic.LABEL_NC))


def test_synthetic_is_deterministic_by_seed():
    a, b, c = synthetic_batches(5), synthetic_batches(5), synthetic_batches(6)
    for x, y in zip(a, b):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert not np.array_equal(a[0]["image"], c[0]["image"])


def test_training_is_reproducible_and_flips_label_image_and_edges_together():
    eval_ = {n: (b["label"][i], b["image"][i], b["semantic"][i])
             for b in synthetic_batches(3, n=8) for i, n in enumerate(b["name"])}
    first = synthetic_batches(3, training=True, steps=4)  # two epochs of 8
    second = synthetic_batches(3, training=True, steps=4)
    flips = set()
    for b1, b2 in zip(first, second):
        np.testing.assert_array_equal(b1["image"], b2["image"])  # same seed -> same order and augmentation
        for i, name in enumerate(b1["name"]):
            label, image, semantic = eval_[name]
            flipped = not np.array_equal(b1["label"][i], label)
            flips.add(flipped)
            way = (lambda x: x[:, ::-1]) if flipped else (lambda x: x)
            np.testing.assert_array_equal(b1["label"][i], way(label))
            np.testing.assert_array_equal(b1["image"][i], way(image))
            np.testing.assert_array_equal(b1["semantic"][i], way(semantic))
    assert flips == {True, False}


def test_input_context_shards_and_splits_the_batch():
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2)
    spec = datasets.get_spec("synthetic")
    ds = datasets.build_dataset(spec, None, "val", 4, training=False, num_examples=8, height=32, width=32,
                                input_context=context)
    names = [n for b in ds for n in b["name"].numpy()]
    assert ds.element_spec["label"].shape[1:] == (32, 32)
    assert names == [b"val_0_1", b"val_0_3", b"val_0_5", b"val_0_7"]
    assert next(iter(ds))["label"].shape[0] == 2  # per-replica batch 4 / 2


def test_cache_gives_the_same_batches():
    plain = synthetic_batches(1, training=True, n=8)
    cached = synthetic_batches(1, training=True, n=8, cache=True)
    for x, y in zip(plain, cached):
        np.testing.assert_array_equal(x["semantic"], y["semantic"])


def test_height_width_must_come_together():
    with pytest.raises(datasets.DatasetError, match="both or neither"):
        datasets.get_spec("ade20k").output_size(True, height=64)


@pytest.mark.parametrize("shards", [1, 3])
def test_tfrecords_round_trip_identically(tmp_path, shards):
    raw = tmp_path / "raw"
    for i in range(5):
        write_image(raw / "train_img" / f"e{i}.png", 20, 28, seed=i)
        write_label(raw / "train_label" / f"e{i}.png", stripes(20, 28, [0, i % 3, 2]))
        write_label(raw / "train_inst" / f"e{i}.png", stripes(20, 28, [1, 2, 3, 4][: 2 + i % 3]))
    spec = datasets.get_spec("custom", label_nc=3, use_instance=True)
    meta = make_tfrecords.write_tfrecords(spec, str(raw), "train", str(tmp_path / "rec"), num_shards=shards)
    assert meta["num_examples"] == 5 and len(list((tmp_path / "rec").glob("train-*.tfrecord"))) == shards

    def batches(root):
        ds = datasets.build_dataset(spec, str(root), "train", 1, training=False, height=16, width=24)
        return {b["name"].numpy()[0]: b for b in ds}

    from_files, from_records = batches(raw), batches(tmp_path / "rec")
    assert sorted(from_files) == sorted(from_records) == [f"e{i}".encode() for i in range(5)]
    for name, b in from_files.items():
        for key in ("label", "image", "semantic"):
            np.testing.assert_array_equal(b[key].numpy(), from_records[name][key].numpy())


def test_presized_tfrecords_match_the_folder_pipeline(cityscapes_root, tmp_path):
    spec = datasets.get_spec("cityscapes", crop_size=128)  # fixed 128x64
    meta = make_tfrecords.write_tfrecords(spec, str(cityscapes_root), "train", str(tmp_path), num_shards=2,
                                          presize=True)
    assert meta["presized"] == {"mode": "fixed", "load": 128, "out_h": 64, "out_w": 128}
    files = datasets.build_dataset(spec, str(cityscapes_root), "train", 2, training=True, seed=4, deterministic=True)
    records = datasets.build_dataset(spec, str(tmp_path), "train", 2, training=True, seed=4, deterministic=True)
    for a, b in zip(files.take(2), records.take(2)):
        assert a["name"].numpy().tolist() != [] and a["semantic"].shape == (2, 64, 128, 36)
        for key in ("name", "label", "image", "semantic"):
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    with pytest.raises(datasets.DatasetError, match="presized for"):
        datasets.build_dataset(datasets.get_spec("cityscapes"), str(tmp_path), "train", 1, training=True)
