"""A converted segmenter directory: `<network>.weights.h5` + `segmenter.json` (the file Segmenter.load reads).

    save_segmenter(model, out_dir, "drn_d_105", protocol, build_kwargs)
    model = load_segmenter_model(out_dir)      # rebuilt from lggan_tf.metrics.nets.NETWORKS + the weights

segmenter.json: {"network": name, "weights": file, "build": {build kwargs}, "num_classes", "input_size",
"input_range", "label_map", "class_names", "protocol": {...}}. Files are written under temporary names and renamed,
the json last, so an interrupted conversion leaves no directory that loads.
"""

from __future__ import annotations

import json
import os


def save_segmenter(model, out_dir: str, network: str, protocol: dict, build_kwargs: dict) -> str:
    os.makedirs(out_dir, exist_ok=True)
    weights = f"{network}.weights.h5"
    tmp = os.path.join(out_dir, f".{weights}.partial.weights.h5")
    model.save_weights(tmp)
    os.replace(tmp, os.path.join(out_dir, weights))
    meta = {"network": network, "weights": weights, "build": build_kwargs,
            "num_classes": protocol["num_classes"], "input_size": protocol.get("input_size"),
            "input_range": protocol["input_range"], "label_map": protocol.get("label_map"),
            "class_names": list(protocol.get("class_names", ())), "protocol": protocol}
    tmp = os.path.join(out_dir, ".segmenter.json.partial")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    os.replace(tmp, os.path.join(out_dir, "segmenter.json"))
    return out_dir


def read_meta(out_dir: str) -> dict:
    path = os.path.join(out_dir, "segmenter.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{out_dir!r}: no segmenter.json; convert the published weights with "
                                "`python -m lggan_tf.metrics.convert NAME --pytorch_checkpoint F --out DIR`")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_segmenter_model(out_dir: str, expect: str | None = None):
    """Rebuild the Keras model named in `<out_dir>/segmenter.json` and load its converted weights."""
    from lggan_tf.metrics.nets import NETWORKS

    meta = read_meta(out_dir)
    name = meta.get("network")
    if name not in NETWORKS or (expect and name != expect):
        want = expect or f"one of {sorted(NETWORKS)}"
        raise ValueError(f"{out_dir}/segmenter.json: network {name!r}, expected {want}")
    model = NETWORKS[name].build(**meta.get("build", {}))
    model.load_weights(os.path.join(out_dir, meta["weights"]))
    return model


__all__ = ["load_segmenter_model", "read_meta", "save_segmenter"]
