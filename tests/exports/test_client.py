"""exports.client against the stand-in TF Serving (real PredictionService gRPC API and REST JSON API)."""

import json

import numpy as np
import pytest
from PIL import Image

from exports import client
from exports.standin_server import StandInServer
from tests.exports.test_export import scene


@pytest.fixture(scope="module")
def server(exported):
    server = StandInServer(str(exported[0]), model_name="lggan").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def label_files(tmp_path_factory):
    labels, instances = scene(seed=3, batch=1)
    folder = tmp_path_factory.mktemp("labels")
    Image.fromarray(labels[0].astype(np.uint8)).save(folder / "label.png")
    Image.fromarray(instances[0].astype(np.uint8)).save(folder / "instance.png")
    return folder, labels, instances


def endpoint(server, protocol):
    return server.rest_url if protocol == "rest" else server.grpc_target


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
@pytest.mark.parametrize("signature", ["serving_default", "generate_png", "generate_with_instances"])
def test_client_round_trip_saves_the_served_image(server, loaded_export, label_files, tmp_path, protocol,
                                                  signature):
    folder, labels, instances = label_files
    out = tmp_path / "generated.png"
    extra = [f"--instance={folder / 'instance.png'}"] if signature == "generate_with_instances" else []
    code = client.main([f"--server={endpoint(server, protocol)}", f"--protocol={protocol}", "--model_name=lggan",
                        f"--signature={signature}", f"--label={folder / 'label.png'}", f"--output={out}", *extra])
    assert code == 0
    if signature == "generate_with_instances":
        want = loaded_export.signatures[signature](label_map=labels, instance_map=instances)["image"][0]
    else:
        want = loaded_export.signatures["serving_default"](label_map=labels)["image"][0]
    np.testing.assert_array_equal(np.asarray(Image.open(out)), want.numpy())


def test_colour_label_maps_map_to_the_nearest_palette_class(server, exported, label_files, tmp_path):
    folder, labels, _ = label_files
    contract = json.loads((exported[1] / "assets" / "classes.json").read_text())
    colours = client.labels_to_colours(labels[0], contract["palette"]).astype(np.int16)
    noisy = np.clip(colours + np.random.default_rng(0).integers(-3, 4, colours.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "colour.png")
    assert np.array_equal(client.read_label_png(str(tmp_path / "colour.png"), contract["palette"]), labels[0])
    with pytest.raises(ValueError, match="--classes_json"):
        client.read_label_png(str(tmp_path / "colour.png"))


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_server_errors_reach_the_client_with_the_graph_message(server, protocol):
    bad = np.full([64, 64], 200, np.int32)
    with pytest.raises(client.ServingError, match=r"class ids must be in \[0, "):
        client.generate(endpoint(server, protocol), bad, protocol)
    with pytest.raises(client.ServingError, match=r"expected int32 \[batch, 64, 64\]; got shape"):
        client.generate(endpoint(server, protocol), np.zeros([32, 64], np.int32), protocol)
    with pytest.raises(client.ServingError, match="(404|NOT_FOUND).*Servable not found"):
        client.generate(endpoint(server, protocol), np.zeros([64, 64], np.int32), protocol, model_name="other")
