"""Shared plumbing of the evaluation networks converted from PyTorch checkpoints.

    check_state_dict(state, layout, "inception_fid")      # ConversionError naming missing / unexpected / mis-shaped
    weights = {"conv1/kernel": conv_kernel(state["conv1.weight"]), ...}
    assign_weights(model, weights)                        # every Keras variable set exactly once, shapes checked
    save_converted(model, out_dir, name="inception_fid", source=path)    # <out_dir>/{weights.weights.h5, network.json}
    model = load_converted(out_dir, "inception_fid", build)

A converted directory holds `network.json` ({name, format_version, protocol, sources: [{file, sha256}]}) and
`weights.weights.h5` (Keras 3 weights of `build()`); it is written into a temporary sibling and renamed, so a failed
conversion leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

import numpy as np

from lggan_tf.run_dir import replace_dir

FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.weights.h5"
META_FILE = "network.json"


class ConversionError(ValueError):
    """A checkpoint does not fit the network: missing / unexpected keys or shape mismatches (one message)."""


def _few(items, n: int = 4) -> str:
    items = list(items)
    head = ", ".join(items[:n])
    return f"{head} (+{len(items) - n} more; {len(items)} in all)" if len(items) > n else head


def strip_prefix(state: dict, prefix: str = "module.") -> dict:
    """Drop a DataParallel prefix when every key carries it."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix):]: v for k, v in state.items()}
    return dict(state)


def check_state_dict(state: dict, layout, network: str, ignore=()) -> None:
    """Raise ConversionError unless `state` has exactly the keys of `layout` [(key, shape, dtype)] with those shapes.
    `ignore`: keys tolerated when present; BatchNorm `num_batches_tracked` may always be absent."""
    expected = {k: tuple(s) for k, s, _ in layout}
    optional = {k for k in expected if k.endswith(".num_batches_tracked")}  # absent from pre-1.0 checkpoints
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected and k not in ignore]
    shapes = [f"{k}: checkpoint {tuple(np.shape(state[k]))} vs {network} {expected[k]}"
              for k in expected if k in state and tuple(np.shape(state[k])) != expected[k]]
    problems = []
    if missing:
        problems.append(f"missing keys {_few(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_few(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches {_few(shapes, 3)}")
    if problems:
        raise ConversionError(f"not a {network} checkpoint: " + "; ".join(problems))


def conv_kernel(w) -> np.ndarray:
    """PyTorch conv weight [O, I, kh, kw] -> Keras kernel [kh, kw, I, O]."""
    return np.ascontiguousarray(np.transpose(np.asarray(w, np.float32), (2, 3, 1, 0)))


def dense_kernel(w) -> np.ndarray:
    """PyTorch linear weight [O, I] -> Keras kernel [I, O]."""
    return np.ascontiguousarray(np.asarray(w, np.float32).T)


def fold_batchnorm(state: dict, conv: str, bn: str, eps: float, conv_bias: str | None = None):
    """Keras (kernel [kh, kw, I, O], bias [O]) of PyTorch conv `conv`.weight followed by inference-mode BatchNorm
    `bn` (weight, bias, running_mean, running_var): w * g / sqrt(v + eps), b' = beta + (b - m) * g / sqrt(v + eps),
    folded in float64."""
    g, beta, m, v = (np.asarray(state[f"{bn}.{k}"], np.float64)
                     for k in ("weight", "bias", "running_mean", "running_var"))
    scale = g / np.sqrt(v + eps)
    w = np.asarray(state[f"{conv}.weight"], np.float64) * scale[:, None, None, None]
    b = np.asarray(state[f"{conv_bias}"], np.float64) if conv_bias else 0.0
    return conv_kernel(w), np.asarray(beta + (b - m) * scale, np.float32)


def assign_weights(model, weights: dict) -> None:
    """Set every variable of `model` from `weights` {variable.path: array}; ConversionError on any gap or shape."""
    variables = {v.path: v for v in model.weights}
    missing = [p for p in variables if p not in weights]
    extra = [p for p in weights if p not in variables]
    shapes = [f"{p}: {np.shape(weights[p])} vs {tuple(variables[p].shape)}" for p in variables
              if p in weights and tuple(np.shape(weights[p])) != tuple(variables[p].shape)]
    if missing or extra or shapes:
        raise ConversionError(f"{model.name}: converted weights do not fit the Keras model: missing "
                              f"{_few(missing) or 'none'}; extra {_few(extra) or 'none'}; shapes {_few(shapes, 3) or 'ok'}")
    for path, var in variables.items():
        var.assign(np.asarray(weights[path], var.dtype))


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_out_dir(out_dir: str) -> None:
    """FileExistsError unless out_dir is new, empty or a converted-network directory (which may be replaced)."""
    if os.path.exists(out_dir) and not os.path.isfile(os.path.join(out_dir, META_FILE)):
        if not os.path.isdir(out_dir) or os.listdir(out_dir):
            raise FileExistsError(f"--out={out_dir}: exists and is not a converted-network directory; "
                                  "choose a new or empty path")


def save_converted(model, out_dir: str, name: str, protocol: str, source=None, extra: dict | None = None) -> str:
    """Write <out_dir>/{weights.weights.h5, network.json} atomically (temp sibling, then rename). `source`: the
    checkpoint path(s) converted (names and sha256 recorded). An existing out_dir is replaced only if it is a
    converted-network directory or empty."""
    out_dir = os.path.abspath(out_dir)
    check_out_dir(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.", dir=parent)
    try:
        model.save_weights(os.path.join(tmp, WEIGHTS_FILE))
        sources = [source] if isinstance(source, str) else list(source or [])
        meta = {"name": name, "format_version": FORMAT_VERSION, "protocol": protocol,
                "sources": [{"file": os.path.basename(p), "sha256": file_sha256(p)} for p in sources],
                "keras_parameters": int(sum(int(np.prod(v.shape)) for v in model.weights)), **(extra or {})}
        with open(os.path.join(tmp, META_FILE), "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def read_meta(out_dir: str, name: str, flag: str) -> dict:
    """network.json of a converted directory, checked to be network `name`; FileNotFoundError / ValueError naming
    `flag` and the conversion command otherwise."""
    path = os.path.join(out_dir or "", META_FILE)
    hint = f"convert the published weights with: python -m lggan_tf.metrics.convert {name} --pytorch_checkpoint F --out DIR"
    if not os.path.isfile(path) or not os.path.isfile(os.path.join(out_dir, WEIGHTS_FILE)):
        raise FileNotFoundError(f"{flag}={out_dir!r}: not a converted {name} directory (no {META_FILE} / "
                                f"{WEIGHTS_FILE}); {hint}")
    with open(path, encoding="utf-8") as f:
        meta = json.load(f)
    if meta.get("name") != name:
        raise ValueError(f"{flag}={out_dir!r} holds {meta.get('name')!r}, expected {name!r}; {hint}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{flag}={out_dir!r}: format_version {meta.get('format_version')} != {FORMAT_VERSION}; "
                         f"re-run the conversion ({hint})")
    return meta


def load_converted(out_dir: str, name: str, build, flag: str = "--weights", **build_kw):
    """(model, meta) of a directory written by save_converted for network `name`."""
    meta = read_meta(out_dir, name, flag)
    model = build(**build_kw)
    model.load_weights(os.path.join(out_dir, WEIGHTS_FILE))
    return model, meta


__all__ = ["ConversionError", "assign_weights", "check_out_dir", "check_state_dict", "conv_kernel", "dense_kernel", "file_sha256",
           "fold_batchnorm",
           "load_converted", "read_meta", "save_converted", "strip_prefix"]
