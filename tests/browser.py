"""Debian's headless Chromium under selenium, offline: the browser tests and the page screenshot
use it. The flags keep Chromium from reaching for the network (sync, updates, QUIC, background
fetches), which a closed machine answers slowly; the driver is Debian's chromedriver, so
selenium-manager never tries to download one."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def free_port() -> int:
    """A TCP port of this machine that nothing listens on now, for a page under test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    absent = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if absent:
        return f"{' and '.join(absent)} not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (envs/requirements-test.txt)"
    return None


@contextmanager
def chromium(window: tuple[int, int] = (1400, 1000)) -> Iterator:
    """A selenium driver of headless Chromium with a fresh profile, closed afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="dnaf-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*OFFLINE_FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout: float = 60.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def upload(driver, elem_id: str, picture: Path) -> None:
    """Put a picture file into the page's image field ``elem_id`` and wait until it shows."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"#{elem_id} input[type=file]").send_keys(str(picture))
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f"#{elem_id} img"))


def click_thumbnail(driver, elem_id: str, position: int) -> None:
    from selenium.webdriver.common.by import By

    driver.find_elements(By.CSS_SELECTOR, f"#{elem_id} button.thumbnail-item")[position].click()


def choose(driver, elem_id: str, value: str) -> None:
    """Click the option ``value`` of the radio group ``elem_id``."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"#{elem_id} input[type=radio][value='{value}']").click()


def image_source(driver, elem_id: str, previous: str | None = None, timeout: float = 120.0) -> str:
    """The address of the picture the image field ``elem_id`` shows, once it shows one (other than
    ``previous``)."""
    from selenium.webdriver.common.by import By

    def shown(d):
        images = d.find_elements(By.CSS_SELECTOR, f"#{elem_id} img")
        source = images[0].get_attribute("src") if images else None
        return source if source and source != previous else None

    return wait_for(driver, shown, timeout)
