"""Security headers on every response, and pages that need no inline script or style, so the strict
Content-Security-Policy costs them nothing (tests/browser/test_content_policy.py checks it in Chromium)."""

from __future__ import annotations

import re

import pytest

from broadcast.db.models import Placement
from broadcast.web.security_headers import NOTHING_POLICY, PAGE_POLICY, policy_for
from tests.conftest import log_in
from tests.integration.test_schedule_pages import PAGE, build_schedule

COMMON = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def directives(policy: str) -> dict[str, str]:
    return dict((part.strip() + " ").split(" ", 1) for part in policy.split(";"))


def has_common_headers(response) -> bool:
    return all(response.headers.get(name) == value for name, value in COMMON.items())


def test_pages_forbid_framing_inline_code_and_other_origins(client):
    answer = client.get("/login")
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert has_common_headers(answer)
    policy = directives(answer.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"].strip() == "'none'"
    assert policy["default-src"].strip() == policy["script-src"].strip() == policy["style-src"].strip() == "'self'"
    assert policy["object-src"].strip() == "'none'"
    assert "unsafe" not in answer.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path, status", [
    ("/api/v1/items", 401),  # JSON, even an error
    ("/api/v1/openapi.json", 200),
    ("/static/app.css", 200),
    ("/feeds/08.rss", 200),
    ("/no/such/page", 404),  # the error page is a page
])
def test_every_response_carries_the_headers(client, path, status):
    answer = client.get(path)
    assert answer.status_code == status
    assert has_common_headers(answer)
    expected = PAGE_POLICY if answer.mimetype == "text/html" else NOTHING_POLICY
    assert answer.headers["Content-Security-Policy"] == expected


def test_audio_opened_by_itself_may_play_but_load_nothing_else():
    policy = directives(policy_for("audio/mpeg"))
    assert policy["media-src"].strip() == "'self'" and policy["default-src"].strip() == "'none'"
    assert policy["frame-ancestors"].strip() == "'none'" and "script-src" not in policy


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline script"),
    (re.compile(r"<style\b", re.I), "a style element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: link"),
]


def test_the_pages_hold_no_inline_script_or_style(seeded):
    """Every page each role opens, with the scripts of the item editor, placement form and timeline."""
    world = build_schedule(seeded, [("Tin một", 300), ("Tin hai", 200), ("Tin ba", 228)])  # one over-full
    with world["database"].sessions() as session:
        item_id = session.get(Placement, world["placements"][0]).item_id
    pages = {"bientap": ["/", "/items", "/items/new", f"/items/{item_id}", f"/items/{item_id}/place", PAGE,
                         PAGE + "&view=week", "/playlists", "/deliveries", "/emergencies", "/reports",
                         "/stations/HG1-01", "/stations/HG1-01/days/2026-11-29"],
             "pheduyet": ["/items/approvals", "/emergencies"],
             "vanhanh": ["/", "/playlists", "/stations/HG1-01/days/2026-11-29", "/stations/HG1-01", "/map"]}
    assert_no_inline_code(seeded.test_client(), "/login")
    for who, paths in pages.items():
        client = seeded.test_client()
        log_in(client, who)
        for path in paths:
            assert_no_inline_code(client, path)


def assert_no_inline_code(client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 200, path
    assert answer.headers["Content-Security-Policy"] == PAGE_POLICY
    html = answer.get_data(as_text=True)
    for pattern, what in INLINE:
        found = pattern.search(html)
        assert found is None, f"{path} has {what}: {html[found.start():found.start() + 80]!r}"
