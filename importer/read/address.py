"""Split a combined Chinese address (``浙江省 杭州市 西湖区 文三路100号``) into province, city, district and street.

Taobao, Tmall and 1688 exports give the receiver's address as one cell;
providers want the parts apart. The split is done by ``cpca`` (Chinese
Province, City and Area recognition: an Aho-Corasick matcher over the
national administrative-division codes it ships, MIT, about 180 kB), imported
only when a sheet needs a split so the command line stays quick to start.

A split is used only when it is certain: the province, the city and the
district were all found, some street address is left, and the text itself
names the province or the city (a district name alone, such as 朝阳区, exists
in several cities). Anything less is left unsplit and reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

_MUNICIPALITY_CITY = "市辖区"
"""What cpca gives as the city of Beijing, Shanghai, Tianjin and Chongqing: the city is the province there."""


@dataclass(frozen=True)
class AddressParts:
    """One address taken apart; ``street`` is what is left after the district."""

    province: str
    city: str
    district: str
    street: str


def split_addresses(addresses: Sequence[str]) -> list[AddressParts | None]:
    """Each address split, or None where the split is not certain."""
    distinct = list(dict.fromkeys(addresses))
    if not distinct:
        return []
    import cpca

    table = cpca.transform(distinct)
    found = {
        text: _certain(text, *(_cell(v) for v in row))
        for text, row in zip(distinct, table[["省", "市", "区", "地址"]].itertuples(index=False), strict=True)
    }
    return [found[text] for text in addresses]


def _cell(value: object) -> str:
    return "" if value is None or value != value else str(value).strip()


def _certain(text: str, province: str, city: str, district: str, street: str) -> AddressParts | None:
    if city == _MUNICIPALITY_CITY:
        city = province
    if not (province and city and district and street):
        return None
    if not any(_named(text, name) for name in (province, city)):
        return None
    return AddressParts(province, city, district, street)


def _named(text: str, name: str) -> bool:
    """Whether ``text`` names the place, in full (浙江省) or short (浙江, 杭州)."""
    short = name[:2]
    return name in text or (len(short) == 2 and short in text)
