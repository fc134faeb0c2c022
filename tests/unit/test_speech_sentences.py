"""Splitting text at sentence boundaries for the speech engines."""

from __future__ import annotations

import pytest

from audio.speech import chunk_text, split_sentences

CASES = [
    # (text, max_chars, expected pieces)
    ("Xin chào. Hôm nay trời đẹp!", 100, ["Xin chào.", "Hôm nay trời đẹp!"]),
    ("Có ai không? Có; tôi đây.", 100, ["Có ai không?", "Có;", "tôi đây."]),
    ("Dòng một\nDòng hai\n\nDòng ba", 100, ["Dòng một", "Dòng hai", "Dòng ba"]),
    ("Một nghìn tám trăm tám mươi, tức 1.880 trạm.", 100, ["Một nghìn tám trăm tám mươi, tức 1.880 trạm."]),
    ('Ông nói: "Đi thôi." Rồi đi.', 100, ['Ông nói: "Đi thôi."', "Rồi đi."]),
    ("Chờ đã… Được rồi.", 100, ["Chờ đã…", "Được rồi."]),
    ("Kết thúc không có dấu chấm", 100, ["Kết thúc không có dấu chấm"]),
    ("   \n  ", 100, []),
    # over-long sentences: commas first, then words, then inside a word
    ("một hai ba, bốn năm sáu, bảy tám chín.", 13, ["một hai ba,", "bốn năm sáu,", "bảy tám chín."]),
    ("một hai ba bốn năm sáu bảy.", 10, ["một hai ba", "bốn năm", "sáu bảy."]),
    ("abcdefghijkl", 5, ["abcde", "fghij", "kl"]),
]


@pytest.mark.parametrize(("text", "max_chars", "expected"), CASES)
def test_split_sentences(text, max_chars, expected):
    assert split_sentences(text, max_chars) == expected


@pytest.mark.parametrize(("text", "max_chars", "_"), CASES)
def test_no_piece_exceeds_the_limit_and_no_word_is_lost(text, max_chars, _):
    pieces = split_sentences(text, max_chars)
    assert all(len(piece) <= max_chars for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_chunks_pack_whole_sentences_up_to_the_limit():
    text = "Câu một. Câu hai. Câu ba dài hơn một chút. Câu bốn."
    chunks = chunk_text(text, 20)
    assert chunks == ["Câu một.\nCâu hai.", "Câu ba dài hơn một", "chút.\nCâu bốn."]
    assert chunk_text(text, 1000) == ["Câu một.\nCâu hai.\nCâu ba dài hơn một chút.\nCâu bốn."]


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        split_sentences("Xin chào.", 0)
