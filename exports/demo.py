"""Interactive painting demo over an exported SavedModel (Gradio): paint a label map, see LGGAN++ render it.

    python -m exports.demo --export_dir exported/lggan [--port 7860] [--host 127.0.0.1]

Paint with the dataset's class colours (or upload a label map: palette-coloured, or grayscale class ids), press
Generate, and see the fused image I_C next to the global image I_G, the local image I_L and the weight map W_l of
Eq. (8) (white = local branch) -- the paper's Fig. 1 and 2, live. Works with any export of
exports.export_saved_model (it reads the class names and palette from assets/classes.json); a GauGAN export shows
only the image. A SEAN export adds a style-image input (and an optional label map of it; default: the painted map):
each painted region takes the style of the same class in the style image (`style` signature), the others the mean.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from exports.client import colours_to_labels, labels_to_colours
from exports.export_saved_model import latest_version_dir, read_contract

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def to_label_map(image: np.ndarray, contract: dict) -> np.ndarray:
    """Editor/upload image [h,w(,3|4)] -> int32 [H,W] class ids at the model size (nearest resize).

    A grey image whose values are all valid ids is read as ids; anything else maps to the nearest palette colour.
    """
    from PIL import Image

    h, w = contract["height"], contract["width"]
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if image.ndim == 3 and np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0],
                                                                                         image[..., 2]):
        image = image[..., 0]
    if image.shape[:2] != (h, w):
        image = np.asarray(Image.fromarray(image.astype(np.uint8)).resize((w, h), Image.NEAREST))
    if image.ndim == 2:
        if image.max() < contract["onehot_nc"]:
            return image.astype(np.int32)
        image = np.repeat(image[..., None], 3, -1)
    return colours_to_labels(image, contract["palette"])


class Painter:
    """The loaded export and the generate step of the demo (usable without a browser)."""

    def __init__(self, export_dir: str):
        import tensorflow as tf

        from exports.export_saved_model import ExportError

        self.path = latest_version_dir(export_dir)
        self.contract = read_contract(self.path)
        if self.contract.get("task", "synthesis") != "synthesis":
            raise ExportError(f"--export_dir={export_dir!r} is a {self.contract['task']} export; the demo paints label "
                              "maps for synthesis exports (send cross-view requests with python -m exports.client "
                              "--six_panel FILE)")
        loaded = tf.saved_model.load(self.path)
        self.debug = loaded.signatures["generate_debug"]
        self.style = loaded.signatures["style"] if self.contract.get("style_dim") else None

    def generate_styled(self, label_map: np.ndarray, style_image: np.ndarray, style_label: np.ndarray) -> dict:
        """SEAN: int32 [H,W] label map, RGB style image (any size: resized bicubic to the model size) and its int32
        [H,W] label map -> {"label", "image"} uint8."""
        from PIL import Image

        h, w = self.contract["height"], self.contract["width"]
        rgb = np.asarray(Image.fromarray(np.asarray(style_image)[..., :3].astype(np.uint8)).resize((w, h),
                                                                                                 Image.BICUBIC))
        out = self.style(label_map=label_map[None].astype(np.int32), style_image=rgb[None],
                         style_label=style_label[None].astype(np.int32))
        return {"label": labels_to_colours(label_map, self.contract["palette"]), "image": out["image"].numpy()[0]}

    def generate(self, label_map: np.ndarray) -> dict:
        """int32 [H,W] -> {"label": palette colours, "image", "image_global", "image_local", "weight_map"} uint8
        (entries the model does not have are None)."""
        out = {k: v.numpy()[0] for k, v in self.debug(label_map=label_map[None].astype(np.int32)).items()}
        weight = out.get("weight_map")
        return {"label": labels_to_colours(label_map, self.contract["palette"]), "image": out["image"],
                "image_global": out.get("image_global"), "image_local": out.get("image_local"),
                "weight_map": None if weight is None else np.round(weight[..., 0] * 255).astype(np.uint8)}

    def legend_html(self) -> str:
        items = [f'<span style="display:inline-block;margin:2px 6px"><span style="display:inline-block;width:12px;'
                 f'height:12px;background:rgb{tuple(c)};border:1px solid #888"></span> {i}: {name}</span>'
                 for i, (name, c) in enumerate(zip(self.contract["class_names"], self.contract["palette"]))]
        return "<div>" + "".join(items) + "</div>"


def build_demo(export_dir: str):
    import gradio as gr

    painter = Painter(export_dir)
    c = painter.contract
    colours = ["#%02x%02x%02x" % tuple(rgb) for rgb in c["palette"]]
    scale = max(1, 512 // max(c["height"], c["width"]))

    def run(editor, style_image=None, style_label=None):
        image = None if editor is None else editor.get("composite")
        if image is None or not np.asarray(image).size:
            raise gr.Error("Paint or upload a label map first.")
        label_map = to_label_map(image, c)
        if style_image is not None and painter.style is not None:
            ref = label_map if style_label is None else to_label_map(style_label, c)
            out = painter.generate_styled(label_map, style_image, ref)
            return out["label"], out["image"], None, None, None
        out = painter.generate(label_map)
        return out["label"], out["image"], out["image_global"], out["image_local"], out["weight_map"]

    with gr.Blocks(title="LGGAN++ painting demo") as demo:
        gr.Markdown(f"## LGGAN++ painting demo: {c['dataset']} ({c['height']}x{c['width']}, export "
                    f"{os.path.basename(painter.path)})\nPaint with the class colours (or upload a label map), then "
                    "**Generate**. I_C = W_l * I_L + W_g * I_G (Eq. (8)).")
        gr.HTML(painter.legend_html())
        with gr.Row():
            editor = gr.ImageEditor(label="Label map", type="numpy", image_mode="RGB", format="png",
                                    sources=["upload"], canvas_size=(c["width"] * scale, c["height"] * scale),
                                    brush=gr.Brush(colors=colours, default_color=colours[0], color_mode="fixed"),
                                    elem_id="label_editor")
            with gr.Column():
                seen = gr.Image(label="Label map as classes", elem_id="label_seen", format="png", height=256)
                styles = []
                if painter.style is not None:  # SEAN: per-region styles from a reference image
                    styles = [gr.Image(label="Style image (SEAN; optional)", type="numpy", elem_id="style_image",
                                       sources=["upload"], height=160),
                              gr.Image(label="Style image's label map (optional; default: the painted map)",
                                       type="numpy", elem_id="style_label", sources=["upload"], height=160)]
                button = gr.Button("Generate", variant="primary", elem_id="generate")
        with gr.Row():
            image = gr.Image(label="Generated I_C (fused)", elem_id="out_image", format="png", height=256)
            image_global = gr.Image(label="Global I_G", elem_id="out_global", format="png", height=256)
            image_local = gr.Image(label="Local I_L", elem_id="out_local", format="png", height=256)
            weight = gr.Image(label="Weight map W_l (white = local)", elem_id="out_weight", format="png", height=256)
        button.click(run, inputs=[editor, *styles], outputs=[seen, image, image_global, image_local, weight])
    return demo


def main(argv=None) -> int:
    import argparse

    from exports.export_saved_model import ExportError

    parser = argparse.ArgumentParser(prog="python -m exports.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--export_dir", required=True, help="export base dir (or one version dir)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve other machines")
    args = parser.parse_args(argv)
    try:
        demo = build_demo(args.export_dir)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    demo.launch(server_name=args.host, server_port=args.port, share=False, quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
