from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Flags that keep Debian's chromium off the network and quiet in a sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="session", autouse=True)
def _blocking_database_calls_between_browser_steps():
    # Playwright's sync API keeps an event loop in this thread for the whole session; the
    # tests' database calls are ordinary blocking calls between browser steps, which
    # Django would otherwise refuse.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot of `page` as artifacts/screenshots/NAME.png."""

    def take(page, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return take


@pytest.fixture(scope="session")
def accessibility():
    """Check the page shown with axe-core; return the rule violations it finds."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def violations(page):
        found = axe.run(page).response["violations"]
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s)" for v in found
        ]

    return violations
