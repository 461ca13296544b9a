"""The page of `dnaf app` in a real browser (Debian's headless Chromium): a picture uploaded, a
pose picked from the gallery or taken from an uploaded photo, Generate clicked, and the picture the
page shows is the API's, pixel for pixel; try-on with examples, the upper-garment mask and a mask
painted in the editor; an input error shown in the page; every file the page loads comes from the
app itself (it works offline). Skipped without Chromium."""

import io
import time
import urllib.request

import numpy as np
import pytest
from PIL import Image

from dnaf.cli import main
from dnaf.pipeline import Guidance

from .browser import choose, chromium, click_thumbnail, free_port, image_source, missing_browser, upload, wait_for
from .model_helpers import SIZE, randomise_injectors, save_tiny, tiny_model

MISSING = missing_browser()
pytestmark = [
    pytest.mark.slow,  # about 40 s: three browser sessions and the demo test set
    pytest.mark.skipif(MISSING is not None, reason=f"no browser for the page tests: {MISSING}"),
]
STEPS = 3
GUIDANCE = Guidance("disentangled", 1.5, 2.0)


def fetch_picture(url: str) -> np.ndarray:
    with urllib.request.urlopen(url, timeout=30) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())).convert("RGB"))


@pytest.fixture(scope="module")
def served(tmp_path_factory, small_demo_csv):
    """The page over a tiny saved model and the small demo's test set, on a free local port."""
    from dnaf.applications.api import DNAF
    from dnaf.applications.app.actions import Actions
    from dnaf.applications.app.choices import choices_from_test_set
    from dnaf.applications.app.page import build_page, serve

    folder = tmp_path_factory.mktemp("app")
    model, scheduler = tiny_model(pixel_patch=2)
    randomise_injectors(model)
    save_tiny(model, scheduler, folder / "model")
    assert main(["index-data", "--dataset", "demo", "--root", str(small_demo_csv), "--out", str(folder / "index")]) == 0
    actions = Actions(DNAF(folder / "model"), choices_from_test_set(folder / "index", small_demo_csv))
    page = build_page(actions, STEPS, GUIDANCE)
    url = serve(page, "127.0.0.1", free_port())
    yield url, actions
    page.close()


def test_the_page_generates_what_the_api_does(served, tmp_path):
    from selenium.webdriver.common.by import By

    url, actions = served
    from skimage import data

    source = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)  # any shape
    Image.fromarray(source).save(tmp_path / "source.png")
    astronaut = data.astronaut()[:, 90:390]
    Image.fromarray(astronaut).save(tmp_path / "astronaut.png")
    with chromium() as driver:
        started = time.perf_counter()
        driver.get(url)
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#pose-gallery button.thumbnail-item"))
        upload(driver, "source", tmp_path / "source.png")
        click_thumbnail(driver, "pose-gallery", 1)
        driver.find_element(By.ID, "generate").click()
        first = image_source(driver, "generate-output")
        shown = fetch_picture(first)
        wait_for(driver, lambda d: '"application"' in d.find_element(By.ID, "generate-record").text or
                 "transfer" in d.find_element(By.ID, "generate-record").text)  # fmt: skip
        record_text = driver.find_element(By.ID, "generate-record").text
        loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")

        upload(driver, "pose-photo", tmp_path / "astronaut.png")  # the pose from a photo: chosen by the upload
        driver.find_element(By.ID, "generate").click()
        from_photo = fetch_picture(image_source(driver, "generate-output", previous=first))
        elapsed = time.perf_counter() - started

    expected, _ = actions.engine.transfer(source, actions.choices.poses[1][1], 0, STEPS, GUIDANCE)
    assert shown.shape == (*SIZE, 3) and shown.std() > 10  # a picture, not a blank
    np.testing.assert_array_equal(shown, expected)  # PNG: the page shows the API's pixels exactly
    assert actions.choices.poses[1][0] in record_text
    expected, _ = actions.engine.transfer(source, astronaut, 0, STEPS, GUIDANCE)
    np.testing.assert_array_equal(from_photo, expected)
    outside = [name for name in loaded if not name.startswith(url.rstrip("/"))]
    assert len(loaded) > 10 and not outside, f"the page loaded files from elsewhere: {outside}"
    assert elapsed < 120


def test_try_on_with_examples_the_upper_garment_mask_and_a_painted_one(served):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, actions = served
    with chromium() as driver:
        driver.get(url)
        wait_for(driver, lambda d: d.find_elements(By.ID, "tab-try-on-button"))
        driver.find_element(By.ID, "tab-try-on-button").click()
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#person-examples button.thumbnail-item"))
        click_thumbnail(driver, "person-examples", 0)
        click_thumbnail(driver, "garment-examples", 3)
        choose(driver, "mask-from", "upper garment")
        image_source(driver, "person")
        driver.find_element(By.ID, "try-on").click()
        first = image_source(driver, "try-on-output")
        shown = fetch_picture(first)

        choose(driver, "mask-from", "drawn")  # now paint a stroke over the person in the editor
        canvas = driver.find_element(By.CSS_SELECTOR, "#mask-editor canvas")
        driver.execute_script("arguments[0].scrollIntoView()", canvas)
        stroke = ActionChains(driver).move_to_element_with_offset(canvas, -20, -20).click_and_hold()
        stroke.move_by_offset(20, 10).move_by_offset(20, 20).release().perform()
        driver.find_element(By.ID, "try-on").click()
        painted = fetch_picture(image_source(driver, "try-on-output", previous=first))
        wait_for(driver, lambda d: "drawn" in d.find_element(By.ID, "try-on-record").text)

    (person_name, _), (garment_name, _) = actions.choices.pictures[0], actions.choices.pictures[3]
    person = actions.choices.picture(0)
    mask = actions.choices.upper_garment(person_name, person.shape[:2])
    keypoints = actions.test_keypoints(person, person_name)
    expected, _ = actions.engine.try_on(person, actions.choices.picture(3), mask, keypoints, 0, STEPS, GUIDANCE)
    np.testing.assert_array_equal(shown, expected)
    assert person_name != garment_name and mask.any()
    assert painted.shape == (*SIZE, 3) and not np.array_equal(painted, shown)  # another region repainted


def test_an_input_error_is_shown_in_the_page(served):
    from selenium.webdriver.common.by import By

    url, _ = served
    with chromium() as driver:
        driver.get(url)
        wait_for(driver, lambda d: d.find_elements(By.ID, "generate"))
        driver.find_element(By.ID, "generate").click()
        wait_for(driver, lambda d: "no source picture" in d.find_element(By.TAG_NAME, "body").text, 30)
        assert "Traceback" not in driver.find_element(By.TAG_NAME, "body").text
