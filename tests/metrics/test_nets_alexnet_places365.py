"""AlexNet-Places365 against torchvision's AlexNet(num_classes=365) run in PyTorch
(fixture from tools/make_alexnet_places365_fixture.py), through the published checkpoint's key layout."""

import os

import numpy as np
import pytest

from lggan_tf.metrics import convert
from lggan_tf.metrics.nets import alexnet_places365, common
from lggan_tf.metrics.nets.seeded import seeded_state_dict
from lggan_tf.metrics.scene_classifier import SceneClassifier
from tests.metrics.nets_fixture import load_fixture, relative_error, write_pth

FIXTURE, META = load_fixture("alexnet_places365")
MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def places_state():
    """The fixture's weights keyed as alexnet_places365.pth.tar's state_dict (features under DataParallel)."""
    state = seeded_state_dict(META["layout"], int(FIXTURE["seed"]))
    return {k.replace("features.", "features.module."): v for k, v in state.items()}


def normalised():
    return ((FIXTURE["images"] / 255.0 - MEAN) / STD).astype(np.float32)


def test_logits_match_torchvision_alexnet():
    assert alexnet_places365.layout() == META["layout"]
    model = alexnet_places365.build(intermediates=True)
    common.assign_weights(model, alexnet_places365.convert_state_dict(places_state()))
    out = model(normalised())
    assert relative_error(out["logits"], FIXTURE["logits"]) <= 1e-4
    assert relative_error(out["fc7"], FIXTURE["fc7"]) <= 1e-4
    assert relative_error(np.mean(out["pool5"], axis=(1, 2)), FIXTURE["pool5_channel_mean"]) <= 1e-4


def test_converted_checkpoint_is_the_classifier_of_the_scene_scores(tmp_path):
    pth = tmp_path / "alexnet_places365.pth.tar"
    write_pth(pth, places_state(), wrap="state_dict")
    assert convert.main(["alexnet_places365", "--pytorch_checkpoint", str(pth), "--out", str(tmp_path / "a")]) == 0
    clf = SceneClassifier.load(str(tmp_path / "a"))
    assert relative_error(clf.model(normalised()), FIXTURE["logits"]) <= 1e-4
    probs = clf(FIXTURE["images"])
    assert probs.shape == (2, 365) and np.allclose(probs.sum(1), 1.0)


@pytest.mark.parametrize("damage", ["another_network", "truncated"])
def test_bad_checkpoints_exit_2_and_write_nothing(tmp_path, capsys, damage):
    pth = tmp_path / "alexnet_places365.pth.tar"
    if damage == "another_network":  # LPIPS-VGG's torchvision VGG16 backbone
        write_pth(pth, {"features.0.weight": np.zeros((64, 3, 3, 3), np.float32),
                        "features.0.bias": np.zeros(64, np.float32)})
    else:
        write_pth(pth, places_state())
        pth.write_bytes(pth.read_bytes()[:100_000])
    assert convert.main(["alexnet_places365", "--pytorch_checkpoint", str(pth), "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and os.listdir(tmp_path) == [pth.name]
    if damage == "another_network":
        assert ("not a alexnet_places365 checkpoint: missing keys features.3.weight" in err
                and "features.0.weight: checkpoint (64, 3, 3, 3) vs alexnet_places365 (64, 3, 11, 11)" in err)
    else:
        assert "truncated" in err and str(pth) in err
