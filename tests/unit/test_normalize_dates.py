"""Hyphenated dates, day ranges, and the fractions and ratios that look like dates."""

from __future__ import annotations

import pytest

from audio.normalize import normalize

HYPHEN_DATES = [
    ("Ngày 14-12, UBND xã tổ chức hội nghị.", "Ngày mười bốn tháng mười hai, Ủy ban nhân dân xã tổ chức hội nghị."),
    ("Sáng 20-11, trường tổ chức mít tinh.", "Sáng ngày hai mươi tháng mười một, trường tổ chức mít tinh."),
    ("Chào mừng Ngày Nhà giáo Việt Nam 20-11.", "Chào mừng Ngày Nhà giáo Việt Nam hai mươi tháng mười một."),
    ("Kỷ niệm 30-4 và 1-5.", "Kỷ niệm ba mươi tháng tư và ngày một tháng năm."),
    ("Dịp nghỉ lễ 2-9 năm nay kéo dài 4 ngày.", "Dịp nghỉ lễ hai tháng chín năm nay kéo dài bốn ngày."),
    ("Tối 31-12 có bắn pháo hoa.", "Tối ngày ba mươi mốt tháng mười hai có bắn pháo hoa."),
    ("Từ ngày 15-6 đến ngày 30-6 tiêm vắc xin.", "Từ ngày mười lăm tháng sáu đến ngày ba mươi tháng sáu tiêm vắc xin."),
    ("Hạn nộp hồ sơ là 25-3.", "Hạn nộp hồ sơ là ngày hai mươi lăm tháng ba."),
    ("Mùng 2-9 là Quốc khánh.", "Mùng hai tháng chín là Quốc khánh."),
    ("Chiều 8-3, Hội Phụ nữ gặp mặt.", "Chiều ngày tám tháng ba, Hội Phụ nữ gặp mặt."),
    ("Kết quả tháng 12-2025.", "Kết quả tháng mười hai năm hai nghìn không trăm hai mươi lăm."),
    ("Ngày 14 - 12 - 2025 họp.", "Ngày mười bốn tháng mười hai năm hai nghìn không trăm hai mươi lăm họp."),
    ("Thu hoạch tháng 5-6, mưa tháng 7 - 8.", "Thu hoạch tháng năm đến tháng sáu, mưa tháng bảy đến tháng tám."),
    ("Tháng 3-4 trồng ngô.", "Tháng ba đến tháng tư trồng ngô."),
    # day ranges keep their month
    ("Từ ngày 5-6/12 diễn ra hội thao.", "Từ ngày năm đến sáu tháng mười hai diễn ra hội thao."),
    (
        "Hội chợ mở từ 25-27/9/2025.",
        "Hội chợ mở từ ngày hai mươi lăm đến hai mươi bảy tháng chín năm hai nghìn không trăm hai mươi lăm.",
    ),
    # two dates joined by a dash are a span
    (
        "Hội LHPN Việt Nam (20/10/1930-20/10/2024).",
        "Hội Liên hiệp Phụ nữ Việt Nam (ngày hai mươi tháng mười năm một nghìn chín trăm ba mươi đến ngày hai mươi "
        "tháng mười năm hai nghìn không trăm hai mươi tư).",
    ),
    ("Từ 20/10-25/10 thi.", "Từ ngày hai mươi tháng mười đến ngày hai mươi lăm tháng mười thi."),
    # ranges stay ranges
    ("Mỗi nhóm 5-7 người.", "Mỗi nhóm năm đến bảy người."),
    ("Trong 2-3 ngày tới trời rét.", "Trong hai đến ba ngày tới trời rét."),
    ("Trẻ em 6-11 tuổi được tiêm.", "Trẻ em sáu đến mười một tuổi được tiêm."),
    ("Tăng 10-12% so với cùng kỳ.", "Tăng mười đến mười hai phần trăm so với cùng kỳ."),
    ("Lúa cao 20-25 cm.", "Lúa cao hai mươi đến hai mươi lăm xăng ti mét."),
    ("Các lớp 1-5 nghỉ học.", "Các lớp một đến năm nghỉ học."),
    ("Chào mừng 2-9.", "Chào mừng ngày hai tháng chín."),
]

FRACTIONS = [
    ("Có 1/3 số hộ đã đăng ký.", "Có một phần ba số hộ đã đăng ký."),
    ("Xã đạt 9/12 chỉ tiêu.", "Xã đạt chín trên mười hai chỉ tiêu."),
    ("Đã gieo cấy 2/3 diện tích.", "Đã gieo cấy hai phần ba diện tích."),
    ("Khoảng 1/2 số hộ dùng nước sạch.", "Khoảng một nửa số hộ dùng nước sạch."),
    ("Có 3/4 số thôn đạt chuẩn.", "Có ba phần tư số thôn đạt chuẩn."),
    ("Có 15/17 xã đạt chuẩn nông thôn mới.", "Có mười lăm trên mười bảy xã đạt chuẩn nông thôn mới."),
    ("Huyện có 12/15 trường đạt chuẩn.", "Huyện có mười hai trên mười lăm trường đạt chuẩn."),
    ("Đạt 19/19 tiêu chí.", "Đạt mười chín trên mười chín tiêu chí."),
    ("Tỷ lệ chiếm 1/5.", "Tỷ lệ chiếm một phần năm."),
    ("Trực ban 24/7 trong mùa mưa bão.", "Trực ban hai mươi tư trên bảy trong mùa mưa bão."),
    ("Ngày 24/7 có hội nghị.", "Ngày hai mươi tư tháng bảy có hội nghị."),
    (
        "Tỷ lệ 1.452/1.520 hộ tham gia.",
        "Tỷ lệ một nghìn bốn trăm năm mươi hai trên một nghìn năm trăm hai mươi hộ tham gia.",
    ),
    ("Đã cấp 1.200/1.350 thẻ.", "Đã cấp một nghìn hai trăm trên một nghìn ba trăm năm mươi thẻ."),
    ("Làm việc 7/7 ngày, trực 24/24 giờ.", "Làm việc bảy trên bảy ngày, trực hai mươi tư trên hai mươi tư giờ."),
    # house and lane numbers
    ("Số nhà 12/5 đường Trần Phú.", "Số nhà mười hai trên năm đường Trần Phú."),
    ("Ngõ 34/2 phố Nguyễn Trãi.", "Ngõ ba mươi tư trên hai phố Nguyễn Trãi."),
    # dates stay dates, even before a noun, after a day word
    ("Sáng 9/12 người dân đi bầu cử.", "Sáng ngày chín tháng mười hai người dân đi bầu cử."),
    ("Ngày 3/2 là ngày thành lập Đảng.", "Ngày ba tháng hai là ngày thành lập Đảng."),
    ("Hạn chót 15/10.", "Hạn chót ngày mười lăm tháng mười."),
]


@pytest.mark.parametrize(("written", "spoken"), HYPHEN_DATES)
def test_hyphenated_dates_in_date_context_are_dates(written, spoken):
    assert normalize(written) == spoken


@pytest.mark.parametrize(("written", "spoken"), FRACTIONS)
def test_fractions_before_counted_nouns_are_not_dates(written, spoken):
    assert normalize(written) == spoken
