"""Chromium under the Content-Security-Policy: the pages and their scripts work, nothing is reported blocked, and
an injected inline handler really is blocked.

The demo data with a 06:00 session of three items on 29/11/2026 (one over-full) is served on 127.0.0.1. Each page
records every ``securitypolicyviolation`` event (listened to from a script the browser injects itself, which the
policy does not govern) and every console error.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from audio.processing import AudioStore
from broadcast.db.models import Placement
from broadcast.services import exports
from tests.audio_fixtures import tone
from tests.browser.conftest import log_in, serve
from tests.integration.test_schedule_pages import PAGE, build_schedule

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


@pytest.fixture
def live(seeded, tmp_path):
    world = build_schedule(seeded, [("Tin một", 300), ("Tin hai", 200), ("Tin ba", 228)])
    with world["database"].sessions() as session:
        item_id = session.get(Placement, world["placements"][0]).item_id
    settings = seeded.extensions["settings"]
    sha = AudioStore(settings.resolved_audio_dir).put(tone(tmp_path / "tin.mp3", 2.0)).sha256
    expires = exports.audio_link_expiry(datetime.now(UTC))
    link = f"/api/v1/audio/{sha}.mp3?expires={expires}&signature="
    link += exports.audio_link_signature(settings.secret_key, sha, expires)
    with serve(seeded) as url:
        yield url, item_id, link


@pytest.fixture
def watched(page):
    errors: list[str] = []

    def record(message) -> None:
        # Chromium reports each blocked script, style or request as a console error naming the policy. (Other
        # errors, such as the 404 of audio these test items have no file for, are not the policy's.)
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", record)
    page.add_init_script(LISTEN)
    return page, errors


def violations(page) -> list[str]:
    return page.evaluate("window.__violations")


def test_the_pages_and_their_scripts_run_under_the_policy(watched, live):
    page, errors = watched
    url, item_id, _ = live
    log_in(page, url, "bientap")
    for path in ("/", "/items", "/playlists", "/deliveries", "/emergencies", "/reports"):
        page.goto(url + path)
        assert violations(page) == [], path

    # The timeline: its bar is SVG now (no style attribute), drawn in proportion: 501 s kept and 130 s over, of
    # 730 s drawn (tests/integration/test_schedule_pages.py).
    page.goto(url + PAGE)
    bar = page.locator("svg.tl-bar").first.bounding_box()
    used = page.locator("svg.tl-bar rect.tl-used").first.bounding_box()
    over = page.locator("svg.tl-bar rect.tl-overflow").first.bounding_box()
    assert 0.67 < used["width"] / bar["width"] < 0.70 and 0.16 < over["width"] / bar["width"] < 0.19
    assert abs(over["x"] - (used["x"] + used["width"])) < 1.5  # red follows blue
    assert page.locator("button[name=to]").count() > 0 and page.locator("li.tl-item[draggable=true]").count() > 0

    # The item editor's script (static/items.js) still asks the server what the voice reads.
    page.goto(f"{url}/items/{item_id}")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/reading")) as reading:
        page.locator("textarea[name=body]").fill("Ngày 13/12/2019, UBND tỉnh họp.")
    assert reading.value.status == 200

    # The placement form and its script (static/place.js) load without a blocked request.
    page.goto(f"{url}/items/{item_id}/place")
    assert page.locator("input[name=targets]").count() > 0
    assert violations(page) == []
    assert errors == []


def test_audio_opened_by_itself_plays(watched, live):
    """A playlist's signed link opened in the browser: its own player page loads the audio it wraps."""
    page, errors = watched
    url, _, link = live
    page.goto(url + link)
    page.wait_for_function("document.querySelector('video, audio') && document.querySelector('video, audio')"
                           ".readyState >= 1")
    assert page.evaluate("document.querySelector('video, audio').duration") == pytest.approx(2.0, abs=0.2)
    assert errors == []


def test_an_injected_inline_handler_is_blocked(watched, live):
    page, errors = watched
    url, *_ = live
    page.goto(url + "/login")
    page.evaluate("""document.body.insertAdjacentHTML("beforeend",
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onload="window.__ran = 1" alt="">' +
        '<p id="styled" style="color: rgb(255, 0, 0)">x</p>')""")
    page.wait_for_function("window.__violations.length >= 2")
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    assert any(v.startswith("script-src") for v in violations(page))
    assert any(v.startswith("style-src") for v in violations(page))
    assert errors  # and the console says so: the listener above would notice a blocked script on the pages
