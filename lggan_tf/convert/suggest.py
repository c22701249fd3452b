"""Recognise an official state_dict from its keys and shapes, to suggest the --model/--dataset/sizes that fit it."""

from __future__ import annotations

import re


def _count(state, pattern: str) -> int:
    rx = re.compile(pattern)
    return sum(1 for k in state if rx.fullmatch(k))


def recognise(state) -> dict:
    """{'kind': ..., plus the sizes read from the shapes}; kind is one of lggan, gaugan, lggan_cv, multiscale_d,
    patch_d, vae_encoder or unknown."""
    shape = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    if "deconv5_global.weight" in shape and "conv1.weight" in shape:
        return {"kind": "lggan_cv", "ngf": shape["conv1.weight"][0],
                "classes": _count(state, r"deconv5_\d+\.weight") - 1}
    if "resnet_blocks1.conv1.weight" in shape and "conv1.weight" in shape and "conv_img.weight" in shape:
        return {"kind": "lggan", "semantic_nc": shape["conv1.weight"][1], "ngf": shape["conv1.weight"][0],
                "spade_hidden": shape.get("head_0.norm_0.mlp_shared.0.weight", (None,))[0],
                "local_generators": _count(state, r"deconv5_\d+\.weight")}
    if "head_0.norm_0.mlp_shared.0.weight" in shape and "conv_img.weight" in shape:
        return {"kind": "gaugan", "semantic_nc": shape["head_0.norm_0.mlp_shared.0.weight"][1],
                "ngf": shape["conv_img.weight"][1], "spade_hidden": shape["head_0.norm_0.mlp_shared.0.weight"][0],
                "use_vae": len(shape.get("fc.weight", ())) == 2}
    if "discriminator_0.model0.0.weight" in shape:
        return {"kind": "multiscale_d", "input_nc": shape["discriminator_0.model0.0.weight"][1],
                "ndf": shape["discriminator_0.model0.0.weight"][0]}
    if "model.0.weight" in shape:
        return {"kind": "patch_d", "input_nc": shape["model.0.weight"][1], "ndf": shape["model.0.weight"][0]}
    if "layer1.0.weight_orig" in shape and "fc_mu.weight" in shape:
        return {"kind": "vae_encoder", "ngf": shape["layer1.0.weight_orig"][0]}
    return {"kind": "unknown"}


def _datasets_for(task: str, semantic_nc=None, local_generators=None):
    from datasets import get_spec, list_datasets

    names = []
    for name in list_datasets():
        if name == "custom":
            continue
        spec = get_spec(name)
        if spec.task != task:
            continue
        if semantic_nc is not None and spec.semantic_nc != semantic_nc:
            continue
        if local_generators is not None:
            rest = spec.local_rest_from
            n = spec.onehot_nc if rest is None else rest + 1
            if n != local_generators:
                continue
        names.append(name)
    return names


def suggestion(state, role: str = "generator") -> str:
    """One sentence: what the file looks like and the flags that would fit ('' when it cannot tell)."""
    facts = recognise(state)
    kind = facts["kind"]
    if kind == "lggan":
        fits = _datasets_for("synthesis", facts["semantic_nc"], facts["local_generators"])
        what = (f"an official LGGAN SIS generator ({facts['semantic_nc']} input channels, "
                f"{facts['local_generators']} class sub-generators, ngf {facts['ngf']}, SPADE hidden "
                f"{facts['spade_hidden']})")
        flags = f"--model=lggan --dataset={'|'.join(fits) or '<a dataset with that class count>'} " \
                f"--ngf={facts['ngf']} --spade_hidden={facts['spade_hidden']}"
    elif kind == "gaugan":
        fits = _datasets_for("synthesis", facts["semantic_nc"])
        what = (f"an official SPADE/GauGAN generator ({facts['semantic_nc']} input channels, ngf {facts['ngf']}, "
                f"SPADE hidden {facts['spade_hidden']}{', VAE' if facts['use_vae'] else ''})")
        flags = f"--model=gaugan --dataset={'|'.join(fits) or '<a dataset with that class count>'} " \
                f"--ngf={facts['ngf']} --spade_hidden={facts['spade_hidden']}"
        if facts["use_vae"]:
            flags += " --pytorch_encoder=latest_net_E.pth (its VAE encoder)"
    elif kind == "lggan_cv":
        what = f"an official cross-view LGGAN generator (ngf {facts['ngf']}, {facts['classes']} classes)"
        flags = f"--model=lggan_cv --dataset={'|'.join(_datasets_for('cross_view'))} --ngf={facts['ngf']}"
    elif kind == "multiscale_d":
        fits = _datasets_for("synthesis", facts["input_nc"] - 3)
        what = f"an official SPADE multiscale discriminator ({facts['input_nc']} input channels, ndf {facts['ndf']})"
        flags = f"--dataset={'|'.join(fits) or '?'} --ndf={facts['ndf']} (as --pytorch_discriminator)"
    elif kind == "patch_d":
        what = f"an official cross-view NLayerDiscriminator (ndf {facts['ndf']})"
        flags = f"--model=lggan_cv --ndf={facts['ndf']} (as --pytorch_discriminator or --pytorch_discriminator2)"
    elif kind == "vae_encoder":
        what = f"an official SPADE VAE encoder (latest_net_E.pth, nef {facts['ngf']})"
        flags = "--model=gaugan --pytorch_encoder=<this file>"
    else:
        return f"it is not an official LGGAN / SPADE {role} state_dict this converter knows"
    return f"it looks like {what}: try {flags}"
