"""The paper's evaluation networks as Keras models, converted from the published PyTorch checkpoints.

    module = network("inception_fid")              # imports lggan_tf.metrics.nets.inception_fid
    module.layout()                                # [(key, shape, dtype)] of the PyTorch state_dict, in its order
    weights = module.convert_state_dict(state)     # {keras variable path: array}; ConversionError on a wrong file
    model = module.build(); assign_weights(model, weights)
    module.save_converted(model, out_dir, source=path) / module.load_converted(out_dir)
    module.PROTOCOL                                # one paragraph: input size / range / resampling

Each module exposes `NAME`, `PROTOCOL`, `layout()`, `build(**kw) -> keras.Model`, `convert_state_dict(state)`,
`save_converted(model, out_dir, source=None)` and `load_converted(out_dir)`. Converting from a file:
`python -m lggan_tf.metrics.convert NAME --pytorch_checkpoint F --out DIR`.
"""

from __future__ import annotations

import importlib

from lggan_tf.metrics.nets.common import ConversionError  # noqa: F401

# name -> module (imported lazily: each pulls in TensorFlow and its own layers).
NETWORKS = {
    "inception_fid": "lggan_tf.metrics.nets.inception_fid",          # pytorch-fid / TTUR Inception-v3 (FID, KID)
    "alexnet_places365": "lggan_tf.metrics.nets.alexnet_places365",  # cross-view IS / accuracy / KL
    "lpips_alex": "lggan_tf.metrics.nets.lpips_nets",                # LPIPS v0.1 AlexNet-lin
    "lpips_vgg": "lggan_tf.metrics.nets.lpips_nets",                 # LPIPS v0.1 VGG16-lin
    "drn_d_105": "lggan_tf.metrics.nets.drn",                        # Cityscapes mIoU (h16b)
    "upernet_101": "lggan_tf.metrics.nets.upernet",                  # ADE20K mIoU (h16b)
    "deeplabv2_coco": "lggan_tf.metrics.nets.deeplabv2",             # COCO-Stuff mIoU (h16b)
}


def network(name: str):
    """The module implementing network `name` (for lpips_alex / lpips_vgg: a per-variant view of lpips_nets)."""
    if name not in NETWORKS:
        raise ValueError(f"unknown network {name!r}; expected one of {', '.join(NETWORKS)}")
    module = importlib.import_module(NETWORKS[name])
    variant = getattr(module, "variant", None)
    return variant(name) if variant else module


__all__ = ["ConversionError", "NETWORKS", "network"]
