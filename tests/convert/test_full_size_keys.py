"""Every key of the real-size official checkpoints (../shared/parity/official_keys_ngf64.json: key, shape, dtype of
each state_dict entry, built from the unedited official sources) maps to a variable of the right shape in our
full-size model, nothing is left over on either side, and the official dead weight is exactly the listed keys.
The models are built (variables created) but never run. Also: the NCHW <-> NHWC flattening of the GauGAN VAE's
linear layers (no fixture covers the VAE) against a NumPy reference of the official view()."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lggan_tf.convert.mapping_common import StateConsumer
from lggan_tf.convert.mapping_cross_view import map_cross_view_generator, map_patch_discriminator
from lggan_tf.convert.mapping_sis import (map_gaugan_generator, map_lggan_generator, map_multiscale_discriminator,
                                          map_vae_encoder, nchw_to_nhwc_index)
from lggan_tf.convert.official_config import converted_config
from lggan_tf.train_config import TrainConfig
from lggan_tf.train_setup import build_models, resolve_run
from tests.convert.conftest import parity_file

FULL = dict(ngf=64, ndf=64, spade_hidden=128, height=0, width=0, crop_size=0)
# official model -> (--model, dataset, which of our models, mapping, the official dead weight besides the
# num_batches_tracked of every norm with running statistics)
CASES = {
    "lggan_sis_cityscapes_ngf64": ("lggan", "cityscapes", "G", map_lggan_generator, {"fc.weight", "fc.bias"}),
    "lggan_sis_ade20k_ngf64": ("lggan", "ade20k", "G", map_lggan_generator, {"fc.weight", "fc.bias"}),
    "spade_gaugan_cityscapes_ngf64": ("gaugan", "cityscapes", "G", map_gaugan_generator, set()),
    "lggan_sis_multiscale_d_ndf64": ("lggan", "cityscapes", "D", map_multiscale_discriminator, set()),
    "spade_multiscale_d_ndf64": ("gaugan", "cityscapes", "D", map_multiscale_discriminator, set()),
    "lggan_crossview_ngf64": ("lggan_cv", "dayton", "G", map_cross_view_generator,
                              {"deconv5_7.weight", "deconv5_7.bias"}),
    "lggan_crossview_d_ndf64": ("lggan_cv", "dayton", "D_i", map_patch_discriminator, set()),
}


@pytest.fixture(scope="module")
def official_keys():
    return json.loads(parity_file("official_keys_ngf64.json").read_text())["models"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_full_size_official_key_maps_to_one_variable_of_its_shape(name, official_keys):
    model, dataset, which, mapper, dead = CASES[name]
    entries = official_keys[name]["keys"]
    assert len(entries) == official_keys[name]["num_entries"]
    # zero-stride views: the shapes without the memory of a 111 M-parameter checkpoint
    state = {key: np.broadcast_to(np.zeros((), np.dtype(dtype)), shape) for key, shape, dtype in entries}
    base = TrainConfig.cross_view(dataset=dataset) if model == "lggan_cv" else TrainConfig(dataset=dataset)
    config = converted_config(model, base, **FULL)
    g, d = build_models(config, resolve_run(config, count=False))
    target = {"G": g, "D": d, "D_i": getattr(d, "d_image", None)}[which]
    consumer = StateConsumer(state, name, keep_values=False)
    mapper(consumer, target)
    consumer.check(name)  # raises on a missing, unexpected or mis-shaped key
    tracked = {k for k in state if k.endswith(".num_batches_tracked")}
    assert set(consumer.dead) == dead | tracked
    assigned = [id(a.variable) for a in consumer.assignments]
    assert len(assigned) == len(set(assigned)), "a variable is assigned twice"
    ours = {id(v): v.path for v in target.weights if "seed" not in v.path}
    left = sorted(path for vid, path in ours.items() if vid not in set(assigned))
    assert not left, f"our variables no official key fills: {left[:5]}"
    official_params = sum(int(np.prod(s)) for k, s, _ in entries if k not in dead and not k.endswith(
        ("running_mean", "running_var", "num_batches_tracked", "weight_u", "weight_v")))
    trainable = sum(int(np.prod(v.shape)) for v in target.trainable_weights)
    assert trainable == official_params


def test_vae_linear_layers_follow_the_official_nchw_view():
    """G's fc output is viewed as NCHW [16 nf, sh, sw] and the encoder's last map is flattened as NCHW in the
    official code; ours reshape / flatten NHWC, so the converter permutes the Linear weights."""
    config = converted_config("gaugan", TrainConfig(dataset="cityscapes"), use_vae=True, ngf=4, spade_hidden=8,
                              height=64, width=128)
    g, _ = build_models(config, resolve_run(config, count=False))
    rng = np.random.default_rng(0)
    sh, sw = g.latent_hw
    nf, z_dim, e = g.ngf, g.z_dim, g.encoder
    s = e.input_size // 2 ** e.num_convs
    widths = [3] + [getattr(e, f"layer{i + 1}").filters for i in range(e.num_convs)]
    state = {"fc.weight": rng.normal(size=(16 * nf * sh * sw, z_dim)), "fc.bias": rng.normal(size=16 * nf * sh * sw)}
    for i in range(e.num_convs):
        state |= {f"layer{i + 1}.0.weight_orig": rng.normal(size=(widths[i + 1], widths[i], 3, 3)),
                  f"layer{i + 1}.0.weight_u": rng.normal(size=widths[i + 1]),
                  f"layer{i + 1}.0.weight_v": rng.normal(size=widths[i] * 9)}
    for head in ("fc_mu", "fc_var"):
        state |= {f"{head}.weight": rng.normal(size=(z_dim, widths[-1] * s * s)),
                  f"{head}.bias": rng.normal(size=z_dim)}
    state = {k: v.astype(np.float32) for k, v in state.items()}
    g_state = {k: v for k, v in state.items() if k.startswith("fc.")}
    consumer = StateConsumer(g_state, "G")
    consumer.linear("fc", g.fc, out_permutation=nchw_to_nhwc_index(16 * nf, sh, sw))  # as map_gaugan_generator
    consumer.apply()
    z = rng.normal(size=(2, z_dim)).astype(np.float32)
    official = (z @ state["fc.weight"].T + state["fc.bias"]).reshape(2, 16 * nf, sh, sw)  # x.view(-1, 16nf, sh, sw)
    ours = np.reshape(g.fc(z).numpy(), (2, sh, sw, 16 * nf))  # GauGANGenerator.call
    np.testing.assert_allclose(ours, official.transpose(0, 2, 3, 1), rtol=1e-5, atol=1e-4)
    consumer = StateConsumer({k: v for k, v in state.items() if not k.startswith("fc.")}, "E")
    map_vae_encoder(consumer, e)
    consumer.check("the VAE encoder")
    consumer.apply()
    feat = rng.normal(size=(2, widths[-1], s, s)).astype(np.float32)  # the last conv's output, NCHW
    official_mu = feat.reshape(2, -1) @ state["fc_mu.weight"].T + state["fc_mu.bias"]  # x.view(x.size(0), -1)
    ours_mu = e.fc_mu(feat.transpose(0, 2, 3, 1).reshape(2, -1)).numpy()  # VAEEncoder.call flattens NHWC
    np.testing.assert_allclose(ours_mu, official_mu, rtol=1e-5, atol=1e-4)
