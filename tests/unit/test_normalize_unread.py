"""What the rules leave for the voice to spell: symbols, abbreviations in capitals, foreign letters."""

from __future__ import annotations

import pytest

from audio.normalize import mark_unread, normalize, unread_terms

CASES = [
    ("Phủ sóng 1.880 trạm BTS.", ["BTS"]),
    ("Điểm thi 8 + 2 điểm cộng.", ["+"]),
    ("Giảm giá 10 € mỗi vé.", ["€"]),
    ("Truy cập Wi-Fi miễn phí tại nhà văn hóa.", []),  # in the lexicon
    ("Truy cập WLAN miễn phí.", ["WLAN"]),
    ("Liên hệ qua email xa@example.vn hoặc Zalo.", ["xa@example.vn"]),
    ("Tải ứng dụng Telegram.", ["Telegram"]),  # a foreign word, read by the English voice
    ("Bão số 3 (Yagi) mạnh cấp 12.", ["Yagi"]),
    ("Kiểm tra bằng ubnd viết thường.", ["ubnd"]),  # the lexicon's keys are case-sensitive
    # Vietnamese words, names and loanwords written the Vietnamese way are not marked
    ("Người H'Mông ở Mèo Vạc, Lũng Cú; Đắk Lắk; khuya, giường, quốc, gì; Krông Pắc.", []),
    ("Áp suất 996 hPa, bụi 55 µg/m³.", []),
    ("Tham gia nhóm #antoan trên mạng.", ["#antoan"]),
    ("Đạt chuẩn ISO 9001 và WHO khuyến cáo.", ["ISO", "WHO"]),
    ("TTYTX và UBX thông báo.", ["TTYTX", "UBX"]),
    # a headline in capitals is words, not abbreviations
    ("THÔNG BÁO LỊCH TIÊM CHỦNG CỦA TRẠM BTS", ["BTS"]),
    ("KHẨN CẤP: NƯỚC LŨ ĐANG LÊN NHANH", []),
    # fully read text leaves nothing; single capitals are initials or words and stay unmarked
    ("Ngày 14-12, UBND xã họp; nhiệt độ 12-14°C, mưa 100-150mm.", []),
    ("Ông Nguyễn Văn A đến Trạm Y tế.", []),
    ("Gọi 113/114/115 hoặc 0912 345 678.", []),
    ("Giá 52.000 đồng/kg, lãi suất 0,5%/tháng.", []),
]


@pytest.mark.parametrize(("written", "terms"), CASES)
def test_unread_terms_are_what_the_rules_left(written, terms):
    assert unread_terms(normalize(written)) == terms


def test_each_unread_term_is_listed_once_in_order():
    assert unread_terms("BTS, ABC; BTS và ABC.") == ["BTS", "ABC"]


@pytest.mark.parametrize(
    ("reading", "pieces"),
    [
        ("trạm BTS.", [("trạm ", False), ("BTS", True), (".", False)]),
        ("(TTYT) và BTS", [("(", False), ("TTYT", True), (") và ", False), ("BTS", True)]),
        ("không có gì", [("không có gì", False)]),
        ("", []),
        ("BTS", [("BTS", True)]),
    ],
)
def test_the_preview_marks_unread_terms_and_keeps_the_rest(reading, pieces):
    assert mark_unread(reading) == pieces
    assert "".join(text for text, _ in pieces) == reading
