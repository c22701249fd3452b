"""The painting demo's SEAN style input: the Painter's styled generate equals the `style` signature, and in
headless Chromium an uploaded label map + style image render through it."""

import io
import urllib.request

import numpy as np
import pytest
from PIL import Image

from exports.demo import Painter
from tests.exports.test_demo import CHROMIUM, launch_demo


@pytest.fixture(scope="module")
def style_scene():
    import datasets

    batch = next(iter(datasets.build_dataset(datasets.get_spec("synthetic"), None, "val", 2, training=False,
                                             height=64, width=64)))
    images = np.round((batch["image"].numpy() + 1) * 127.5).astype(np.uint8)
    return batch["label"].numpy().astype(np.int32), images


def test_painter_styled_generate_is_the_style_signature(sean_export, style_scene):
    path, loaded = sean_export
    labels, images = style_scene
    painter = Painter(path)
    assert painter.style is not None
    out = painter.generate_styled(labels[0], images[1], labels[1])
    assert out["image"].shape == (64, 64, 3)
    # same inputs through the signature; ACE noise differs per call and noise_var is ~1e-4 after 4 steps
    want = loaded.signatures["style"](label_map=labels[:1], style_image=images[1:],
                                      style_label=labels[1:])["image"].numpy()[0]
    assert np.abs(out["image"].astype(int) - want.astype(int)).max() <= 1


@pytest.fixture
def sean_demo_url(sean_export):
    yield from launch_demo(sean_export[0])


def test_sean_demo_in_headless_chromium_uses_the_style_image(sean_export, sean_demo_url, style_scene, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: apt-get install chromium (.ci/run does)")
    path, loaded = sean_export
    labels, images = style_scene
    painter = Painter(path)
    label_png, style_png = tmp_path / "label.png", tmp_path / "style.png"
    Image.fromarray(np.array(painter.contract["palette"], np.uint8)[labels[1]]).save(label_png)
    Image.fromarray(images[1]).save(style_png)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(sean_demo_url, timeout=120_000)
            page.wait_for_selector("#generate", timeout=120_000)
            page.locator("#label_editor input[type=file]").first.set_input_files(str(label_png))
            page.wait_for_selector("#label_editor canvas", timeout=60_000)
            page.locator("#style_image input[type=file]").first.set_input_files(str(style_png))
            page.wait_for_selector("#style_image img", timeout=60_000)
            page.wait_for_timeout(1500)
            page.click("#generate")
            page.wait_for_selector("#out_image img", timeout=120_000)
            src = page.locator("#out_image img").first.get_attribute("src")
        finally:
            browser.close()
    got = np.asarray(Image.open(io.BytesIO(urllib.request.urlopen(src, timeout=30).read())).convert("RGB"))
    styled = loaded.signatures["style"](label_map=labels[1:2], style_image=images[1:2],
                                        style_label=labels[1:2])["image"].numpy()[0]
    # the page's image is the `style` rendering of the uploaded map and style image (within the per-call noise)
    assert got.shape == (64, 64, 3) and np.abs(got.astype(int) - styled.astype(int)).max() <= 1
