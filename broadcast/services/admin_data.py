"""Official administrative units, read from the maintained ``vietnamadminunits`` package.

It carries both maps keyed by statistics-office codes: 63 provinces / 696 districts / 10,035 communes
before 1 July 2025, and 34 provinces / 3,321 communes after, with coordinates and the old-to-new
correspondence. Nothing here touches our database.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import vietnamadminunits
from vietnamadminunits.database import query

LEGACY_TABLE = "admin_units_legacy"
CURRENT_TABLE = "admin_units"
_PROVINCE_PREFIXES = ("thanhpho", "tinh")


@dataclass(frozen=True)
class Unit:
    level: str  # province, district, commune
    code: str
    name: str
    short_name: str
    kind: str
    lat: float | None
    lon: float | None
    parent_code: str | None
    key: str  # the package's ascii key, used by its old-to-new correspondence


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    short_name: str
    key: str


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits only: "Tỉnh Hà Giang" -> "tinhhagiang"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _table(structure: str) -> str:
    return LEGACY_TABLE if structure == "legacy" else CURRENT_TABLE


@cache
def provinces(structure: str) -> tuple[Province, ...]:
    rows = query(
        f"SELECT DISTINCT provinceCode, province, provinceShort, provinceKey FROM [{_table(structure)}]"  # noqa: S608
        " ORDER BY provinceCode"
    )
    return tuple(Province(r["provinceCode"], r["province"], r["provinceShort"], r["provinceKey"]) for r in rows)


def find_province(structure: str, text: str) -> Province | None:
    """The province named (with or without "Tỉnh", accents or spaces) or coded by ``text``."""
    wanted = fold(text)
    for prefix in _PROVINCE_PREFIXES:
        if wanted.startswith(prefix) and len(wanted) > len(prefix):
            wanted = wanted.removeprefix(prefix)
            break
    for province in provinces(structure):
        if text.strip().zfill(2) == province.code or fold(province.short_name) == wanted:
            return province
    return None


def suggest_provinces(structure: str, text: str, limit: int = 3) -> list[str]:
    import difflib

    names = {fold(p.short_name): p.short_name for p in provinces(structure)}
    return [names[k] for k in difflib.get_close_matches(fold(text), list(names), n=limit, cutoff=0.5)]


def units(structure: str, province_code: str) -> list[Unit]:
    """The province itself, then (legacy) its districts, then its communes, in code order."""
    if structure == "legacy":
        rows = query(
            f"SELECT * FROM [{LEGACY_TABLE}] WHERE provinceCode = '{province_code}' ORDER BY wardCode"  # noqa: S608
        )
    else:
        rows = query(
            f"SELECT * FROM [{CURRENT_TABLE}] WHERE provinceCode = '{province_code}' ORDER BY wardCode"  # noqa: S608
        )
    if not rows:
        return []
    first = rows[0]
    kind = first["province"].removesuffix(first["provinceShort"]).strip()
    result = [Unit("province", province_code, first["province"], first["provinceShort"], kind,
                   first["provinceLat"], first["provinceLon"], None, first["provinceKey"])]
    if structure == "legacy":
        seen: set[str] = set()
        for r in sorted(rows, key=lambda r: r["districtCode"]):
            if r["districtCode"] in seen:
                continue
            seen.add(r["districtCode"])
            result.append(Unit("district", r["districtCode"], r["district"], r["districtShort"], r["districtType"],
                               r["districtLat"], r["districtLon"], province_code,
                               f"{r['provinceKey']}_{r['districtKey']}"))
        for r in rows:
            result.append(Unit("commune", r["wardCode"], r["ward"], r["wardShort"], r["wardType"], r["wardLat"],
                               r["wardLon"], r["districtCode"],
                               f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"))
    else:
        for r in rows:
            result.append(Unit("commune", r["wardCode"], r["ward"], r["wardShort"], r["wardType"], r["wardLat"],
                               r["wardLon"], province_code, f"{r['provinceKey']}_{r['wardKey']}"))
    return result


@cache
def _correspondence() -> dict:
    path = Path(vietnamadminunits.__file__).parent / "data" / "converter_2025.json"
    return json.loads(path.read_text(encoding="utf-8"))


def successors(current_province_key: str) -> list[tuple[str, str, bool]]:
    """(legacy commune key, 2025 commune key, whether it is the unit's main successor) for a 2025 province.

    Keys are those of ``Unit.key``. A legacy commune split between several new ones appears once per
    part, with ``True`` only for the part the package marks as the default.
    """
    data = _correspondence()
    pairs: list[tuple[str, str, bool]] = []
    for new_ward, legacy_keys in data["DICT_PROVINCE_WARD_NO_DIVIDED"].get(current_province_key, {}).items():
        pairs.extend((legacy, f"{current_province_key}_{new_ward}", True) for legacy in legacy_keys)
    for legacy, parts in data["DICT_PROVINCE_WARD_DIVIDED"].get(current_province_key, {}).items():
        pairs.extend((legacy, f"{current_province_key}_{p['newWardKey']}", bool(p["isDefaultNewWard"]))
                     for p in parts)
    return pairs


def merged_into(legacy_province: Province) -> Province | None:
    """The 2025 province that took over a legacy province."""
    for new_key, legacy_keys in _correspondence()["DICT_PROVINCE"].items():
        if legacy_province.key in legacy_keys:
            return next((p for p in provinces("2025") if p.key == new_key), None)
    return None
