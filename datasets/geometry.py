"""Static resize/crop plan of SPADE's preprocess modes (pure Python: no TF import, usable by the CLI and checks)."""

from __future__ import annotations

import dataclasses

from datasets.errors import DatasetError


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Static resize/crop plan. `load`: square side (resize_and_crop) or target width (scale_width*)."""

    mode: str
    out_h: int
    out_w: int
    load: int
    crop: bool
    training: bool
    flip: bool

    @property
    def render_size(self) -> tuple[int, int]:
        """Size a procedural source renders at so that the resize step is a no-op (aspect as the spec's)."""
        if self.mode == "resize_and_crop":
            return self.load, self.load
        if self.mode == "scale_width_and_crop":
            return max(self.load * self.out_h // self.out_w, self.out_h), self.load
        if self.mode == "crop":
            return self.out_h, self.out_w
        return self.out_h, self.out_w


def plan_geometry(spec, training: bool, height: int | None = None, width: int | None = None) -> Geometry:
    """Resolve the preprocess mode, load size and static output size (H, W) for train or test."""
    if (height is None) != (width is None):
        raise DatasetError(f"height={height}, width={width}: pass both or neither")
    if height is not None and (int(height) < 1 or int(width) < 1):
        raise DatasetError(f"height={height}, width={width}: expected positive sizes")
    mode = spec.preprocess_mode if training else (spec.test_preprocess_mode or spec.preprocess_mode)
    load = spec.load_size if training else (spec.test_load_size or spec.crop_size)
    crop = mode in ("resize_and_crop", "scale_width_and_crop", "crop")
    if mode == "fixed":
        out_h, out_w = (height, width) if height else (int(round(spec.crop_size / spec.aspect_ratio)), spec.crop_size)
        load = out_w
    elif mode == "scale_width":
        load = width or load
        out_h, out_w = (height, width) if height else (int(round(load / spec.aspect_ratio)), load)
    else:
        out_h, out_w = (height, width) if height else (spec.crop_size, spec.crop_size)
        if height:
            load = int(round(load * max(height, width) / spec.crop_size))
        too_small = load < out_w or (mode == "resize_and_crop" and load < out_h)
        if mode != "crop" and too_small:
            raise DatasetError(f"{spec.name}: load size {load} < crop {out_h}x{out_w} in mode {mode!r}; "
                               f"set load_size >= crop_size")
    flip = bool(training and not spec.no_flip)
    return Geometry(mode, int(out_h), int(out_w), int(load), crop, bool(training), flip)
