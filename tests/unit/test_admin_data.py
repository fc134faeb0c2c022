"""Reading the official administrative units from the maintained package."""

from __future__ import annotations

from collections import Counter

import pytest

from broadcast.services import admin_data


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Tỉnh Hà Giang", "tinhhagiang"), ("Đồng Văn", "dongvan"), ("  Mèo   Vạc ", "meovac"), ("TP. Hà Nội", "tphanoi")],
)
def test_fold(text, folded):
    assert admin_data.fold(text) == folded


@pytest.mark.parametrize(
    ("structure", "text", "code"),
    [
        ("legacy", "Hà Giang", "02"),
        ("legacy", "ha giang", "02"),
        ("legacy", "Tỉnh Hà Giang", "02"),
        ("legacy", "02", "02"),
        ("legacy", "2", "02"),
        ("2025", "Tuyên Quang", "08"),
        ("2025", "Thành phố Hà Nội", "01"),
        ("2025", "Hà Giang", None),  # merged into Tuyên Quang in 2025
        ("legacy", "Atlantis", None),
    ],
)
def test_find_province(structure, text, code):
    found = admin_data.find_province(structure, text)
    assert (found.code if found else None) == code


def test_legacy_ha_giang_has_11_districts_and_193_communes():
    levels = Counter(u.level for u in admin_data.units("legacy", "02"))
    assert levels == {"province": 1, "district": 11, "commune": 193}


def test_2025_tuyen_quang_has_124_communes():
    levels = Counter(u.level for u in admin_data.units("2025", "08"))
    assert levels == {"province": 1, "commune": 124}


def test_every_legacy_commune_hangs_under_one_of_its_districts():
    units = admin_data.units("legacy", "02")
    districts = {u.code for u in units if u.level == "district"}
    assert all(u.parent_code in districts for u in units if u.level == "commune")


def test_ha_giang_merged_into_tuyen_quang():
    merged = admin_data.merged_into(admin_data.find_province("legacy", "Hà Giang"))
    assert merged.code == "08"


def test_suggestions_for_a_misspelt_province():
    assert "Hà Giang" in admin_data.suggest_provinces("legacy", "Ha Gang")


def test_island_districts_without_communes_are_kept_as_districts():
    units = admin_data.units("legacy", "31")  # Hải Phòng: Bạch Long Vĩ has no commune-level unit
    assert all(u.code for u in units)
    assert "Huyện Bạch Long Vĩ" in {u.name for u in units if u.level == "district"}


def test_every_legacy_province_has_coded_units():
    total = Counter()
    for province in admin_data.provinces("legacy"):
        units = admin_data.units("legacy", province.code)
        assert all(u.code and u.name for u in units), province.name
        total.update(u.level for u in units)
    assert total == {"province": 63, "district": 696, "commune": 10035}
