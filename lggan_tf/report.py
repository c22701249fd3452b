"""Visual evaluation report: `<eval dir>/report.html` + `grid.png`.

The grid shows, for the first examples of the split, label | real | fused | global | local | weight map (W_l of
Eq. (7), white = local), the same columns as the training samples (lggan_tf.summaries). The page lists the metric
results and, when a segmenter is given, the per-class IoU of the segmenter on the generated images.
"""

from __future__ import annotations

import html
import json
import os

import numpy as np
from PIL import Image

from lggan_tf import summaries


def visual_grid(run, spec, split: str, num_images: int, data_dir=None, seed: int = 0) -> np.ndarray:
    """uint8 grid of the first `num_images` examples of `split` through `run.generator` (a LoadedRun)."""
    from datasets import build_dataset

    ds = build_dataset(spec, data_dir or None, split, num_images, training=False, seed=seed,
                       num_examples=num_images, height=run.plan.data_height, width=run.plan.data_width)
    batch = next(iter(ds))
    from lggan_tf.inference import generate_batch

    out = generate_batch(run.generator, batch)
    visuals = {"label": batch["label"].numpy(), "real": batch["image"].numpy(),
               **{k: out[k].numpy() for k in ("image", "image_global", "image_local") if k in out}}
    if "weight_map" in out:
        visuals["weight_map"] = out["weight_map"].numpy()[..., 0]
    return summaries.sample_grid(summaries.visual_panels(visuals, spec.palette_array(), num_images))


def _table(rows, header) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(directory: str, run, ctx, results, num_images: int = 8) -> str:
    """Write grid.png and report.html into `directory`; returns the HTML path."""
    from lggan_tf.metrics.definitions import segmentation_confusion
    from lggan_tf.metrics.segmentation import per_class_iou

    o = ctx.options
    grid = visual_grid(run, run.plan.spec, o.split, num_images, run.config.data_dir, o.seed)
    Image.fromarray(grid).save(os.path.join(directory, "grid.png"))
    columns = " | ".join(title.split("/")[-1] for key, title in summaries.COLUMNS
                         if key != "weight_map" or getattr(run.generator, "use_weight_map", True))
    parts = [f"<h1>LGGAN evaluation: {html.escape(o.dataset)} {html.escape(o.split)}, step {run.step}</h1>",
             f"<p>checkpoint {html.escape(run.checkpoint)}; {len(ctx.pairs)} images</p>",
             "<h2>Metrics</h2>",
             _table([(r.metric, json.dumps({k: v for k, v in r.results.items() if k != "per_class_iou"}))
                     for r in results], ("metric", "results")),
             f"<h2>Samples</h2><p>{html.escape(columns)}</p><img src='grid.png' alt='samples'>",
             "<h2>Per-class IoU of the segmenter on generated images</h2>"]
    if o.segmenter:
        seg, conf = segmentation_confusion(ctx)
        names = seg.class_names or tuple(str(i) for i in range(seg.num_classes))
        pixels = conf.sum(axis=1)
        rows = [(i, n, "-" if np.isnan(v) else f"{100 * v:.1f}", int(p))
                for i, (n, v, p) in enumerate(zip(names, per_class_iou(conf), pixels))]
        parts.append(_table(rows, ("id", "class", "IoU (%)", "label pixels")))
    else:
        parts.append("<p>No segmenter given (--segmenter): no per-class IoU.</p>")
    style = "<style>body{font-family:sans-serif} td,th{border:1px solid #ccc;padding:2px 6px}</style>"
    path = os.path.join(directory, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"<!doctype html><html><head><meta charset='utf-8'>{style}</head><body>{''.join(parts)}"
                "</body></html>\n")
    return path


__all__ = ["visual_grid", "write_report"]
