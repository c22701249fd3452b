"""The FID Inception against pytorch-fid run in PyTorch (fixture from tools/make_inception_fid_fixture.py)."""

import numpy as np
import pytest

from lggan_tf.metrics.frechet import frechet_distance
from lggan_tf.metrics.nets import ConversionError, common, inception_fid
from lggan_tf.metrics.nets.seeded import seeded_state_dict
from tests.metrics.nets_fixture import load_fixture, relative_error

FIXTURE, META = load_fixture("inception_fid")


@pytest.fixture(scope="module")
def outputs():
    """Our network with the fixture's seeded weights, converted as a real checkpoint, on the fixture's images."""
    state = seeded_state_dict(META["layout"], int(FIXTURE["seed"]))
    model = inception_fid.build(intermediates=True)
    common.assign_weights(model, inception_fid.convert_state_dict(state))
    return {k: v.numpy() for k, v in model(inception_fid.preprocess(FIXTURE["images"])).items()}


def test_layout_is_the_reference_state_dict_in_order():
    assert inception_fid.layout() == META["layout"]
    assert META["reference_repo"].endswith("mseitzer/pytorch-fid") and len(META["reference_commit"]) == 40


def test_features_match_pytorch_fid(outputs):
    assert relative_error(outputs["pool3"], FIXTURE["pool3"]) <= 1e-4
    for name in ("block0", "block1", "block2"):
        assert tuple(outputs[name].shape[1:]) == tuple(FIXTURE[f"{name}_shape"][[2, 3, 1]])
        assert relative_error(outputs[name].mean(axis=(1, 2)), FIXTURE[f"{name}_channel_mean"]) <= 1e-4


@pytest.mark.cost(10)
def test_fid_matches_pytorch_fid(outputs):
    n = len(FIXTURE["images"]) // 2

    def fid(feats):
        a, b = np.asarray(feats[:n], np.float64), np.asarray(feats[n:], np.float64)
        return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))

    assert FIXTURE["fid"] > 10  # the two sets differ: the comparison is not 0 == 0
    assert abs(fid(outputs["pool3"]) - FIXTURE["fid"]) <= 1e-3   # our features, our float64 math (eigh, not sqrtm)


def test_another_networks_checkpoint_is_refused_with_the_keys():
    alexnet = {"features.0.weight": np.zeros((64, 3, 11, 11), np.float32), "classifier.6.bias": np.zeros(365)}
    with pytest.raises(ConversionError, match=r"not a inception_fid checkpoint: missing keys Conv2d_1a_3x3.conv"
                                              r".*\+\d+ more.*unexpected keys features.0.weight"):
        inception_fid.convert_state_dict(alexnet)
    state = seeded_state_dict(META["layout"], 0)
    state["Mixed_7c.branch_pool.conv.weight"] = np.zeros((192, 2048, 3, 3), np.float32)
    with pytest.raises(ConversionError, match=r"Mixed_7c.branch_pool.conv.weight: checkpoint \(192, 2048, 3, 3\) "
                                              r"vs inception_fid \(192, 2048, 1, 1\)"):
        inception_fid.convert_state_dict(state)
