"""The serving graph of a trained generator: validated label-map signatures for a TF Serving SavedModel.

    archive = build_archive(generator, ServingContract.from_spec(spec, height, width))
    archive.write_out(path, verbose=False)

Signatures (B = the export's batch size, or any when dynamic; H, W = the training size):
  serving_default:          label_map int32 [B,H,W] -> image uint8 [B,H,W,3] (zero instance edges)
  generate_with_instances:  label_map, instance_map int32 [B,H,W] -> image (only when the dataset uses instance
                            edges; TF Serving requires every input of a signature, so "optional" is a second one)
  generate_onehot:          onehot float32 [B,H,W,semantic_nc] -> image
  generate_png:             label_png_bytes string [] or [B] (8-bit grayscale PNG of class ids) -> image_png_bytes
  generate_debug:           label_map -> image, image_global, image_local (uint8), weight_map float32 [B,H,W,2]
                            (the last two when the model has a local branch / weight map; paper Fig. 2)
Cross-view runs (task 'cross_view', paper §3.3) export instead (C = label_nc = 6 merged classes):
  serving_default:          input_image uint8 [B,H,W,3] (I_a), semantic uint8 [B,H,W,3] (target colour map S_g),
                            label_map int32 [B,H,W] (target class ids 0..C-1, C = void) -> image uint8 [B,H,W,3]
  generate_debug:           the same inputs -> image, image_global, image_local (uint8), weight_map float32 [B,H,W,2]
The generator reads concat(I_a, S_g) / 127.5 - 1 and the masks one_hot(label_map) (void: all zero), as in training.
Inputs are declared with unknown rank so that every check runs inside the graph and fails with InvalidArgument and
a message saying what was expected (rank, size, label range). The generator runs with training=False.
Endpoints are grouped per task (ENDPOINT_SETS); each set also gives the inputs of its warm-up request.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import tensorflow as tf

from datasets.transforms import semantic_from_labels


@dataclasses.dataclass(frozen=True)
class ServingContract:
    """What the exported graph accepts: sizes, label range, channel layout, class names and palette."""

    height: int
    width: int
    batch_size: int | None
    label_nc: int
    onehot_nc: int
    semantic_nc: int
    contain_dontcare: bool
    use_instance: bool
    class_names: tuple
    palette: tuple  # ((r, g, b), ...) one per label
    dataset: str = ""
    task: str = "synthesis"
    style_dim: int = 0  # SEAN: length of a region's style code (the `style` signature exists when > 0)
    mean_style_codes: bool = False  # SEAN: the label-only signatures use the run's mean codes (else zeros)

    @classmethod
    def from_spec(cls, spec, height: int, width: int, batch_size: int | None = None, task: str = "synthesis"):
        names = tuple(spec.class_names) or tuple(f"class_{i}" for i in range(spec.label_nc))
        palette = tuple(tuple(int(c) for c in row) for row in spec.palette_array())
        return cls(int(height), int(width), batch_size, int(spec.label_nc), int(spec.onehot_nc),
                   int(spec.semantic_nc), bool(spec.contain_dontcare), bool(spec.use_instance), names, palette,
                   spec.name, task)

    def to_json_dict(self) -> dict:
        return dataclasses.asdict(self)

    @property
    def batch_dims(self) -> str:
        return str(self.batch_size) if self.batch_size else "batch"

    def check_map(self, x, name: str):
        """Assert x is int [B,H,W] with this contract's size; returns x with a static shape."""
        return _check_shape(x, [self.batch_size, self.height, self.width],
                            f"{name}: expected int32 [{self.batch_dims}, {self.height}, {self.width}]")

    @property
    def label_values(self) -> int:
        """Accepted ids: [0, label_values) = the class ids, + the dontcare id label_nc when the dataset has one, or
        (cross-view) + the void id label_nc: pixels of no class, whose masks are all zero as in training."""
        return self.onehot_nc + int(self.task == "cross_view")

    def check_labels(self, label_map, name: str = "label_map"):
        """Assert a label map is int [B,H,W] in [0, label_values)."""
        label_map = self.check_map(label_map, name)
        extra = "+ dontcare" if self.contain_dontcare else "+ void" if self.task == "cross_view" else ""
        extra = f" {extra} id {self.label_nc}" if extra else ""
        valid = tf.logical_and(tf.reduce_min(label_map) >= 0, tf.reduce_max(label_map) < self.label_values)
        check = tf.debugging.Assert(valid, [
            f"{name}: class ids must be in [0, {self.label_values}) (label_nc={self.label_nc}{extra}, "
            f"{self.dataset}); got min, max:", tf.reduce_min(label_map), tf.reduce_max(label_map)])
        return _checked(label_map, check)

    def check_image(self, image, name: str):
        """Assert an image is [B,H,W,3] (its uint8 dtype is the signature's); returns it with a static shape."""
        return _check_shape(image, [self.batch_size, self.height, self.width, 3],
                            f"{name}: expected uint8 RGB [{self.batch_dims}, {self.height}, {self.width}, 3]")

    def check_onehot(self, onehot):
        return _check_shape(onehot, [self.batch_size, self.height, self.width, self.semantic_nc],
                            f"onehot: expected float32 [{self.batch_dims}, {self.height}, {self.width}, "
                            f"{self.semantic_nc}] (one-hot of {self.onehot_nc} classes"
                            f"{' + instance edges' if self.use_instance else ''})")


def _check_shape(x, want, expected: str):
    """Assert x has shape `want` (None = any) in one rank-safe check (no op that could fail first on a wrong
    rank); returns x with that static shape."""
    shape = tf.shape(x)
    first = tf.pad(shape, [[0, len(want)]])[:len(want)]  # any rank -> len(want) entries
    fixed = tf.constant([-1 if d is None else d for d in want])
    ok = tf.logical_and(tf.equal(tf.size(shape), len(want)),
                        tf.reduce_all(tf.logical_or(tf.equal(first, fixed), tf.equal(fixed, -1))))
    x = _checked(x, tf.debugging.Assert(ok, [f"{expected}; got shape", shape]))
    return tf.ensure_shape(x, want)


def _checked(x, check):
    """x, evaluated only after `check` passed (so no op downstream can fail first with a less clear message)."""
    with tf.control_dependencies([check]):
        return tf.identity(x)


def to_uint8(image):
    """[-1, 1] float image -> uint8, rounded like the training sample grids."""
    return tf.cast(tf.clip_by_value(tf.round((tf.cast(image, tf.float32) + 1.0) * 127.5), 0.0, 255.0), tf.uint8)


def served_outputs(out: dict) -> dict:
    """The generator outputs an endpoint may return (I_C, I_G, I_L, W), as float32."""
    keep = ("image", "image_global", "image_local", "weight_map")
    return {k: tf.cast(out[k], tf.float32) for k in keep if k in out}


def debug_outputs(out: dict) -> dict:
    """I_C, I_G, I_L as uint8 and the float weight map W (paper Fig. 2), those the generator has."""
    result = {k: to_uint8(out[k]) for k in ("image", "image_global", "image_local") if k in out}
    if "weight_map" in out:
        result["weight_map"] = out["weight_map"]
    return result


def _spec_view(contract: ServingContract):
    """The fields of a dataset spec that `semantic_from_labels` reads."""
    return dataclasses.make_dataclass("ContractSpec", ["use_instance", "onehot_nc", "semantic_nc"])(
        contract.use_instance, contract.onehot_nc, contract.semantic_nc)


class SynthesisEndpoints:
    """Label-map -> image endpoints of a semantic image synthesis generator (LGGAN, LGGAN++ or GauGAN)."""

    def __init__(self, generator, contract: ServingContract):
        self.generator, self.contract = generator, contract
        c = contract
        seg_spec = tf.TensorSpec([c.batch_size, c.height, c.width, c.semantic_nc], tf.float32)
        # One traced generator call shared by every endpoint (each endpoint calls it as a function).
        self.generate = tf.function(self._generate, input_signature=[seg_spec], autograph=False)

    def _generate(self, seg):
        return served_outputs(self.generator(seg, training=False))

    def semantic(self, label_map, instance_map=None):
        c = self.contract
        label_map = c.check_labels(label_map)
        if instance_map is not None:
            instance_map = c.check_map(instance_map, "instance_map")
        return semantic_from_labels(label_map, instance_map, _spec_view(c))

    def serving_default(self, label_map):
        return {"image": to_uint8(self.generate(self.semantic(label_map))["image"])}

    def generate_with_instances(self, label_map, instance_map):
        return {"image": to_uint8(self.generate(self.semantic(label_map, instance_map))["image"])}

    def generate_onehot(self, onehot):
        return {"image": to_uint8(self.generate(self.contract.check_onehot(onehot))["image"])}

    def generate_debug(self, label_map):
        return debug_outputs(self.generate(self.semantic(label_map)))

    def generate_png(self, label_png_bytes):
        c = self.contract
        pngs = _checked(label_png_bytes, tf.debugging.assert_rank_in(
            label_png_bytes, [0, 1], message="label_png_bytes: expected one PNG (scalar string) or a [batch] vector"))
        flat = tf.reshape(pngs, [-1])

        def decode(data):
            label = tf.io.decode_png(data, channels=0, dtype=tf.uint8)
            check = tf.debugging.Assert(
                tf.reduce_all(tf.equal(tf.shape(label), [c.height, c.width, 1])),
                [f"label_png_bytes: expected an 8-bit single-channel (grayscale) PNG of class ids, "
                 f"{c.height}x{c.width} (HxW); colour label maps: map colours to ids first (exports.client does); "
                 "got shape", tf.shape(label)])
            return _checked(label[..., 0], check)

        labels = tf.map_fn(decode, flat, fn_output_signature=tf.TensorSpec([c.height, c.width], tf.uint8))
        images = self.serving_default(tf.cast(labels, tf.int32))["image"]
        encoded = tf.map_fn(tf.io.encode_png, images, fn_output_signature=tf.string)
        return {"image_png_bytes": tf.reshape(encoded, tf.shape(pngs))}

    @staticmethod
    def warmup_inputs(contract: ServingContract) -> dict:
        """serving_default inputs of the warm-up request: an all-zero label map."""
        return {"label_map": np.zeros([contract.batch_size or 1, contract.height, contract.width], np.int32)}

    def endpoints(self):
        """[(name, fn, input_signature)] in registration order (serving_default first)."""
        c = self.contract
        any_int = tf.TensorSpec(None, tf.int32, name="label_map")
        items = [("serving_default", self.serving_default, [any_int])]
        if c.use_instance:
            items.append(("generate_with_instances", self.generate_with_instances,
                          [any_int, tf.TensorSpec(None, tf.int32, name="instance_map")]))
        items += [("generate_onehot", self.generate_onehot, [tf.TensorSpec(None, tf.float32, name="onehot")]),
                  ("generate_png", self.generate_png, [tf.TensorSpec(None, tf.string, name="label_png_bytes")]),
                  ("generate_debug", self.generate_debug, [any_int])]
        return items


class CrossViewEndpoints:
    """(input view I_a, target semantic map S_g, target class ids) -> target view of a cross-view generator."""

    def __init__(self, generator, contract: ServingContract):
        self.generator, self.contract = generator, contract
        c = contract
        inputs_spec = tf.TensorSpec([c.batch_size, c.height, c.width, 6], tf.float32)  # concat(I_a, S_g)
        masks_spec = tf.TensorSpec([c.batch_size, c.height, c.width, c.label_nc], tf.float32)
        self.generate = tf.function(self._generate, input_signature=[inputs_spec, masks_spec], autograph=False)

    def _generate(self, inputs, masks):
        return served_outputs(self.generator(inputs, masks, training=False))

    def condition(self, input_image, semantic, label_map):
        """Checked uint8 views and ids -> (concat(I_a, S_g) in [-1, 1] [B,H,W,6], masks [B,H,W,C]), as training."""
        c = self.contract
        views = [tf.cast(c.check_image(x, name), tf.float32) / 127.5 - 1.0
                 for x, name in ((input_image, "input_image"), (semantic, "semantic"))]
        masks = tf.one_hot(c.check_labels(label_map), c.label_nc, dtype=tf.float32)  # void id C -> all zero
        return tf.concat(views, -1), masks

    def serving_default(self, input_image, semantic, label_map):
        return {"image": to_uint8(self.generate(*self.condition(input_image, semantic, label_map))["image"])}

    def generate_debug(self, input_image, semantic, label_map):
        return debug_outputs(self.generate(*self.condition(input_image, semantic, label_map)))

    @staticmethod
    def warmup_inputs(contract: ServingContract) -> dict:
        """serving_default inputs of the warm-up request: black views, all-void labels."""
        b, h, w = contract.batch_size or 1, contract.height, contract.width
        return {"input_image": np.zeros([b, h, w, 3], np.uint8), "semantic": np.zeros([b, h, w, 3], np.uint8),
                "label_map": np.full([b, h, w], contract.label_nc, np.int32)}

    def endpoints(self):
        signature = [tf.TensorSpec(None, tf.uint8, name="input_image"), tf.TensorSpec(None, tf.uint8, name="semantic"),
                     tf.TensorSpec(None, tf.int32, name="label_map")]
        return [("serving_default", self.serving_default, signature),
                ("generate_debug", self.generate_debug, signature)]


ENDPOINT_SETS = {"synthesis": SynthesisEndpoints, "cross_view": CrossViewEndpoints}


def build_archive(generator, contract: ServingContract, mean_codes=None):
    """keras.export.ExportArchive with the contract's endpoints over a built generator (SEAN: plus `style`, with
    `mean_codes` [S, D] for the label-only signatures; exports/sean_serving.py)."""
    if contract.task not in ENDPOINT_SETS:
        raise ValueError(f"export of task {contract.task!r} is not supported; exportable tasks: "
                         f"{sorted(ENDPOINT_SETS)}")
    archive = keras.export.ExportArchive()
    archive.track(generator)
    if getattr(generator, "takes_style_image", False):
        from exports.sean_serving import SEANEndpoints

        endpoints = SEANEndpoints(generator, contract, mean_codes)
    else:
        endpoints = ENDPOINT_SETS[contract.task](generator, contract)
    for name, fn, signature in endpoints.endpoints():
        archive.add_endpoint(name, fn, input_signature=signature)
    return archive


__all__ = ["CrossViewEndpoints", "ENDPOINT_SETS", "ServingContract", "SynthesisEndpoints", "build_archive", "to_uint8"]
