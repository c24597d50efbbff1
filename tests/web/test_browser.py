"""The example pages in a real browser, headless Chromium: the web app and the tutorial's chat.

Selenium drives Debian's ``chromium`` and ``chromium-driver`` (``.ci/run``
installs them when missing); without them the tests skip and say why. The
app runs as README line 1 runs it, on an ephemeral port.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from web_harness import kill_group

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[2] / "examples" / "web_app" / "app.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
START_TIMEOUT_S = 15  # a cold interpreter or browser start on a loaded CI box
WAIT_S = 10
# No network here beyond package mirrors: keep Chromium from phoning home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers have a small /dev/shm
]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """Run ``examples/web_app/app.py 0``; its URL once it listens."""
    proc = subprocess.Popen(
        [sys.executable, str(APP), "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            pytest.fail(f"{APP} printed nothing in {START_TIMEOUT_S} s")
        assert line.startswith("Serving on http://127.0.0.1:"), line
        yield line.split()[2].rstrip("/")
    finally:
        kill_group(proc, WAIT_S)
        reader.join(WAIT_S)
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[webdriver.Chrome]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("needs chromium and chromedriver: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(START_TIMEOUT_S)
        driver.set_script_timeout(WAIT_S)
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser, app_url):
    """The home page in a new session (no cookies)."""
    browser.get(app_url + "/")
    # The page's WebSocket handshake answers with the session cookie too: let
    # it finish, or it may set the cookie again after it was deleted.
    WebDriverWait(browser, WAIT_S).until(lambda d: text_of(d, "ws-status") == "open")
    browser.delete_all_cookies()
    browser.get(app_url + "/")
    return browser


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def test_session_counter_increments_on_reload(page):
    assert text_of(page, "count") == "1"
    page.refresh()
    assert text_of(page, "count") == "2"
    page.refresh()
    assert text_of(page, "count") == "3"
    page.delete_all_cookies()
    page.refresh()
    assert text_of(page, "count") == "1"


def test_static_css_and_js_are_applied(page):
    assert page.title == "circuits.web example"
    max_width = page.execute_script("return getComputedStyle(document.body).maxWidth")
    assert max_width == "640px"  # 40rem, from /static/style.css
    # /static/app.js opened the WebSocket
    WebDriverWait(page, WAIT_S).until(lambda d: text_of(d, "ws-status") == "open")


def test_form_post_shows_the_value_escaped(page):
    name = '<script>document.title="pwned"</script> & Bob'
    page.find_element(By.ID, "name").send_keys(name)
    page.find_element(By.ID, "greet").click()
    WebDriverWait(page, WAIT_S).until(lambda d: d.find_elements(By.ID, "greeting"))
    assert text_of(page, "greeting") == f"Hello, {name}!"
    assert page.title == "Hello"  # the script stayed text
    assert not page.find_elements(By.CSS_SELECTOR, "#greeting script")


def test_json_endpoint_through_fetch(page):
    page.find_element(By.ID, "name").send_keys("Ada")
    page.find_element(By.ID, "fetch-json").click()
    WebDriverWait(page, WAIT_S).until(lambda d: text_of(d, "json-result"))
    assert json.loads(text_of(page, "json-result")) == {"greeting": "Hello, Ada!", "visits": 1}


def test_websocket_echo_round_trip(page):
    WebDriverWait(page, WAIT_S).until(lambda d: text_of(d, "ws-status") == "open")
    for message in ("hello, circuits", "<b>not bold</b> ü ✓"):
        box = page.find_element(By.ID, "ws-message")
        box.send_keys(message)
        page.find_element(By.ID, "ws-send").click()
        WebDriverWait(page, WAIT_S).until(
            lambda d, m=message: (
                f"echo: {m}" in [li.text for li in d.find_elements(By.CSS_SELECTOR, "#ws-log li")]
            )
        )
    items = [li.text for li in page.find_elements(By.CSS_SELECTOR, "#ws-log li")]
    assert items == ["echo: hello, circuits", "echo: <b>not bold</b> ü ✓"]
    assert not page.find_elements(By.CSS_SELECTOR, "#ws-log b")


def test_the_tutorial_chat_page_talks_with_a_tcp_user(browser):
    # examples/chat/step5_websocket.py: the page (chat.js) and `nc` users in one room.
    from tests.test_tutorial import WELCOME, User, port_of, running as run_step

    with run_step("step5_websocket.py", 2) as banner:
        web = port_of(banner, r"Serving on http://127\.0\.0\.1:(\d+)/$")
        with User(port_of(banner, r"Chat on 127\.0\.0\.1:(\d+) ")) as alice:
            assert (alice.hear(), alice.hear()) == (WELCOME.format("guest1"), "* guest1 entered")
            browser.get(f"http://127.0.0.1:{web}/")
            WebDriverWait(browser, WAIT_S).until(lambda d: text_of(d, "status") == "connected")
            assert alice.hear() == "* guest2 entered"

            def say(text: str) -> None:
                browser.find_element(By.ID, "text").send_keys(text)
                browser.find_element(By.CSS_SELECTOR, "#say button").click()

            def shown() -> list[str]:
                return [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#lines li")]

            say("/nick ada")
            assert alice.hear() == "* guest2 is now ada"
            WebDriverWait(browser, WAIT_S).until(lambda d: "ada" in text_of(d, "here"))
            assert text_of(browser, "here") in ("guest1, ada", "ada, guest1")
            alice.say("<b>hi</b> ada")
            assert alice.hear() == "guest1: <b>hi</b> ada"  # everyone hears a line, its author too
            WebDriverWait(browser, WAIT_S).until(lambda d: "guest1: <b>hi</b> ada" in shown())
            assert not browser.find_elements(By.CSS_SELECTOR, "#lines b")  # shown as text
            say("hello alice")
            assert alice.hear() == "ada: hello alice"
            WebDriverWait(browser, WAIT_S).until(lambda d: "ada: hello alice" in shown())
            assert shown() == [
                WELCOME.format("guest2"),
                "* guest2 entered",
                "* guest2 is now ada",
                "guest1: <b>hi</b> ada",
                "ada: hello alice",
            ]
