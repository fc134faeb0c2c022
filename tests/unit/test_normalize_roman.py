"""Roman numerals after the words that take them; capitals elsewhere are letters."""

from __future__ import annotations

import pytest

from audio.normalize import normalize
from audio.normalize.roman import roman_value

CASES = [
    ("Nghị quyết Đại hội XIII của Đảng.", "Nghị quyết Đại hội mười ba của Đảng."),
    ("Đại biểu Quốc hội khóa XV tiếp xúc cử tri.", "Đại biểu Quốc hội khóa mười lăm tiếp xúc cử tri."),
    ("Hội đồng nhân dân xã khoá XXI.", "Hội đồng nhân dân xã khóa hai mươi mốt."),
    ("Kỳ họp thứ VII Hội đồng nhân dân huyện.", "Kỳ họp thứ bảy Hội đồng nhân dân huyện."),
    ("Tại kỳ họp thứ IV, các đại biểu đã thông qua.", "Tại kỳ họp thứ tư, các đại biểu đã thông qua."),
    ("Đại hội Đảng bộ xã lần thứ XXV.", "Đại hội Đảng bộ xã lần thứ hai mươi lăm."),
    ("Đại hội lần thứ I.", "Đại hội lần thứ nhất."),
    ("Hội nghị Trung ương 8 khóa XIII.", "Hội nghị Trung ương tám khóa mười ba."),
    ("Kết quả quý IV năm 2024.", "Kết quả quý bốn năm hai nghìn không trăm hai mươi tư."),
    ("Nộp thuế quý I và quý II.", "Nộp thuế quý một và quý hai."),
    ("Văn hóa Việt Nam thế kỷ XXI.", "Văn hóa Việt Nam thế kỷ hai mươi mốt."),
    ("Từ thế kỉ XV, làng đã có đình.", "Từ thế kỉ mười lăm, làng đã có đình."),
    ("Chương II quy định về đất ở.", "Chương hai quy định về đất ở."),
    ("Phần I: Kết quả thực hiện.", "Phần một: Kết quả thực hiện."),
    ("Mục III của kế hoạch.", "Mục ba của kế hoạch."),
    ("Học sinh học kỳ II đạt loại giỏi.", "Học sinh học kỳ hai đạt loại giỏi."),
    ("Trường đạt chuẩn quốc gia mức độ cấp II.", "Trường đạt chuẩn quốc gia mức độ cấp hai."),
    ("Giai đoạn II của dự án.", "Giai đoạn hai của dự án."),
    ("Đợt III tiêm vắc xin.", "Đợt ba tiêm vắc xin."),
    ("Quân khu IV tổ chức diễn tập.", "Quân khu bốn tổ chức diễn tập."),
    ("Đường loại V đi qua xã.", "Đường loại năm đi qua xã."),
    ("Mực nước dưới báo động I 0,3 m.", "Mực nước dưới báo động một không phẩy ba mét."),
    ("Nước lên trên báo động III.", "Nước lên trên báo động ba."),
    # a quarter of a year, in Roman or Arabic figures: not a date, not a fraction
    ("Quý III/2024, doanh thu tăng.", "Quý ba năm hai nghìn không trăm hai mươi tư, doanh thu tăng."),
    ("Kế hoạch quý 2/2025.", "Kế hoạch quý hai năm hai nghìn không trăm hai mươi lăm."),
    ("Từ quý IV/2023.", "Từ quý bốn năm hai nghìn không trăm hai mươi ba."),
    # capitals that are not after such a word are left to the lexicon and the voice
    ("Ông Nguyễn Văn X đã đến.", "Ông Nguyễn Văn X đã đến."),
    ("Vitamin C rất tốt.", "Vitamin C rất tốt."),
    ("Quý vị và các bạn.", "Quý vị và các bạn."),
    ("Khóa học kéo dài 3 tháng.", "Khóa học kéo dài ba tháng."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_roman_numerals_after_their_words_are_numbers(written, spoken):
    assert normalize(written) == spoken


@pytest.mark.parametrize(
    ("numeral", "value"), [("I", 1), ("IV", 4), ("IX", 9), ("XIII", 13), ("XIV", 14), ("XL", 40), ("XCIX", 99),
                           ("MMXXV", 2025)]
)
def test_roman_values(numeral, value):
    assert roman_value(numeral) == value
