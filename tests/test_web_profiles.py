"""The team server and mapping profiles: the check page names the profile used; a mapping saved as a profile.

Every test runs the real app (Starlette's TestClient) against the sandbox
over HTTP, with its data folder and users under ``tmp_path``.
"""

from __future__ import annotations

import stat
import tomllib

import pytest

pytest.importorskip("fastapi", reason="the team server needs the web extra: pip install 'order-importer[web]'")

from fastapi.testclient import TestClient

from importer.config import Settings
from importer.errors import InputError
from importer.read.mappings import configured_profiles
from importer.web import create_app
from importer.web.profiles import SavedProfiles, profile_table, profile_toml
from tests.test_other_systems import taobao_export
from tests.web_helpers import counts, server_config, sign_in, text, upload

ERP_HEADERS = "Plattform,Beleg,Artikel,Variante,Menge,Empfaenger,Handy,Land,Stadt,Strasse,Lager"
ERP_ROW = "xportcn-open,PO-{n},600126245031041190,5016042822039,2,Li Lei,13800138000,浙江省,杭州市,西湖区 1 号,A{n}"
ERP_MAP = [
    "provider", "order_ref", "item_id", "sku_id", "quantity", "receiver_name", "receiver_mobile", "province", "city",
]  # fmt: skip


@pytest.fixture
def config(tmp_path):
    return server_config(tmp_path)


@pytest.fixture
def client(sandbox, config):
    with TestClient(create_app(sandbox.settings(), config)) as running:
        yield running


def _erp_sheet(tmp_path, n: int):
    sheet = tmp_path / f"erp-{n}.csv"
    sheet.write_text(f"{ERP_HEADERS}\n{ERP_ROW.format(n=n)}\n", encoding="utf-8")
    return sheet


def _mapped(csrf: str, **extra: str) -> dict[str, str]:
    columns = [*ERP_MAP, "address", ""]  # Strasse is the address, Lager (the warehouse) is ignored
    return {"csrf_token": csrf, **{f"map-{i}": column for i, column in enumerate(columns)}, **extra}


def test_the_check_page_names_the_profile_picked_by_the_headers(client, tmp_path):
    csrf = sign_in(client, "vera")
    answer = upload(client, csrf, taobao_export(tmp_path))
    assert answer.url.path.endswith("/check"), text(answer)[:2000]
    assert "Read with the mapping profile 'taobao-seller' (Taobao/千牛 seller order export)" in text(answer)


def test_a_plain_sheet_names_no_profile(client, tmp_path):
    csrf = sign_in(client, "vera")
    answer = upload(client, csrf, _erp_sheet(tmp_path, 1))
    assert answer.url.path.endswith("/mapping")
    checked = client.post(answer.url.path, data=_mapped(csrf))
    assert checked.url.path.endswith("/check") and "Read with the mapping profile" not in checked.text


def test_a_mapping_saved_as_a_profile_reads_the_next_sheet_without_mapping(client, config, tmp_path):
    csrf = sign_in(client, "bob")
    first = upload(client, csrf, _erp_sheet(tmp_path, 1))
    assert first.url.path.endswith("/mapping") and 'name="profile-name"' in first.text
    checked = client.post(first.url.path, data=_mapped(csrf, **{"profile-name": "erp"}))
    assert counts(checked.text) == {"VALID": 1}, text(checked)[:3000]
    saved = config.data_dir / "profiles" / "erp.toml"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    table = tomllib.loads(saved.read_text(encoding="utf-8"))["mappings"]["erp"]
    assert table["headers"]["Menge"] == "quantity" and table["ignore"] == ["Lager"]
    second = upload(client, csrf, _erp_sheet(tmp_path, 2))
    assert second.url.path.endswith("/check"), text(second)[:2000]
    assert "Read with the mapping profile 'erp'" in text(second)
    assert counts(second.text) == {"VALID": 1}
    assert "<td>PO-2</td>" in second.text and "<th>order_ref</th>" in second.text


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("taobao-seller", "is a built-in profile's"),
        ("ERP profile", "use lower-case letters, digits and '-'"),
        ("../erp", "use lower-case letters, digits and '-'"),
    ],
)
def test_a_profile_name_that_is_taken_or_not_plain_is_refused(client, config, tmp_path, name, message):
    csrf = sign_in(client, "ada")
    first = upload(client, csrf, _erp_sheet(tmp_path, 1))
    refused = client.post(first.url.path, data=_mapped(csrf, **{"profile-name": name}))
    assert refused.status_code == 400 and message in text(refused)
    assert list((config.data_dir / "profiles").iterdir()) == []


def test_a_viewer_maps_but_cannot_save_a_profile(client, config, tmp_path):
    csrf = sign_in(client, "vera")
    first = upload(client, csrf, _erp_sheet(tmp_path, 1))
    assert 'name="profile-name"' not in first.text
    refused = client.post(first.url.path, data=_mapped(csrf, **{"profile-name": "erp"}))
    assert refused.status_code == 403 and "needs a buyer" in text(refused)
    assert list((config.data_dir / "profiles").iterdir()) == []


def test_saving_a_profile_needs_the_form_token(client, config, tmp_path):
    csrf = sign_in(client, "bob")
    first = upload(client, csrf, _erp_sheet(tmp_path, 1))
    data = _mapped(csrf, **{"profile-name": "erp"})
    data.pop("csrf_token")
    assert client.post(first.url.path, data=data).status_code == 403
    assert list((config.data_dir / "profiles").iterdir()) == []


def test_a_saved_profile_file_reads_back_as_the_mapping_it_was_made_from(tmp_path):
    mapping = {'Beleg "Nr."': "order_ref", "Art.\nNr": "item_id", "Menge": "quantity", "Lager": ""}
    table = profile_table("saved by bob from erp.csv", mapping, {"provider": {"Taobao 镜像": "xportcn-open"}})
    text_ = profile_toml("erp", table)
    profile = configured_profiles(tomllib.loads(text_)["mappings"])["erp"]
    assert profile.mapping == mapping and profile.detect == tuple(mapping)
    assert profile.values == {"provider": {"Taobao 镜像": "xportcn-open"}} and profile.title == table["title"]


def test_a_configured_name_is_refused_and_a_broken_profile_file_is_left_out(tmp_path):
    saved = SavedProfiles(tmp_path / "data")
    configured = Settings(mappings={"shop": {"headers": {"Menge": "quantity"}}})
    table = profile_table("t", {"Beleg": "order_ref", "Menge": "quantity"}, {})
    with pytest.raises(InputError, match="is a profile of the config file"):
        saved.save("shop", table, configured)
    (saved.folder / "broken.toml").write_text("[mappings.broken\n", encoding="utf-8")
    saved.save("erp", table, configured)
    assert list(saved.tables()) == ["erp"]
    assert set(saved.settings(configured).mappings) == {"erp", "shop"}
