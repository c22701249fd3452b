"""Shared wiring of the published segmenters (drn_d_105, deeplabv2_coco, upernet_101) to the converter interface.

    layout(drn, num_classes=19)          # [(key, shape, dtype)] of the reference state_dict (from the Keras model)
    convert(drn, state)                  # {keras variable path: array}; ConversionError on a wrong checkpoint
    save(drn, model, out_dir, source)    # common.save_converted + the Segmenter fields and the build kwargs
    model, meta = load(out_dir)          # any converted segmenter directory (network.json names the network)

Each segmenter module defines NAME, PROTOCOL (one paragraph), SEGMENTER (num_classes, input_size, input_range,
label_map, class_names for lggan_tf.metrics.segmentation.Segmenter), build(**kw) and build_kwargs(model).
"""

from __future__ import annotations

import functools
import json

from lggan_tf.metrics.nets import common
from lggan_tf.metrics.nets.torch_state import UNUSED_BUFFERS, convert_named, torch_layout

NAMES = ("drn_d_105", "deeplabv2_coco", "upernet_101")


@functools.lru_cache(maxsize=4)
def _layout_model(module, kw_json: str):
    return module.build(**json.loads(kw_json))


def layout_model(module, **kw):
    """A (cached) model of `module.build(**kw)` whose layer names give the PyTorch key layout."""
    return _layout_model(module, json.dumps(kw, sort_keys=True))


def layout(module, **kw) -> list:
    return torch_layout(layout_model(module, **kw))


def convert(module, state: dict, **kw) -> dict:
    """module.UNUSED_BUFFERS (optional): key suffixes of buffers eval mode never reads, accepted and dropped."""
    unused = UNUSED_BUFFERS + tuple(getattr(module, "UNUSED_BUFFERS", ()))
    return convert_named(state, layout_model(module, **kw), module.NAME, unused)


def save(module, model, out_dir: str, source: str | None = None) -> str:
    extra = {"segmenter": module.SEGMENTER, "build": module.build_kwargs(model)}
    return common.save_converted(model, out_dir, module.NAME, module.PROTOCOL, source, extra=extra)


def load(out_dir: str, flag: str = "--segmenter", expect: str | None = None):
    """(model, network.json) of a converted segmenter directory."""
    from lggan_tf.metrics.nets import network

    meta = common.read_meta(out_dir, expect, flag) if expect else _any_meta(out_dir, flag)
    module = network(meta["name"])
    model, meta = common.load_converted(out_dir, meta["name"], module.build, flag, **meta.get("build", {}))
    return model, meta


def _any_meta(out_dir: str, flag: str) -> dict:
    import os

    with open(os.path.join(out_dir, common.META_FILE), encoding="utf-8") as f:
        name = json.load(f).get("name")
    if name not in NAMES:
        raise ValueError(f"{flag}={out_dir!r} holds network {name!r}, not a segmenter ({', '.join(NAMES)})")
    return common.read_meta(out_dir, name, flag)


__all__ = ["NAMES", "convert", "layout", "layout_model", "load", "save"]
