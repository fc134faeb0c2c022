"""Phone numbers, hotlines and emergency numbers: digit by digit, in the groups a listener notes down."""

from __future__ import annotations

import pytest

from audio.normalize import normalize

CASES = [
    # landlines with the area code, however they are punctuated
    (
        "Mọi thông tin liên hệ số 0219.3862.567.",
        "Mọi thông tin liên hệ số không hai một chín, ba tám sáu hai, năm sáu bảy.",
    ),
    ("Điện thoại: (0219) 3 862 567.", "Điện thoại: không hai một chín, ba tám sáu hai, năm sáu bảy."),
    ("Điện thoại (0219) 3862567.", "Điện thoại không hai một chín, ba tám sáu hai, năm sáu bảy."),
    ("Gọi 024.3825.1234 ngay.", "Gọi không hai bốn, ba tám hai năm, một hai ba bốn ngay."),
    ("Số máy 0236 3822 115.", "Số máy không hai ba sáu, ba tám hai hai, một một năm."),
    ("Liên hệ 02193862567.", "Liên hệ không hai một chín, ba tám sáu hai, năm sáu bảy."),
    ("Điện thoại liên hệ: 02193 862 567.", "Điện thoại liên hệ: không hai một chín, ba tám sáu hai, năm sáu bảy."),
    # mobiles
    ("Trưởng thôn: 0912 345 678.", "Trưởng thôn: không chín một hai, ba bốn năm, sáu bảy tám."),
    ("Gọi anh Hùng, 0987.654.321.", "Gọi anh Hùng, không chín tám bảy, sáu năm bốn, ba hai một."),
    ("Nhắn tin đến 0912-345-678.", "Nhắn tin đến không chín một hai, ba bốn năm, sáu bảy tám."),
    ("Số 0369123456 của tổ.", "Số không ba sáu chín, một hai ba, bốn năm sáu của tổ."),
    ("Số điện thoại +84 912 345 678.", "Số điện thoại cộng tám bốn, chín một hai, ba bốn năm, sáu bảy tám."),
    # hotlines
    ("Đường dây nóng 1900 9095.", "Đường dây nóng một chín không không, chín không chín năm."),
    ("Tổng đài 1800.1091 miễn phí.", "Tổng đài một tám không không, một không chín một miễn phí."),
    ("Gọi 19009095 để được tư vấn.", "Gọi một chín không không, chín không chín năm để được tư vấn."),
    ("Hotline 1800 599 920.", "hót lai một tám không không, năm chín chín, chín hai không."),
    # emergency numbers: digits in a list or after a calling word, a quantity otherwise
    ("Khi có sự cố gọi 113/114/115.", "Khi có sự cố gọi một một ba, một một bốn, một một năm."),
    ("Các số khẩn cấp 113, 114, 115 miễn phí.", "Các số khẩn cấp một một ba, một một bốn, một một năm miễn phí."),
    ("Gọi ngay 114 khi phát hiện cháy.", "Gọi ngay một một bốn khi phát hiện cháy."),
    ("Gọi 115 để được cấp cứu.", "Gọi một một năm để được cấp cứu."),
    ("Đường dây nóng PCCC: 114.", "Đường dây nóng phòng cháy chữa cháy: một một bốn."),
    ("Báo ngay cho Công an qua số 113.", "Báo ngay cho Công an qua số một một ba."),
    ("Tổng đài 111 bảo vệ trẻ em.", "Tổng đài một một một bảo vệ trẻ em."),
    ("Tổng đài 1022 hỗ trợ người dân.", "Tổng đài một không hai hai hỗ trợ người dân."),
    ("Hotline: 1080.", "hót lai: một không tám không."),
    ("Xã có 113 hộ nghèo.", "Xã có một trăm mười ba hộ nghèo."),
    ("Nhà số 115 đường Lê Lợi.", "Nhà số một trăm mười lăm đường Lê Lợi."),
    ("Số 1022 đường Lê Lợi.", "Số một nghìn không trăm hai mươi hai đường Lê Lợi."),
    ("Năm nay có 115 cháu vào lớp một.", "Năm nay có một trăm mười lăm cháu vào lớp một."),
    # registration plates: the province as a number, the series spelled, the serial digit by digit
    ("Xe ô tô biển kiểm soát 29C-123.45 chạy quá tốc độ.",
     "Xe ô tô biển kiểm soát hai mươi chín xê, một hai ba bốn năm chạy quá tốc độ."),
    ("Xe máy 23H1-234.56 vi phạm.", "Xe máy hai mươi ba hát một, hai ba bốn năm sáu vi phạm."),
    ("Ô tô BKS 51G-67890.", "Ô tô biển kiểm soát năm mươi mốt giê, sáu bảy tám chín không."),
    ("Lớp 12A1 có 35 học sinh.", "Lớp mười hai A một có ba mươi lăm học sinh."),
    # numbers that only look like phones stay numbers
    ("Dân số 12.345.678 người.", "Dân số mười hai triệu ba trăm bốn mươi lăm nghìn sáu trăm bảy mươi tám người."),
    ("Năm 1900 làng được lập.", "Năm một nghìn chín trăm làng được lập."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_phone_numbers_are_read_digit_by_digit_in_groups(written, spoken):
    assert normalize(written) == spoken
