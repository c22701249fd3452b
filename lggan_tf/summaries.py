"""TensorBoard summaries and sample grids.

Scalars: `loss/<term>` (G and D terms, unweighted, plus `loss/g_total`, `loss/d_total`), `lr/g`, `lr/d`,
`timing/steps_per_sec`, `timing/images_per_sec`. Images (every summary interval, from the training batch of that
step as the official visualiser): `images/label` (dataset palette), `images/real`, `images/fused`, `images/global`,
`images/local`, `images/weight_map` (W_l of Eq. (7), white = local); cross-view has `images/input` (I_a) and
`images/semantic` (S_g) instead of the label. PNG grids go to `samples/<step:08d>.png` with a copy at
`samples/latest.png`: one row per example, columns label | real | fused | global | local | weight (cross-view:
input | semantic | real | fused | global | local | weight).
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import tensorflow as tf
from PIL import Image

# visual key -> (TensorBoard tag, column title)
COLUMNS = (("label", "images/label"), ("input", "images/input"), ("semantic", "images/semantic"),
           ("real", "images/real"), ("image", "images/fused"),
           ("image_global", "images/global"), ("image_local", "images/local"), ("weight_map", "images/weight_map"))


def colorize_labels(labels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """int [N, H, W] label map -> uint8 [N, H, W, 3]; indices outside the palette (dontcare) are black."""
    table = np.concatenate([np.asarray(palette, np.uint8), np.zeros((1, 3), np.uint8)], 0)
    return table[np.clip(labels.astype(np.int64), 0, len(table) - 1)]


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] float images [N, H, W, 3] -> uint8 (round half away, as export)."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def visual_panels(visuals: dict, palette: np.ndarray, max_images: int) -> dict:
    """Visual tensors (numpy) -> {key: uint8 [N, H, W, 3]} for the keys present, N <= max_images."""
    panels = {}
    for key, _ in COLUMNS:
        if key not in visuals:
            continue
        value = np.asarray(visuals[key])[:max_images]
        if key == "label":
            panels[key] = colorize_labels(value, palette)
        elif key == "weight_map":
            gray = np.clip(np.round(np.asarray(value, np.float32) * 255.0), 0, 255).astype(np.uint8)
            panels[key] = np.repeat(gray[..., None], 3, axis=-1)
        else:
            panels[key] = to_uint8(value)
    return panels


def sample_grid(panels: dict, pad: int = 2) -> np.ndarray:
    """Tile panels into one uint8 image: rows = examples, columns in COLUMNS order, `pad` white pixels between."""
    columns = [panels[key] for key, _ in COLUMNS if key in panels]
    n, h, w, _ = columns[0].shape
    grid = np.full((n * (h + pad) + pad, len(columns) * (w + pad) + pad, 3), 255, np.uint8)
    for r in range(n):
        for c, col in enumerate(columns):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            grid[y:y + h, x:x + w] = col[r]
    return grid


def write_sample_png(directory: str, step: int, grid: np.ndarray) -> str:
    """Write samples/<step:08d>.png and refresh samples/latest.png (copy, then rename); returns the step file."""
    path = os.path.join(directory, f"{int(step):08d}.png")
    Image.fromarray(grid).save(path)
    tmp = os.path.join(directory, ".latest.png.tmp")
    shutil.copyfile(path, tmp)
    os.replace(tmp, os.path.join(directory, "latest.png"))
    return path


class Summaries:
    """TensorBoard writer for `tb/train` plus sample PNGs; every method is a no-op when `enabled` is False."""

    def __init__(self, tb_dir: str, samples_dir: str, palette: np.ndarray, max_images: int = 4,
                 enabled: bool = True):
        self.enabled, self.samples_dir, self.palette, self.max_images = enabled, samples_dir, palette, max_images
        self.writer = tf.summary.create_file_writer(tb_dir) if enabled else None

    def scalars(self, step: int, values: dict) -> None:
        if not self.enabled:
            return
        with self.writer.as_default(step=int(step)):
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value))
        self.writer.flush()

    def images(self, step: int, visuals: dict) -> str | None:
        """Log the visuals as TensorBoard images and a PNG grid; returns the PNG path."""
        if not self.enabled or self.max_images < 1:
            return None
        panels = visual_panels(visuals, self.palette, self.max_images)
        with self.writer.as_default(step=int(step)):
            for key, tag in COLUMNS:
                if key in panels:
                    tf.summary.image(tag, panels[key], max_outputs=self.max_images)
        self.writer.flush()
        return write_sample_png(self.samples_dir, step, sample_grid(panels))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
