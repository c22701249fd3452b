"""Shared checks of the segmenters' ports against the PyTorch reference fixtures (tools/make_*_fixture.py).

The fixture holds the seed, the key layout of the reference network's state_dict, the inputs and the reference
outputs; the weights are regenerated here from the seed (lggan_tf.metrics.nets.seeded) and go through the same
convert_state_dict as a real checkpoint.
"""

from __future__ import annotations

from lggan_tf.metrics.nets.seeded import seeded_state_dict
from tests.metrics import nets_fixture

TOLERANCE = 1e-4
relative_error = nets_fixture.relative_error


def load_fixture(name: str):
    """(arrays, metadata, seeded state_dict) of tests/metrics/fixtures/<name>.npz/.json."""
    arrays, meta = nets_fixture.load_fixture(name)
    return arrays, meta, seeded_state_dict(meta["layout"], meta["seed"])


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
