"""Place prefixes, titles and "v.v." written with a period: expanded, with no period left to pause on."""

from __future__ import annotations

import pytest

from audio.normalize import normalize

CASES = [
    ("TP. Hải Dương tổ chức lễ hội.", "Thành phố Hải Dương tổ chức lễ hội."),
    ("Người dân TP. Vinh hưởng ứng.", "Người dân thành phố Vinh hưởng ứng."),
    ("Đoàn công tác của Tp. Hồ Chí Minh.", "Đoàn công tác của thành phố Hồ Chí Minh."),
    ("Hội nghị tại TX. Kinh Môn.", "Hội nghị tại thị xã Kinh Môn."),
    ("Trụ sở ở TT. Phú Xuyên.", "Trụ sở ở thị trấn Phú Xuyên."),
    ("Trú tại X. Tân Hội, H. Đan Phượng.", "Trú tại xã Tân Hội, huyện Đan Phượng."),
    ("Số 12 đường Lê Lợi, P. Trần Phú, TP. Hà Tĩnh.", "Số mười hai đường Lê Lợi, phường Trần Phú, thành phố Hà Tĩnh."),
    ("Trụ sở ở Q.1, TP.HCM.", "Trụ sở ở quận một, Thành phố Hồ Chí Minh."),
    ("Nhà số 5, P.12, Q. Gò Vấp.", "Nhà số năm, phường mười hai, quận Gò Vấp."),
    ("H.Gia Lâm có 20 xã.", "Huyện Gia Lâm có hai mươi xã."),
    # initials of names keep their letter and period
    ("Anh Nguyễn Văn H. trú tại X. Tân Hội.", "Anh Nguyễn Văn H. trú tại xã Tân Hội."),
    ("Bà Lê Thị P. đã nộp đơn.", "Bà Lê Thị P. đã nộp đơn."),
    # titles
    ("PGS.TS. Trần Văn Bình phát biểu.", "Phó giáo sư tiến sĩ Trần Văn Bình phát biểu."),
    ("Ý kiến của TS. Lê Hoa.", "Ý kiến của tiến sĩ Lê Hoa."),
    ("BS. Nguyễn Thị Lan khám cho trẻ.", "Bác sĩ Nguyễn Thị Lan khám cho trẻ."),
    ("GS.TS Nguyễn Văn An.", "Giáo sư tiến sĩ Nguyễn Văn An."),
    ("Trao danh hiệu NSƯT. Thu Hiền.", "Trao danh hiệu Nghệ sĩ ưu tú Thu Hiền."),
    # "v.v." in a sentence and at its end
    ("Ngô, khoai, sắn, v.v. đều được mùa.", "Ngô, khoai, sắn, vân vân đều được mùa."),
    ("Cần chuẩn bị áo phao, đèn pin, v.v. Người dân không ra khơi.",
     "Cần chuẩn bị áo phao, đèn pin, vân vân. Người dân không ra khơi."),
    ("Gạo, muối, nước uống, v.v.", "Gạo, muối, nước uống, vân vân."),
    ("Rau, củ, quả v.v..", "Rau, củ, quả vân vân."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_prefixes_with_periods_are_expanded(written, spoken):
    assert normalize(written) == spoken
