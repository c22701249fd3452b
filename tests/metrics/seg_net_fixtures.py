"""Shared checks of the segmenters' ports against the PyTorch reference fixtures (tools/make_*_fixture.py).

The fixture holds the seed, the key layout of the reference network's state_dict, the inputs and the reference
outputs; the weights are regenerated here from the seed (lggan_tf.metrics.nets.seeded) and go through the same
convert_state_dict as a real checkpoint.
"""

from __future__ import annotations

import json
import os

import numpy as np

from lggan_tf.metrics.nets.seeded import seeded_state_dict

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
TOLERANCE = 1e-4


def load_fixture(name: str):
    """(arrays dict, metadata dict, seeded state_dict) of tests/metrics/fixtures/<name>.npz/.json."""
    with open(os.path.join(FIXTURES, f"{name}.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with np.load(os.path.join(FIXTURES, f"{name}.npz")) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, meta, seeded_state_dict(meta["layout"], meta["seed"])


def relative_error(ours, ref) -> float:
    """max |ours - ref| / max |ref| (the output's scale)."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    return float(np.max(np.abs(ours - ref)) / max(np.max(np.abs(ref)), 1e-12))


def assert_layout_matches(layout, meta, unused=()) -> None:
    """A module's layout() equals the reference state_dict's keys, shapes and order, less the buffers inference
    never reads (num_batches_tracked, absent from old checkpoints, and `unused` suffixes)."""
    skip = ("num_batches_tracked",) + tuple(unused)
    ref = [(k, tuple(s)) for k, s, _ in meta["layout"] if not k.endswith(skip)]
    ours = [(k, tuple(s)) for k, s, _ in layout]
    assert set(ours) == set(ref), (sorted(set(ours) - set(ref))[:5], sorted(set(ref) - set(ours))[:5])
    assert ours == ref, "same keys, other order"


def converted_model(module, state, **kw):
    """module.build(**kw) with the weights of `state` through module.convert_state_dict (the real-checkpoint path)."""
    from lggan_tf.metrics.nets.common import assign_weights

    model = module.build(**kw)
    assign_weights(model, module.convert_state_dict(state, **kw))
    return model
