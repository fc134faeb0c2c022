"""The built-in administrative abbreviations, and the ones read from the words around them."""

from __future__ import annotations

import re

import pytest

from audio.normalize import BUILT_IN_LEXICON, normalize, unread_terms

CASES = [
    ("Bảo đảm ATTP trong dịp Tết.", "Bảo đảm an toàn thực phẩm trong dịp Tết."),
    ("Hỗ trợ đồng bào DTTS.", "Hỗ trợ đồng bào dân tộc thiểu số."),
    ("Đẩy mạnh CĐS và CCHC.", "Đẩy mạnh chuyển đổi số và cải cách hành chính."),
    ("Giải quyết TTHC trực tuyến.", "Giải quyết thủ tục hành chính trực tuyến."),
    ("Ra quân PCCCR mùa khô.", "Ra quân phòng cháy chữa cháy rừng mùa khô."),
    ("Chương trình MTQG giảm nghèo bền vững.", "Chương trình mục tiêu quốc gia giảm nghèo bền vững."),
    ("Ứng dụng KH&CN vào sản xuất.", "Ứng dụng khoa học và công nghệ vào sản xuất."),
    ("Đ/c Bí thư Đảng ủy xã phát biểu.", "đồng chí Bí thư Đảng ủy xã phát biểu."),
    ("V/v tăng cường phòng chống dịch.", "về việc tăng cường phòng chống dịch."),
    ("Đoàn công tác của TU làm việc với xã.", "Đoàn công tác của Tỉnh ủy làm việc với xã."),
    ("SĐT của trưởng thôn có trên bảng tin.", "số điện thoại của trưởng thôn có trên bảng tin."),
    ("TTYT huyện tổ chức tiêm chủng.", "Trung tâm Y tế huyện tổ chức tiêm chủng."),
    ("Khám sàng lọc tại TYT xã.", "Khám sàng lọc tại Trạm Y tế xã."),
    ("Làm CCCD gắn chip cho người dân.", "Làm căn cước công dân gắn chip cho người dân."),
    ("Tham gia BHYT hộ gia đình.", "Tham gia bảo hiểm y tế hộ gia đình."),
    ("Hội nghị CBCCVC năm 2025.", "Hội nghị cán bộ, công chức, viên chức năm hai nghìn không trăm hai mươi lăm."),
    ("Phòng chống SXH và TCM.", "Phòng chống sốt xuất huyết và tay chân miệng."),
    ("Sản phẩm OCOP của xã.", "Sản phẩm ô cốp của xã."),
    ("Vay vốn NHCSXH.", "Vay vốn Ngân hàng Chính sách xã hội."),
    ("Lực lượng DQTV tuần tra.", "Lực lượng dân quân tự vệ tuần tra."),
    ("Giữ gìn ANTT, bảo đảm TTATGT.", "Giữ gìn an ninh trật tự, bảo đảm trật tự an toàn giao thông."),
    # BCH: the Party's executive committee, or the military command before its field
    ("BCH quân sự xã huấn luyện dân quân.", "Ban Chỉ huy quân sự xã huấn luyện dân quân."),
    ("BCH Quân sự huyện giao quân.", "Ban Chỉ huy Quân sự huyện giao quân."),
    ("BCH phòng chống thiên tai xã họp.", "Ban Chỉ huy phòng chống thiên tai xã họp."),
    ("BCH PCTT&TKCN xã trực ban.", "Ban Chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn xã trực ban."),
    ("BCH Đảng bộ xã họp thường kỳ.", "Ban chấp hành Đảng bộ xã họp thường kỳ."),
    ("BCH Đoàn thanh niên xã.", "Ban chấp hành Đoàn thanh niên xã."),
    # TT: a circular in codes; the standing committee before a council or Party committee; a centre before its field
    ("Đ/c Phó Bí thư TT Đảng ủy xã.", "đồng chí Phó Bí thư Thường trực Đảng ủy xã."),
    ("TT HĐND xã giám sát.", "Thường trực Hội đồng nhân dân xã giám sát."),
    ("Khám tại TT Y tế huyện.", "Khám tại Trung tâm Y tế huyện."),
    ("Nộp hồ sơ ở TT Hành chính công.", "Nộp hồ sơ ở Trung tâm Hành chính công."),
    ("Theo TT 22/2023.", "Theo thông tư số hai mươi hai năm hai nghìn không trăm hai mươi ba."),
    # CT: a directive in codes and before its number, the chairman before the body
    ("Đồng chí CT UBND xã phát biểu.", "Đồng chí Chủ tịch Ủy ban nhân dân xã phát biểu."),
    ("CT Hội Nông dân xã trao quà.", "Chủ tịch Hội Nông dân xã trao quà."),
    ("Thực hiện Chỉ thị 05/CT-TTg.", "Thực hiện Chỉ thị số năm Thủ tướng Chính phủ."),
    ("Theo CT số 12 của Tỉnh ủy.", "Theo chỉ thị số mười hai của Tỉnh ủy."),
    # ĐT: telephone before a number, đào tạo inside GD&ĐT
    ("ĐT: 0912 345 678.", "điện thoại: không chín một hai, ba bốn năm, sáu bảy tám."),
    ("Phòng GD&ĐT huyện.", "Phòng giáo dục và đào tạo huyện."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_administrative_abbreviations_are_expanded(written, spoken):
    assert normalize(written) == spoken


def test_the_editors_reading_of_a_context_abbreviation_wins_everywhere():
    assert normalize("BCH quân sự", {"BCH": "Ban chỉ huy"}) == "Ban chỉ huy quân sự"
    assert normalize("BCH Đoàn", {"BCH": "bê xê hát"}) == "bê xê hát Đoàn"


def test_the_built_in_lexicon_holds_a_few_hundred_abbreviations():
    assert len(BUILT_IN_LEXICON) >= 300


@pytest.mark.parametrize("term", sorted(BUILT_IN_LEXICON))
def test_every_built_in_reading_is_plain_vietnamese_words(term):
    reading = BUILT_IN_LEXICON[term]
    assert reading == " ".join(reading.split())
    assert not re.search(r"[0-9/&]", reading)
    # What the lexicon says must not itself be left for the voice to spell.
    assert unread_terms(reading) == [], term


@pytest.mark.parametrize("term", sorted(BUILT_IN_LEXICON))
def test_every_built_in_term_is_expanded_in_a_sentence(term):
    spoken = normalize(f"Thông tin về {term} trong tuần.")
    assert term not in spoken.split() and BUILT_IN_LEXICON[term] in spoken
