"""Vietnamese text normalization: each written form and the exact words the speech engine gets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audio.normalize import BUILT_IN_LEXICON, normalize, read_integer
from audio.normalize.tones import NEW_STYLE, normalize_tones

ROOT = Path(__file__).resolve().parents[2]

FIELD_SENTENCE = (
    "Ngày 13/12/2019, UBND tỉnh có báo cáo số 485/BC-UBND; tỷ lệ phủ sóng đạt 98,5% với 1.880 trạm BTS, lúc 17h30."
)
FIELD_READING = (
    "Ngày mười ba tháng mười hai năm hai nghìn không trăm mười chín, Ủy ban nhân dân tỉnh có báo cáo số "
    "bốn trăm tám mươi lăm Ủy ban nhân dân; tỷ lệ phủ sóng đạt chín mươi tám phẩy năm phần trăm "
    "với một nghìn tám trăm tám mươi trạm BTS, lúc mười bảy giờ ba mươi phút."
)


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (0, "không"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (100, "một trăm"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (1000, "một nghìn"),
        (1001, "một nghìn không trăm linh một"),
        (1880, "một nghìn tám trăm tám mươi"),
        (2019, "hai nghìn không trăm mười chín"),
        (10_500, "mười nghìn năm trăm"),
        (1_000_000, "một triệu"),
        (2_000_019, "hai triệu không trăm mười chín"),
        (1_000_000_000, "một tỷ"),
        (1_500_000_000, "một tỷ năm trăm triệu"),
    ],
)
def test_integers_are_read_with_linh_mot_tu_and_lam(number, words):
    assert read_integer(number) == words


CASES = [
    # the example sentence of FIELD.md, in full
    (FIELD_SENTENCE, FIELD_READING),
    # numbers: thousands dots, decimal commas, digit strings
    ("1.880 trạm", "một nghìn tám trăm tám mươi trạm"),
    ("12.345.678 người", "mười hai triệu ba trăm bốn mươi lăm nghìn sáu trăm bảy mươi tám người"),
    ("đạt 98,5%", "đạt chín mươi tám phẩy năm phần trăm"),
    ("hệ số 1,05", "hệ số một phẩy không năm"),
    ("số pi 3,14159", "số pi ba phẩy một bốn một năm chín"),
    # a phone number is read digit by digit in groups (issue 16: it used to run all ten digits together)
    ("Gọi 0912345678.", "Gọi không chín một hai, ba bốn năm, sáu bảy tám."),
    ("phiên bản 2.5", "phiên bản hai chấm năm"),
    ("Hà Nội có 15 xã.", "Hà Nội có mười lăm xã."),
    ("(1.880)", "(một nghìn tám trăm tám mươi)"),
    # dates
    ("13/12/2019", "ngày mười ba tháng mười hai năm hai nghìn không trăm mười chín"),
    ("Ngày 13/12/2019", "Ngày mười ba tháng mười hai năm hai nghìn không trăm mười chín"),
    ("3/2", "ngày ba tháng hai"),
    ("ngày 3/2", "ngày ba tháng hai"),
    ("mùng 2/9", "mùng hai tháng chín"),
    ("ngày 30/4/1975", "ngày ba mươi tháng tư năm một nghìn chín trăm bảy mươi lăm"),
    ("13-12-2019", "ngày mười ba tháng mười hai năm hai nghìn không trăm mười chín"),
    ("tháng 12/2019", "tháng mười hai năm hai nghìn không trăm mười chín"),
    ("từ 25-26/12/2023", "từ ngày hai mươi lăm đến hai mươi sáu tháng mười hai năm hai nghìn không trăm hai mươi ba"),
    # times
    ("lúc 17h30.", "lúc mười bảy giờ ba mươi phút."),
    ("14:30", "mười bốn giờ ba mươi phút"),
    ("7h", "bảy giờ"),
    ("7h00", "bảy giờ"),
    ("7g15", "bảy giờ mười lăm phút"),
    ("14:30:05", "mười bốn giờ ba mươi phút năm giây"),
    ("từ 7h00-9h30", "từ bảy giờ đến chín giờ ba mươi phút"),
    # money
    ("50.000 đồng", "năm mươi nghìn đồng"),
    ("50.000đ", "năm mươi nghìn đồng"),
    ("100.000 VNĐ", "một trăm nghìn đồng"),
    ("1,5 tỷ đồng", "một phẩy năm tỷ đồng"),
    ("giá 2 triệu đ.", "giá hai triệu đồng."),
    ("$5", "năm đô la"),
    # ranges
    ("5-7 người", "năm đến bảy người"),
    ("giai đoạn 2020-2025", "giai đoạn hai nghìn không trăm hai mươi đến hai nghìn không trăm hai mươi lăm"),
    ("tăng 3-5%", "tăng ba đến năm phần trăm"),
    # ordinals
    ("thứ 2", "thứ hai"),
    ("Thứ 7", "Thứ bảy"),
    ("lần thứ 4", "lần thứ tư"),
    ("Đại hội lần thứ 1", "Đại hội lần thứ nhất"),
    # fractions: not dates
    ("193/193 xã", "một trăm chín mươi ba trên một trăm chín mươi ba xã"),
    ("đạt 45/60", "đạt bốn mươi lăm trên sáu mươi"),
    # official document numbers: not fractions, "số" not doubled, and the type not repeated when the text
    # names it just before (issue 16: these used to say "báo cáo ... báo cáo", "thông tư ... thông tư")
    ("báo cáo số 485/BC-UBND", "báo cáo số bốn trăm tám mươi lăm Ủy ban nhân dân"),
    (
        "Thông tư 39/2020/TT-BTTTT",
        "Thông tư số ba mươi chín năm hai nghìn không trăm hai mươi Bộ Thông tin và Truyền thông",
    ),
    ("Quyết định 135/QĐ-TTg", "Quyết định số một trăm ba mươi lăm Thủ tướng Chính phủ"),
    (
        "Nghị định 100/2019/NĐ-CP",
        "Nghị định số một trăm năm hai nghìn không trăm mười chín Chính phủ",
    ),
    ("Số 12/QĐ-UBND", "Số mười hai quyết định Ủy ban nhân dân"),
    # VX is the culture-and-society desk of a committee's office: read in codes (it used to stay "VX")
    ("công văn 1234/UBND-VX", "công văn số một nghìn hai trăm ba mươi tư Ủy ban nhân dân văn xã"),
    # abbreviations: whole-word, case-sensitive
    ("HĐND xã họp", "Hội đồng nhân dân xã họp"),
    ("học sinh THCS, THPT; PCCC.", "học sinh trung học cơ sở, trung học phổ thông; phòng cháy chữa cháy."),
    ("BCH Đoàn, MTTQ và UBMTTQ", "Ban chấp hành Đoàn, Mặt trận Tổ quốc và Ủy ban Mặt trận Tổ quốc"),
    ("thẻ BHYT, BHXH", "thẻ bảo hiểm y tế, bảo hiểm xã hội"),
    ("TP.HCM và TP Huế", "Thành phố Hồ Chí Minh và thành phố Huế"),
    ("ubnd và UBNDX", "ubnd và UBNDX"),
    ("TTg và TT", "Thủ tướng Chính phủ và thông tư"),
    # tone marks: NFC and one placement
    ("hòa bình, thủy lợi", "hòa bình, thủy lợi"),
    ("hoà bình, thuỷ lợi", "hòa bình, thủy lợi"),
    ("Hoà Bình, Khánh Hoà", "Hòa Bình, Khánh Hòa"),
    ("ho\u0300a", "hòa"),
    ("người, khuỷu tay, quý, giữa, hoạch, toàn, tuổi", "người, khuỷu tay, quý, giữa, hoạch, toàn, tuổi"),
    # punctuation and capitals survive
    ("Chú ý! Có bão không? Có: cấp 12.", "Chú ý! Có bão không? Có: cấp mười hai."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_normalize_reads_written_forms(written, spoken):
    assert normalize(written) == spoken


def test_caller_lexicon_extends_and_overrides_the_built_in_one():
    lexicon = {"BTS": "trạm thu phát sóng", "TT": "trung tâm"}
    assert normalize("TT có 3 BTS", lexicon) == "trung tâm có ba trạm thu phát sóng"
    assert BUILT_IN_LEXICON["TT"] == "thông tư"


def test_caller_lexicon_applies_inside_document_codes():
    assert normalize("số 7/KH-UBX", {"UBX": "Ủy ban xã"}) == "số bảy kế hoạch Ủy ban xã"


def test_new_style_tone_placement_is_available():
    assert normalize_tones("hòa thủy Ủy", style=NEW_STYLE) == "hoà thuỷ Uỷ"


def test_normalize_is_idempotent_on_its_own_output():
    assert normalize(FIELD_READING) == FIELD_READING


def test_command_line_normalizes_stdin_line_by_line():
    result = subprocess.run(
        [sys.executable, "-m", "audio.normalize"],
        input="Ngày 3/2, UBND xã họp lúc 7h.\n193/193 xã đạt 98,5%\n".encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert result.stdout.decode("utf-8").splitlines() == [
        "Ngày ba tháng hai, Ủy ban nhân dân xã họp lúc bảy giờ.",
        "một trăm chín mươi ba trên một trăm chín mươi ba xã đạt chín mươi tám phẩy năm phần trăm",
    ]
