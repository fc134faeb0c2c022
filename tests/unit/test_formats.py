"""One way to show a length and a day to people: in words for sentences, m:ss for tables, dd/mm/yyyy for days."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask import Flask

from broadcast import formats
from broadcast.i18n import babel


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    babel.init_app(app, locale_selector=lambda: app.config["BABEL_DEFAULT_LOCALE"])
    return app


@pytest.mark.parametrize(("seconds", "vi", "en", "clock"), [
    (0, "0 giây", "0 s", "0:00"),
    (5, "5 giây", "5 s", "0:05"),
    (125, "2 phút 05 giây", "2 min 05 s", "2:05"),
    (600, "10 phút", "10 min", "10:00"),
    (3725, "1 giờ 02 phút 05 giây", "1 h 02 min 05 s", "1:02:05"),
    (20.12, "21 giây", "21 s", "0:20"),  # words round up (a shortfall never reads 0); the clock rounds
])
def test_lengths_in_words_and_as_a_clock(app, seconds, vi, en, clock):
    with app.test_request_context():
        assert formats.spoken_length(seconds) == vi
        app.config["BABEL_DEFAULT_LOCALE"] = "en"
        try:
            from flask_babel import refresh

            refresh()
            assert formats.spoken_length(seconds) == en
        finally:
            app.config["BABEL_DEFAULT_LOCALE"] = "vi"
    assert formats.clock_length(seconds) == clock


@pytest.mark.parametrize("value", [date(2026, 12, 5), datetime(2026, 12, 5, 6, 30), "2026-12-05",
                                   "2026-12-05T06:00:00+07:00"])
def test_days_are_day_first(value):
    assert formats.day(value) == "05/12/2026"


def test_no_day_is_a_dash():
    assert formats.day(None) == "—"
