"""The painting demo (`python -m exports.demo`) driven in headless Chromium: upload a label map, press Generate,
read the generated image back."""

import io
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from exports.demo import Painter, to_label_map
from tests.conftest import REPO
from tests.exports.test_export import scene

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_painter_maps_colours_and_returns_every_branch(exported, loaded_export):
    painter = Painter(str(exported[0]))
    labels, _ = scene(seed=5, batch=1)
    colours = np.array(painter.contract["palette"], np.uint8)[labels[0]]
    assert np.array_equal(to_label_map(colours, painter.contract), labels[0])
    big = np.kron(colours, np.ones([3, 3, 1], np.uint8))  # an upscaled canvas comes back at the model size
    assert np.array_equal(to_label_map(big, painter.contract), labels[0])
    assert np.array_equal(to_label_map(labels[0].astype(np.uint8), painter.contract), labels[0])  # grey ids
    out = painter.generate(labels[0])
    np.testing.assert_array_equal(out["image"], loaded_export.signatures["serving_default"](label_map=labels)["image"][0])
    for key in ("image_global", "image_local", "weight_map"):
        assert out[key] is not None and out[key].shape[:2] == (64, 64), key


@pytest.fixture
def demo_url(exported):
    yield from launch_demo(exported[0])


def launch_demo(export_dir):
    """Start `python -m exports.demo` on a free port; yields its URL, then stops it."""
    pytest.importorskip("gradio", reason="gradio not installed (pip install -e '.[test]')")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "exports.demo", f"--export_dir={export_dir}", f"--port={port}"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail("demo exited: " + proc.stdout.read()[-3000:])
            try:
                urllib.request.urlopen(url, timeout=5)
                break
            except OSError:
                if time.time() > deadline:
                    pytest.fail(f"demo did not answer on {url} within 180 s")
                time.sleep(1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_demo_in_headless_chromium_generates_an_image(exported, loaded_export, demo_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: apt-get install chromium (.ci/run does)")
    contract = json.loads((exported[1] / "assets" / "classes.json").read_text())
    labels, _ = scene(seed=7, batch=1)
    label_png = tmp_path / "label.png"
    Image.fromarray(np.array(contract["palette"], np.uint8)[labels[0]]).save(label_png)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(demo_url, timeout=120_000)
            page.wait_for_selector("#generate", timeout=120_000)
            page.locator("#label_editor input[type=file]").first.set_input_files(str(label_png))
            page.wait_for_selector("#label_editor canvas", timeout=60_000)
            page.wait_for_timeout(1500)  # the editor composes the uploaded background
            page.click("#generate")
            page.wait_for_selector("#out_image img", timeout=120_000)
            page.wait_for_selector("#out_weight img", timeout=60_000)
            sources = {k: page.locator(f"#{k} img").first.get_attribute("src") for k in ("out_image", "label_seen")}
            natural = page.evaluate("() => { const i = document.querySelector('#out_image img');"
                                    " return [i.naturalWidth, i.naturalHeight]; }")
        finally:
            browser.close()
    assert natural == [64, 64]
    fetched = {k: np.asarray(Image.open(io.BytesIO(urllib.request.urlopen(v, timeout=30).read())).convert("RGB"))
               for k, v in sources.items()}
    assert fetched["out_image"].shape == (64, 64, 3)
    seen = to_label_map(fetched["label_seen"], contract)
    assert (seen == labels[0]).mean() > 0.95  # the upload went through the editor as (nearly) the same classes
    served = loaded_export.signatures["serving_default"](label_map=seen[None])["image"][0].numpy()
    np.testing.assert_array_equal(fetched["out_image"], served)
