"""No English, and no ISO dates, on Vietnamese pages: every page each demo role reaches, and its forms sent empty.

The walk follows the links of each page from the dashboard (a few pages of each shape, so that the hundred
area pages do not make it slow), reads the text people see (and the titles, placeholders and labels read
aloud), and fails on a word that cannot be Vietnamese and is not a name in the allow-list. Vietnamese words
written without tone marks ("tin", "theo") are told apart by the shape of a Vietnamese syllable.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter, deque
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from broadcast import create_app, load_settings
from broadcast.db.engine import Database
from broadcast.db.models import Delivery, DeliveryState, Station
from broadcast.services import demo
from tests.conftest import log_in

# Product and format names, the demo logins and what people type as they are; nothing else in English.
ALLOWED = {"English", "Google", "Microsoft", "Authenticator", "FreeOTP", "Excel", "CSV", "JSON", "API", "HTTP",
           "SFTP", "SSH", "URL", "QR", "TOTP", "MP3", "iCalendar", "admin", "bientap", "pheduyet", "vanhanh",
           "demo", "GeoJSON", "OpenStreetMap", "Icecast", "HLS", "VOV", "CAP", "RSS", "Atom", "OpenAPI", "Bearer",
           "mail"}  # "e-mail" is how Vietnamese offices write it ("thư điện tử" is rarer on forms)
# One Vietnamese syllable without its tone marks: initial consonant, vowel cluster, final consonant.
SYLLABLE = re.compile(r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
                      r"(uye|uya|oai|oay|oeo|uoi|uou|ieu|yeu|uay|ai|ao|au|ay|eo|eu|ia|ie|iu|oa|oe|oi|oo|ua|ue|ui|"
                      r"uo|uu|uy|ye|ya|[aeiouy])(ch|ng|nh|[cmnpt])?", re.IGNORECASE)
# English words that happen to have the shape of a Vietnamese syllable, but are never Vietnamese on a page.
ENGLISH_SHAPED = {"the", "and", "for", "not", "yet", "has", "this", "that", "with", "from", "your", "its", "been",
                  "none", "one", "per", "into", "than", "then", "them", "they", "what", "when", "which"}
WORD = re.compile(r"\b[A-Za-z][A-Za-z]+\b")
# Days are written dd/mm/yyyy for people, never as ISO dates; lengths never as raw milliseconds.
MACHINE_FORMAT = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d+ ?ms\b")
SKIPPED_PATHS = ("/logout", "/lang/", "/api/", "/static/", "/audio/", "/feeds/")
PAGES_PER_SHAPE = 3
ROLES = ("vanhanh", "pheduyet", "bientap", "admin")  # the administrator last: it resets the others' passwords


class _Page(HTMLParser):
    """The text people see on a page, its same-site links, and its forms that post."""

    SILENT = {"script", "style", "code", "kbd", "samp", "template"}

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: set[str] = set()
        self.forms: list[tuple[str | None, dict[str, str]]] = []
        self._silent: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.SILENT or attrs.get("lang") == "en":  # machine text, or the switch to English
            self._silent.append(tag)
            return
        if self._silent:
            return
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attrs.get(name):
                self.text.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.text.append(attrs["value"])
        if tag == "a" and (attrs.get("href") or "").startswith("/"):
            self.links.add(attrs["href"].split("#")[0])
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.forms.append((attrs.get("action"), {}))
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name") and self.forms:
            self.forms[-1][1][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if self._silent and self._silent[-1] == tag:
            self._silent.pop()

    def handle_data(self, data):
        if not self._silent:
            self.text.append(data)


URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*")  # addresses, and examples of them, are machine text


def english_words(text: str) -> list[str]:
    text = URL.sub(" ", text)
    found = []
    for match in WORD.finditer(text):
        word = match.group(0)
        if word in ALLOWED or word.isupper():  # abbreviations (SMS, GPS) and codes
            continue
        if word.lower() in ENGLISH_SHAPED or not SYLLABLE.fullmatch(word):
            found.append(f"{word!r} in «{text[max(0, match.start() - 50):match.end() + 50].strip()}»")
    for match in MACHINE_FORMAT.finditer(text):
        found.append(f"{match.group(0)!r} in «{text[max(0, match.start() - 50):match.end() + 50].strip()}»")
    return found


def shape(path: str) -> str:
    return re.sub(r"\d+", "#", path.split("?")[0]) + ("?" if "?" in path else "")


@pytest.fixture(scope="module")
def app(tmp_path_factory, _migrated_sqlite_file):
    folder = tmp_path_factory.mktemp("vietnamese")
    shutil.copyfile(_migrated_sqlite_file, folder / "test.db")
    database = Database(f"sqlite:///{folder / 'test.db'}")
    app = create_app(load_settings(instance_path=folder / "instance", database_url=database.url,
                                   totp_required_roles=""))
    app.config.update(TESTING=True)
    with app.app_context(), app.extensions["database"].sessions() as session:
        list(demo.seed(session, date.today()))
    yield app
    app.extensions["database"].dispose()
    database.dispose()


def walk(app, username: str) -> tuple[dict[str, list[str]], int]:
    """Every page the person reaches (a few of each shape), and what each form answers when sent empty."""
    client = app.test_client()
    assert log_in(client, username).status_code == 302
    leaks: dict[str, list[str]] = {}
    seen: set[str] = set()
    shapes: Counter = Counter()
    posted: set[str] = set()
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        if path in seen or path.startswith(SKIPPED_PATHS) or shapes[shape(path)] >= PAGES_PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape(path)] += 1
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        if found := english_words(" ".join(page.text)):
            leaks[path] = found
        if "danh mục phát" in " ".join(page.text).lower():  # one word for a playlist: "danh sách phát"
            leaks.setdefault(path, []).append("«danh mục phát» instead of «danh sách phát»")
        queue.extend(sorted(page.links - seen))
        for action, hidden in page.forms:
            action = action or path
            if action.startswith(SKIPPED_PATHS) or action in posted:
                continue
            posted.add(action)
            answer = _Page()
            answer.feed(client.post(action, data=hidden, follow_redirects=True).get_data(as_text=True))
            if found := english_words(" ".join(answer.text)):
                leaks[f"POST {action}"] = found
    return leaks, len(seen)


@pytest.mark.parametrize("username", ROLES)
def test_pages_and_form_answers_are_all_vietnamese(app, username):
    leaks, pages = walk(app, username)
    assert pages > 5, f"{username} reached only {pages} pages"
    assert not leaks, "\n".join(f"{where}: {found}" for where, found in leaks.items())


def test_the_station_page_says_why_a_push_gave_up_in_vietnamese(app):
    with app.app_context(), app.extensions["database"].sessions() as session:
        # A push that gave up, with the reason the pushing job records (a version newer than any sent).
        station = session.scalar(select(Station).where(Station.code == "DV-01"))
        session.add(Delivery(station_id=station.id, manifest_version=10_000, channel="sftp",
                             state=DeliveryState.FAILED, attempts=3, next_retry_at=None, created_at=datetime.now(UTC),
                             last_error="the station lacks SSH host, user, remote folder or pinned host key"))
        session.commit()
    client = app.test_client()
    log_in(client, "admin")
    page = client.get("/stations/DV-01").get_data(as_text=True)
    # In the channel table, and in the reasons it needs someone.
    assert page.count("Đài chưa có đủ máy SSH, người dùng, thư mục nhận hoặc khóa máy đã ghim.") == 2
    assert "lacks" not in page
    assert "máy chủ gửi lên đài (SFTP)" in page and "sftp-push" not in page


def test_form_library_messages_are_in_vietnamese(app):
    client = app.test_client()
    log_in(client, "admin")
    from tests.conftest import csrf_from

    token = csrf_from(client.get("/users").data)
    page = client.post("/users", data={"csrf_token": token, "role": "nobody"}).get_data(as_text=True)
    assert "Lựa chọn không hợp lệ." in page and "Not a valid choice" not in page


@pytest.mark.parametrize(("text", "leak"), [
    ("Đài phường Hà Giang 1 - Tổ 1 · tin theo giờ Việt Nam", False),
    ("the station lacks SSH host", True),
    ("Cách nhận http-pull", True),
    ("Tải về CSV · Excel · Google Authenticator", False),
    ("Địa chỉ luồng http://…/vov1.mp3 hoặc https://example.vn/live.m3u8", False),
    ("Nothing placed yet", True),
    ("Lịch phát không thể bắt đầu trong quá khứ (2026-11-27).", True),
    ("Lịch phát không thể bắt đầu trong quá khứ (27/11/2026), dài 2 phút 05 giây.", False),
])
def test_the_leak_finder_tells_english_from_vietnamese(text, leak):
    assert bool(english_words(text)) is leak


@pytest.mark.parametrize("path", ["/login", "/eboard/00694", "/eboard/00721"])
def test_public_pages_are_all_vietnamese(app, path):
    client = app.test_client()
    response = client.get(path)
    assert response.status_code == 200, path
    page = _Page()
    page.feed(response.get_data(as_text=True))
    assert not english_words(" ".join(page.text)), path
