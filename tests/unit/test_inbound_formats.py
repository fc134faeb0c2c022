"""What upstream sources send, read into bulletins: JSON entries, RSS/Atom, CAP feeds, and what is refused."""

from __future__ import annotations

import json

import pytest

from broadcast.services.inbound_formats import FormatError, is_cap, parse_cap_feed, parse_feed, parse_json, plain_text


@pytest.mark.parametrize("entry, problem", [
    ({"id": "A", "title": "Tin", "body": "Nội dung"}, None),
    ({"id": 17, "title": "Tin", "body": "Nội dung"}, None),  # a numeric id is the same id as text
    ({"id": "A", "title": "Tin", "audio_url": "https://x/a.mp3"}, None),  # audio alone is enough
    ({"title": "Tin", "body": "x"}, "id is required"),
    ({"id": True, "title": "Tin", "body": "x"}, "id is required"),
    ({"id": "A", "body": "x"}, "title is required"),
    ({"id": "A", "title": "Tin"}, "neither body nor audio_url"),
    ({"id": "A", "title": "Tin", "body": "x", "class": "emergency"}, "emergencies come as CAP alerts"),
    ({"id": "A", "title": "Tin", "body": "x", "valid_until": "mai"}, "is not a date"),
    ("just text", "a bulletin is a JSON object"),
])
def test_json_entries(entry, problem):
    parsed = parse_json(json.dumps({"bulletins": [entry]}).encode())
    if problem is None:
        assert len(parsed.entries) == 1 and not parsed.problems
    else:
        assert not parsed.entries and problem in parsed.problems[0]


@pytest.mark.parametrize("body, words", [
    (b"<html>oops</html>", "not JSON"),
    (b"", "not JSON"),
    (b'"a string"', "expected"),
    (b"\xff\xfe", "not JSON"),
])
def test_json_documents_that_are_not_bulletins(body, words):
    with pytest.raises(FormatError, match=words):
        parse_json(body)


def test_a_bare_list_and_a_single_bulletin_are_accepted():
    assert [e.ref for e in parse_json(b'[{"id": "1", "title": "a", "body": "b"}]').entries] == ["1"]
    assert [e.ref for e in parse_json(b'{"id": "2", "title": "a", "body": "b"}').entries] == ["2"]


@pytest.mark.parametrize("markup, text", [
    ("<p>Một</p><p>Hai</p>", "Một\nHai"),
    ("Dòng một<br/>dòng\n   hai", "Dòng một\ndòng hai"),
    ("&lt;không phải thẻ&gt; &amp; xong", "<không phải thẻ> & xong"),
    ("", ""),
])
def test_plain_text(markup, text):
    assert plain_text(markup) == text


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><guid>g1</guid><title>Tin 1</title><description>Bai 1</description>
  <enclosure url="https://x/1.mp3" type="audio/mpeg" length="1"/></item>
<item><title>Thieu id</title><description>x</description></item>
<item><guid>g3</guid><title>Chi tieu de</title></item>
</channel></rss>"""


def test_rss_entries_with_enclosures_and_what_is_left_out():
    parsed = parse_feed(RSS)
    assert [(e.ref, e.body, e.audio_url) for e in parsed.entries] == [("g1", "Bai 1", "https://x/1.mp3")]
    assert len(parsed.problems) == 2


@pytest.mark.parametrize("body, words", [
    (b"not xml at all", "not XML"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>', "DTD"),
    (b"<html><body>502</body></html>", "not an RSS or Atom feed"),
])
def test_feeds_that_are_refused(body, words):
    with pytest.raises(FormatError, match=words):
        parse_feed(body)


def test_a_cap_feed_links_each_entry_to_its_alert():
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>f</id>
    <entry><id>e1</id><title>A</title><link href="https://x/page"/>
      <link rel="alternate" type="application/cap+xml" href="https://x/1.xml"/></entry></feed>"""
    [entry] = parse_cap_feed(atom).entries
    assert (entry.ref, entry.cap_url) == ("e1", "https://x/1.xml")
    assert is_cap(b'<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">')
    assert not is_cap(atom)
