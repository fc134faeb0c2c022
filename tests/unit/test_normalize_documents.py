"""Document numbers read once: the number, the year, the issuer, and the type only when not just said."""

from __future__ import annotations

import pytest

from audio.normalize import normalize

CASES = [
    # ... and the issuer is not read twice either when the text names it right after the number
    ("Theo Kế hoạch số 45/KH-UBND của UBND huyện.", "Theo Kế hoạch số bốn mươi lăm của Ủy ban nhân dân huyện."),
    (
        "Căn cứ Nghị định số 102/2024/NĐ-CP ngày 30/7/2024 của Chính phủ.",
        "Căn cứ Nghị định số một trăm linh hai năm hai nghìn không trăm hai mươi tư ngày ba mươi tháng bảy năm hai "
        "nghìn không trăm hai mươi tư của Chính phủ.",
    ),
    (
        "Thông tư số 22/2023/TT-BTC của Bộ Tài chính.",
        "Thông tư số hai mươi hai năm hai nghìn không trăm hai mươi ba của Bộ Tài chính.",
    ),
    ("Công văn 12/UBND-VX của UBND huyện.", "Công văn số mười hai của Ủy ban nhân dân huyện."),
    (
        "Căn cứ Công văn số 456/SYT-NVY ngày 10/3/2025 của Sở Y tế.",
        "Căn cứ Công văn số bốn trăm năm mươi sáu ngày mười tháng ba năm hai nghìn không trăm hai mươi lăm của "
        "Sở Y tế.",
    ),
    # named further on, the issuer is still read with the number
    (
        "Quyết định 12/QĐ-UBND về việc thành lập tổ công tác của UBND huyện.",
        "Quyết định số mười hai Ủy ban nhân dân về việc thành lập tổ công tác của Ủy ban nhân dân huyện.",
    ),
    ("Quyết định số 1.234/QĐ-UBND.", "Quyết định số một nghìn hai trăm ba mươi tư Ủy ban nhân dân."),
    ("Kế hoạch 2.015/KH-UBND của xã.", "Kế hoạch số hai nghìn không trăm mười lăm Ủy ban nhân dân của xã."),
    (
        "Theo Quyết định số 1234/QĐ-UBND ngày 15/3/2024.",
        "Theo Quyết định số một nghìn hai trăm ba mươi tư Ủy ban nhân dân ngày mười lăm tháng ba năm hai nghìn "
        "không trăm hai mươi tư.",
    ),
    ("Thông báo số 12/TB-UBND.", "Thông báo số mười hai Ủy ban nhân dân."),
    ("Công văn số 678/CV-UBND.", "Công văn số sáu trăm bảy mươi tám Ủy ban nhân dân."),
    (
        "Nghị định 168/2024/NĐ-CP về xử phạt.",
        "Nghị định số một trăm sáu mươi tám năm hai nghìn không trăm hai mươi tư Chính phủ về xử phạt.",
    ),
    (
        "Thông tư số 22/2023/TT-BTC.",
        "Thông tư số hai mươi hai năm hai nghìn không trăm hai mươi ba Bộ Tài chính.",
    ),
    ("Chỉ thị 05/CT-TTg của Thủ tướng.", "Chỉ thị số năm Thủ tướng Chính phủ của Thủ tướng."),
    ("Nghị quyết số 18-NQ/TW.", "Nghị quyết số mười tám trung ương."),
    ("Chỉ thị 35-CT/TW về đại hội.", "Chỉ thị số ba mươi lăm trung ương về đại hội."),
    ("Kết luận số 12-KL/TU.", "Kết luận số mười hai Tỉnh ủy."),
    ("QĐ số 123/QĐ-UBND.", "quyết định số một trăm hai mươi ba Ủy ban nhân dân."),
    ("Theo KH 45/KH-UBND.", "Theo kế hoạch số bốn mươi lăm Ủy ban nhân dân."),
    # the type is read when the text does not say it before
    ("Căn cứ văn bản 45/KH-UBND.", "Căn cứ văn bản số bốn mươi lăm kế hoạch Ủy ban nhân dân."),
    ("Xem 12/TB-UBND để biết thêm.", "Xem số mười hai thông báo Ủy ban nhân dân để biết thêm."),
    ("Số 88/BC-HĐND.", "Số tám mươi tám báo cáo Hội đồng nhân dân."),
    # a number and year after a document type, without the code
    ("Theo Nghị định 100/2019.", "Theo Nghị định số một trăm năm hai nghìn không trăm mười chín."),
    ("Thông tư số 22/2023 hướng dẫn.", "Thông tư số hai mươi hai năm hai nghìn không trăm hai mươi ba hướng dẫn."),
    # a ratio of two grouped numbers keeps both numbers with "trên"
    ("Đã thu 1.452/1.520 phiếu.", "Đã thu một nghìn bốn trăm năm mươi hai trên một nghìn năm trăm hai mươi phiếu."),
    ("Kết quả 1.452/1.520.", "Kết quả một nghìn bốn trăm năm mươi hai trên một nghìn năm trăm hai mươi."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_document_numbers_do_not_repeat_the_type(written, spoken):
    assert normalize(written) == spoken
