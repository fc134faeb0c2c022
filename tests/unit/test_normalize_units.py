"""Units after numbers and "/" read as "per": whole bulletin sentences and the words the voice gets."""

from __future__ import annotations

import pytest

from audio.normalize import normalize

CASES = [
    # lengths and rainfall; a range keeps "đến" before its unit
    ("Lượng mưa phổ biến 100-150mm.", "Lượng mưa phổ biến một trăm đến một trăm năm mươi mi li mét."),
    (
        "Từ đêm nay đến ngày mai có mưa vừa, mưa to, lượng mưa 50-100 mm, có nơi trên 150mm.",
        "Từ đêm nay đến ngày mai có mưa vừa, mưa to, lượng mưa năm mươi đến một trăm mi li mét, có nơi trên "
        "một trăm năm mươi mi li mét.",
    ),
    ("Tuyến đường dài 3,5 km được bê tông hóa.", "Tuyến đường dài ba phẩy năm ki lô mét được bê tông hóa."),
    ("Mặt đường rộng 5m, lề mỗi bên 0,5 m.", "Mặt đường rộng năm mét, lề mỗi bên không phẩy năm mét."),
    ("Cây giống cao 30-40cm.", "Cây giống cao ba mươi đến bốn mươi xăng ti mét."),
    ("Nước sông lên 2 - 3 m.", "Nước sông lên hai đến ba mét."),
    # areas and volumes, with superscripts or plain digits
    ("Nhà văn hóa thôn rộng 250 m².", "Nhà văn hóa thôn rộng hai trăm năm mươi mét vuông."),
    ("Diện tích sàn 120m2.", "Diện tích sàn một trăm hai mươi mét vuông."),
    ("Xã có diện tích tự nhiên 45,6 km².", "Xã có diện tích tự nhiên bốn mươi lăm phẩy sáu ki lô mét vuông."),
    ("Bể chứa 20 m³ nước sạch.", "Bể chứa hai mươi mét khối nước sạch."),
    ("Hồ chứa 1,2 triệu m3 nước.", "Hồ chứa một phẩy hai triệu mét khối nước."),
    ("Gieo cấy 1.250 ha lúa xuân.", "Gieo cấy một nghìn hai trăm năm mươi héc ta lúa xuân."),
    ("Trồng mới 15ha rừng.", "Trồng mới mười lăm héc ta rừng."),
    ("Có 2,5 nghìn ha bị ngập.", "Có hai phẩy năm nghìn héc ta bị ngập."),
    # masses
    ("Thu gom 500 kg rác thải.", "Thu gom năm trăm ki lô gam rác thải."),
    ("Mỗi hộ được hỗ trợ 10kg gạo.", "Mỗi hộ được hỗ trợ mười ki lô gam gạo."),
    ("Sản lượng đạt 12.500 tấn.", "Sản lượng đạt mười hai nghìn năm trăm tấn."),
    ("Mỗi gói 500 g, mỗi viên 250 mg.", "Mỗi gói năm trăm gam, mỗi viên hai trăm năm mươi mi li gam."),
    ("Pha 20 ml thuốc với 16 l nước.", "Pha hai mươi mi li lít thuốc với mười sáu lít nước."),
    # temperatures: the degree sign is read, and the C is said "xê"
    ("Nhiệt độ thấp nhất 12-14°C.", "Nhiệt độ thấp nhất mười hai đến mười bốn độ xê."),
    ("Vùng núi cao có nơi dưới 5 độ C.", "Vùng núi cao có nơi dưới năm độ xê."),
    ("Trời nắng nóng, nhiệt độ cao nhất 37oC.", "Trời nắng nóng, nhiệt độ cao nhất ba mươi bảy độ xê."),
    ("Nhiệt độ 35 °C.", "Nhiệt độ ba mươi lăm độ xê."),
    ("Sa Pa có nơi -2°C, băng giá.", "Sa Pa có nơi âm hai độ xê, băng giá."),
    ("Mẫu Sơn -1 độ C.", "Mẫu Sơn âm một độ xê."),
    ("Nhiệt độ 12°C - 14°C.", "Nhiệt độ mười hai độ xê đến mười bốn độ xê."),
    ("Lượng mưa 50mm/24h.", "Lượng mưa năm mươi mi li mét trong hai mươi tư giờ."),
    ("Mưa 30 mm/3 giờ, nơi 70mm/6h.", "Mưa ba mươi mi li mét trong ba giờ, nơi bảy mươi mi li mét trong sáu giờ."),
    # speeds, flows and pressure
    ("Gió giật cấp 8, tốc độ 60-75 km/h.", "Gió giật cấp tám, tốc độ sáu mươi đến bảy mươi lăm ki lô mét trên giờ."),
    ("Xe chạy không quá 40km/h.", "Xe chạy không quá bốn mươi ki lô mét trên giờ."),
    ("Gió mạnh 10 m/s.", "Gió mạnh mười mét trên giây."),
    ("Hồ xả 300 m³/s.", "Hồ xả ba trăm mét khối trên giây."),
    ("Áp suất không khí 996 hPa.", "Áp suất không khí chín trăm chín mươi sáu héc tô pát xcan."),
    ("Nồng độ bụi mịn 55 µg/m³.", "Nồng độ bụi mịn năm mươi lăm mi crô gam trên mét khối."),
    # electricity and telecommunications
    ("Nhà máy công suất 50 MW.", "Nhà máy công suất năm mươi mê ga oát."),
    ("Lắp 3 kWp điện mặt trời mái nhà.", "Lắp ba ki lô oát đỉnh điện mặt trời mái nhà."),
    ("Tiêu thụ 200 kWh mỗi tháng.", "Tiêu thụ hai trăm ki lô oát giờ mỗi tháng."),
    ("Sản lượng 80 triệu kWh.", "Sản lượng tám mươi triệu ki lô oát giờ."),
    ("Đường dây 110 kV đi qua xã.", "Đường dây một trăm mười ki lô vôn đi qua xã."),
    ("Bóng đèn 9W tiết kiệm điện.", "Bóng đèn chín oát tiết kiệm điện."),
    ("Tốc độ đường truyền 100 Mbps.", "Tốc độ đường truyền một trăm mê ga bít trên giây."),
    ("Gói cước 4 GB mỗi ngày.", "Gói cước bốn gi ga bai mỗi ngày."),
    # "/" after a word is "per": said "một"
    ("Giá lợn hơi 52.000 đồng/kg.", "Giá lợn hơi năm mươi hai nghìn đồng một ki lô gam."),
    ("Giá lợn 55.000-58.000đ/kg.", "Giá lợn năm mươi lăm nghìn đến năm mươi tám nghìn đồng một ki lô gam."),
    ("Phạt 6-8 triệu đ.", "Phạt sáu đến tám triệu đồng."),
    ("Hỗ trợ 1,5 triệu đồng/người/tháng.", "Hỗ trợ một phẩy năm triệu đồng một người một tháng."),
    ("Thu nhập 65 triệu đồng/người/năm.", "Thu nhập sáu mươi lăm triệu đồng một người một năm."),
    ("Năng suất lúa đạt 62 tạ/ha.", "Năng suất lúa đạt sáu mươi hai tạ một héc ta."),
    ("Mật độ rầy 3.000 con/m².", "Mật độ rầy ba nghìn con một mét vuông."),
    ("Lãi suất 0,5%/tháng.", "Lãi suất không phẩy năm phần trăm một tháng."),
    ("Tốc độ tăng trưởng 7,5%/năm.", "Tốc độ tăng trưởng bảy phẩy năm phần trăm một năm."),
    ("Bón 300 kg/ha phân chuồng.", "Bón ba trăm ki lô gam một héc ta phân chuồng."),
    ("Xe buýt chạy 20 lượt/ngày.", "Xe buýt chạy hai mươi lượt một ngày."),
    ("Mức đóng 50.000 đồng/hộ/tháng.", "Mức đóng năm mươi nghìn đồng một hộ một tháng."),
    ("Mật độ dân số 850 người/km².", "Mật độ dân số tám trăm năm mươi người một ki lô mét vuông."),
    ("Đường dài 12 Km, chở 500 Kg hàng.", "Đường dài mười hai ki lô mét, chở năm trăm ki lô gam hàng."),
    ("Máy bơm 7,5 KW, lưu lượng 20 l/s.", "Máy bơm bảy phẩy năm ki lô oát, lưu lượng hai mươi lít trên giây."),
    ("Nồng độ cồn vượt 0,4 mg/1 lít khí thở.", "Nồng độ cồn vượt không phẩy bốn mi li gam trên một lít khí thở."),
    ("Quá 50 miligam/100 mililít máu.", "Quá năm mươi mi li gam trên một trăm mi li lít máu."),
    # a slash between two other words is "and/or": both words are read
    ("Ưu tiên nam/nữ thanh niên.", "Ưu tiên nam nữ thanh niên."),
    ("Cha/mẹ học sinh ký tên.", "Cha mẹ học sinh ký tên."),
    # unit letters without a number before them are not units
    ("Ha ha, bà con cười vui.", "Ha ha, bà con cười vui."),
    ("Khu vực m của thôn.", "Khu vực m của thôn."),
    ("Hàng g được xếp trước.", "Hàng g được xếp trước."),
]


@pytest.mark.parametrize(("written", "spoken"), CASES)
def test_units_are_read_after_numbers_and_slash_is_per(written, spoken):
    assert normalize(written) == spoken
