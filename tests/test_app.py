"""The page's actions against the DNAF API called directly (same inputs and seed, same pixels),
its choices (test set, synthetic poses), its input errors, and `dnaf app` serving and refusing."""

import socket
import time
import urllib.request

import gradio as gr
import numpy as np
import pytest

from dnaf.applications.api import DNAF
from dnaf.applications.app.actions import Actions, Sampling, drawn_mask
from dnaf.applications.app.choices import Choices, choices_from_test_set, synthetic_poses
from dnaf.cli import main
from dnaf.core.errors import DataError
from dnaf.pipeline import Guidance

from .browser import free_port
from .model_helpers import SIZE, randomise_injectors, save_tiny, tiny_model

SAMPLING = Sampling(steps=2, mode="disentangled", pose_scale=1.5, appearance_scale=2.0, seed=3)
GUIDANCE = Guidance("disentangled", 1.5, 2.0)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    model, scheduler = tiny_model(pixel_patch=2)
    randomise_injectors(model)
    folder = tmp_path_factory.mktemp("model") / "model"
    save_tiny(model, scheduler, folder)
    return folder


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, small_demo_csv):
    folder = tmp_path_factory.mktemp("index")
    assert main(["index-data", "--dataset", "demo", "--root", str(small_demo_csv), "--out", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def actions(model_dir, index_dir, small_demo_csv):
    return Actions(DNAF(model_dir), choices_from_test_set(index_dir, small_demo_csv, count=4))


def test_choices_spread_over_the_test_set_or_fall_back_to_synthetic_poses(index_dir, small_demo_csv):
    from dnaf.data.index import DatasetIndex

    index = DatasetIndex.load(index_dir)
    choices = choices_from_test_set(index_dir, small_demo_csv, count=4)
    names = [name for name, _ in choices.pictures]
    assert len(set(names)) == 4 and set(index.images.loc[names, "split"]) == {"test"}
    assert len(set(index.images.loc[names, "identity"])) == 2  # both test people, not one person's four
    assert [name for name, _ in choices.poses] == names
    np.testing.assert_array_equal(choices.poses[2][1], index.keypoints(names[2]))
    assert choices.picture(0).shape == (*index.images.loc[names[0], ["height", "width"]], 3)
    upper = choices.upper_garment(names[0], (32, 22))
    assert upper.dtype == bool and upper.shape == (32, 22) and 0 < upper.mean() < 0.5
    with pytest.raises(DataError, match="test pictures of .* are missing"):
        choices_from_test_set(index_dir, small_demo_csv / "nowhere")

    synthetic = synthetic_poses(count=5, frame=SIZE)
    assert synthetic.pictures == () and synthetic.parts is None and len(synthetic.poses) == 5
    keypoints = np.stack([pose for _, pose in synthetic.poses])
    assert keypoints.shape == (5, 18, 2) and np.nanmin(keypoints) >= 0 and np.nanmax(keypoints) <= 1
    assert np.isfinite(keypoints[:, 1]).all()  # the neck of every pose is in the frame
    assert len({pose.tobytes() for pose in keypoints}) == 5
    with pytest.raises(DataError, match="no part label maps"):
        synthetic.upper_garment("any.jpg", SIZE)


def test_transfer_shows_what_the_api_gives_for_the_same_seed(actions):
    source = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    image, record = actions.transfer(source, "gallery", 1, None, SAMPLING)
    expected, _ = actions.engine.transfer(source, actions.choices.poses[1][1], 3, 2, GUIDANCE)
    np.testing.assert_array_equal(image, expected)
    assert image.shape == (*SIZE, 3) and image.std() > 10
    assert record["seed"] == 3 and record["steps"] == 2 and record["guidance"]["pose_scale"] == 1.5
    assert record["pose"].endswith(actions.choices.poses[1][0])
    other, _ = actions.transfer(source, "gallery", 1, None, Sampling(2, "disentangled", 1.5, 2.0, 4))
    assert not np.array_equal(other, image)


def test_input_errors_are_messages_for_the_page(actions):
    from skimage import data

    source = np.zeros((40, 30, 3), np.uint8)
    refusals = {
        "no source picture": lambda: actions.transfer(None, "gallery", 0, None, SAMPLING),
        "no pose chosen": lambda: actions.transfer(source, "gallery", None, None, SAMPLING),
        "no pose photo": lambda: actions.transfer(source, "photo", 0, None, SAMPLING),
        "steps must be at least 1": lambda: actions.transfer(source, "gallery", 0, None, Sampling(0, "none", 1, 1, 0)),
        "pose picture: no person found": lambda: actions.transfer(source, "photo", None, data.coffee(), SAMPLING),
        "no garment picture": lambda: actions.try_on(source, None, None, "drawn", None, None, SAMPLING),
        "nothing is painted": lambda: actions.try_on(source, None, source, "drawn", None, None, SAMPLING),
        "needs a person picked from the examples": lambda: actions.try_on(
            source, None, source, "upper garment", None, None, SAMPLING
        ),
        "the mask is 8x8, the person image 40x30": lambda: actions.try_on(
            source, None, source, "uploaded", None, np.zeros((8, 8), np.uint8), SAMPLING
        ),
    }
    for message, action in refusals.items():
        with pytest.raises(gr.Error, match=message):
            action()


def test_try_on_with_a_drawn_mask_and_with_a_test_person(actions):
    rng = np.random.default_rng(1)
    person = rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    garment = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    layer = np.zeros((64, 48, 4), np.uint8)  # the editor's canvas at twice the picture's size
    layer[20:44, 12:36] = (255, 0, 255, 255)
    editor = {"background": person, "layers": [layer], "composite": None}
    mask = drawn_mask(editor, SIZE)
    assert mask.shape == SIZE and mask.sum() == 12 * 12 and mask[10:22, 6:18].all()
    person_keypoints = actions.choices.poses[0][1]  # a pose given, so no extraction from noise
    dressed, record = actions.engine.try_on(person, garment, mask, person_keypoints, 3, 2, GUIDANCE)
    np.testing.assert_array_equal(dressed[~mask], person[~mask])

    name = actions.choices.pictures[0][0]
    picture = actions.choices.picture(0)
    image, record = actions.try_on(picture, name, garment, "upper garment", None, None, SAMPLING)
    upper = actions.choices.upper_garment(name, picture.shape[:2])
    keypoints = actions.test_keypoints(picture, name)
    expected, _ = actions.engine.try_on(picture, garment, upper, keypoints, 3, 2, GUIDANCE)
    np.testing.assert_array_equal(image, expected)
    assert record["pose"] == "the test picture's keypoints" and record["mask_pixels"] > 0
    assert actions.test_keypoints(picture, None) is None  # an uploaded person: the API extracts the pose


def test_cli_refuses_a_missing_model_and_serves_a_page_reaching_no_other_machine(
    tmp_path, model_dir, run_cli, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # no results/ here: the defaults are absent
    result = run_cli("app")
    assert result.code == 2 and "results/demo/train/model: no model folder" in result.text
    assert "make demo" in result.text

    served, hosts = {}, []

    def visit_instead_of_blocking(page):
        with urllib.request.urlopen(page.local_url, timeout=30) as response:
            served["status"], served["html"] = response.status, response.read().decode()
        time.sleep(1)  # time for any background thread of Gradio's to call home, were it to
        page.close()

    def recording(host, *args, **kwargs):  # every name or address anything looks up to connect to
        hosts.append(host)
        return lookup(host, *args, **kwargs)

    lookup = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", recording)
    monkeypatch.setattr(gr.Blocks, "block_thread", visit_instead_of_blocking)
    result = run_cli("app", "--model", model_dir, "--port", free_port())
    assert result.code == 0, result.text
    assert served["status"] == 200 and "<html" in served["html"]
    assert hosts and set(hosts) == {"127.0.0.1"}, f"the app reached for {set(hosts)}"
    assert "the pose gallery holds synthetic poses" in result.text
    assert any(m.startswith("the DNAF page is at http://127.0.0.1:") for m in result.messages)
    result = run_cli("app", "--model", model_dir, "--index", tmp_path / "no-index")
    assert result.code == 1 and "no-index/images.csv" in result.text
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("app", "--model", model_dir, "--port", port)
    assert result.code == 2 and f"cannot serve on 127.0.0.1:{port}" in result.text


def test_choices_without_pictures_offer_no_examples(model_dir):
    from dnaf.applications.app.page import build_page

    page = build_page(Actions(DNAF(model_dir), Choices((), synthetic_poses(3).poses)), 5, GUIDANCE)
    elem_ids = {block.elem_id for block in page.blocks.values() if getattr(block, "elem_id", None)}
    assert {
        "source",
        "pose-gallery",
        "generate",
        "generate-output",
        "generate-record",
        "mask-editor",
        "try-on",
    } <= elem_ids
    assert "source-examples" not in elem_ids


def test_the_browser_tests_say_why_they_skip_without_chromium(monkeypatch, tmp_path):
    from . import browser

    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    reason = browser.missing_browser()
    assert reason == f"{tmp_path / 'chromium'} not installed (apt-get install chromium chromium-driver)"
