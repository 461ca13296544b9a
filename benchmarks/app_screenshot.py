"""The page of `dnaf app` after one pose transfer, as a screenshot (the README's), and the seconds
from clicking Generate to the picture in the page, with the dataset's sampling settings; with
--try-on, the try-on tab after one try-on too.

Picks the first test picture as the source and the pose of a test picture of another person; for
try-on, the first test person in another person's garment, inside the upper-garment mask (the
synthetic datasets' part maps). Through headless Chromium (Debian's chromium and chromium-driver;
see tests/browser.py). Prints one JSON line.
Run: PYTHONPATH=. python benchmarks/app_screenshot.py --model results/demo/train/model \
    --index results/demo/data --root data/demo --out docs/images/app.png --try-on docs/images/app-try-on.png
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import time
from pathlib import Path

from PIL import Image

from dnaf.applications.app.actions import Actions
from dnaf.applications.app.choices import choices_from_test_set
from dnaf.applications.app.page import build_page, serve
from dnaf.commands.apply import engine
from dnaf.config import Config
from tests.browser import choose, chromium, click_thumbnail, free_port, image_source, wait_for

MAX_BYTES = 300_000


def compact_png(png: bytes) -> bytes:
    """The screenshot as a 256-colour PNG when the full-colour one is over MAX_BYTES (a page of
    flat colours loses nothing visible)."""
    if len(png) <= MAX_BYTES:
        return png
    buffer = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def screenshot(driver) -> bytes:
    driver.execute_script("window.scrollTo(0, 0)")
    time.sleep(1)  # the record's panel renders after the picture
    return compact_png(driver.get_screenshot_as_png())


def timed_click(driver, button: str, output: str) -> float:
    """Seconds from clicking ``button`` to a picture in ``output``."""
    from selenium.webdriver.common.by import By

    started = time.perf_counter()
    driver.find_element(By.ID, button).click()
    image_source(driver, output, timeout=600)
    return time.perf_counter() - started


def try_on(driver, other: int) -> float:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "tab-try-on-button").click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#person-examples button.thumbnail-item"))
    click_thumbnail(driver, "person-examples", 0)
    click_thumbnail(driver, "garment-examples", other)
    choose(driver, "mask-from", "upper garment")
    image_source(driver, "person")
    return timed_click(driver, "try-on", "try-on-output")


def main() -> None:
    from selenium.webdriver.common.by import By

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--dataset", default="demo")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--try-on", type=Path, help="PNG file for the try-on tab's screenshot")
    parser.add_argument("--window", default="1280x1000", help="WIDTHxHEIGHT of the browser window")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    dnaf, guidance, steps = engine(args.model, args.dataset, Config())
    choices = choices_from_test_set(args.index, args.root)
    page = build_page(Actions(dnaf, choices), steps, guidance)
    url = serve(page, "127.0.0.1", free_port())
    other = len(choices.poses) // 2  # the middle of a test set sorted by person: another person
    timings, shots = {}, {args.out: b""}
    width, height = (int(v) for v in args.window.split("x"))
    try:
        with chromium((width, height)) as driver:
            driver.get(url)
            wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#source-examples button.thumbnail-item"))
            click_thumbnail(driver, "source-examples", 0)
            image_source(driver, "source")
            click_thumbnail(driver, "pose-gallery", other)
            timings["transfer_seconds"] = round(timed_click(driver, "generate", "generate-output"), 2)
            shots[args.out] = screenshot(driver)
            if args.try_on:
                timings["try_on_seconds"] = round(try_on(driver, other), 2)
                shots[args.try_on] = screenshot(driver)
    finally:
        page.close()
    for path, png in shots.items():
        path.write_bytes(png)
    result = {"model": str(args.model), "steps": steps, "guidance": vars(guidance), "size": list(dnaf.size),
              **timings, "screenshots": {str(path): len(png) for path, png in shots.items()}}  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
