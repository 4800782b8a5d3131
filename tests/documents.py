"""The five provider documents (tests/fixtures/documents/*.txt) read as data: each example request and answer.

A document's example is its curl command: the URL (the provider's base URL
plus the documented path), the headers and the ``--data`` body; the example
answer is the first JSON object after "Responses". Tests replay the requests
as written, with only credentials and signatures made valid (see
:func:`valid_call`).
"""

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent / "fixtures" / "documents"

DOCUMENTS = {
    "xportcn-open": "xportcn-openapi-purchase-order-create.txt",
    "xportcn-ka-taobao": "xportcn-ka-taobao-order-create.txt",
    "xportcn-ka-1688": "xportcn-ka-alibaba-order-create.txt",
    "dajisaas": "dajisaas-taobao-purchase-order-create.txt",
    "shanjing": "shanjing-taobao-global-purchase-order-create.txt",
}
"""The create document of each provider key."""

XPORTCN = {"xportcn-open", "xportcn-ka-taobao", "xportcn-ka-1688"}

# PROVIDERS.md §2: the KA 1688 preview example (the documents call the preview mandatory before a
# create). Its specId is shortened there ("530ad0…0652"); this is the sandbox's full one.
PREVIEW_1688 = {
    "flow": "fenxiaonew",
    "addressParam": {
        "fullName": "test",
        "mobile": "13567102355",
        "phone": "",
        "postCode": "532600",
        "cityText": "崇左市",
        "provinceText": "凭祥市区",
        "areaText": "凭祥市区",
        "townText": "广西壮族自治区省",
        "address": "测试",
        "districtCode": "451481",
    },
    "cargoParamList": [{"offerId": 889512351602, "specId": "530ad0e3e64c05d35bc0b1a2ec2a0652", "quantity": 2.0}],
}
PREVIEW_1688_PATH = "/alibaba/ka/order/create/preview"

# The 1688 create document gives a schema ("string", 0): here it is with plausible values, the
# cargo of the preview example above.
FILLED_1688_CREATE = {
    "flow": "fenxiaonew",
    "message": "请尽快发货",
    "shopPromotionId": "",
    "tradeType": "fxassure",
    "addressParam": {**PREVIEW_1688["addressParam"], "phone": "13567102355"},
    "cargoParamList": [
        {
            "sellerOpenId": "BBBxZ2u3pYVdQk1xLetong",
            "offerId": 889512351602,
            "specId": "530ad0e3e64c05d35bc0b1a2ec2a0652",
            "quantity": 2.0,
            "productNo": "",
            "container": "",
        }
    ],
    "userId": "sandbox-user",
    "staffName": "张三",
    "outOrderId": "OI-DOC-1688",
    "developerId": 1028257583,
    "platformOrder": 1,
    "dropshipping": "N",
}


@dataclass(frozen=True)
class Example:
    """One document's example call and answer."""

    provider: str
    url: str
    headers: dict[str, str]
    body: Any
    answer: Any

    def path(self, base_url: str) -> str:
        """The documented path: the URL less the provider's documented base URL."""
        assert self.url.startswith(base_url), (self.url, base_url)
        return self.url[len(base_url) :]


def example(provider: str) -> Example:
    """The example of one provider's create document."""
    text = (FOLDER / DOCUMENTS[provider]).read_text(encoding="utf-8")
    curl = text[text.index("curl --location") :]
    url = re.search(r"'(https://[^']+)'", curl).group(1)
    headers = dict(re.findall(r"--header '([\w-]+)[:;] ?([^']*)'", curl[: curl.index("--data")]))
    body = json.loads(re.search(r"--data(?:-raw)? '(.*?)'\n", curl, re.DOTALL).group(1))
    after = text[text.index("Responses" if "Responses" in text else "返回响应") :]
    answer, _ = json.JSONDecoder().raw_decode(after[after.index("{") :])
    return Example(provider, url, headers, body, answer)


def xportcn_headers(access_key: str, secret: str, user_id: str, timestamp: str | None = None) -> dict[str, str]:
    """The documented headers with a valid signature: MD5(access_key + timestamp + nonce + secret), upper-case."""
    stamp = timestamp or str(int(time.time()))
    nonce = secrets.token_hex(16)
    signature = hashlib.md5((access_key + stamp + nonce + secret).encode()).hexdigest().upper()
    return {
        "access-key": access_key,
        "timestamp": stamp,
        "nonce-str": nonce,
        "user-id": user_id,
        "signature": signature,
    }


def valid_call(provider: str, account: Any, body: Any) -> tuple[dict[str, str], Any]:
    """Headers and body as the document writes them, with the sandbox account's credentials made valid."""
    if provider in XPORTCN:
        secret, key = account.credential("secret"), account.credential("access_key")
        return xportcn_headers(key, secret, str(account.options["user_id"])), body
    if provider == "dajisaas":
        return {}, {**body, "appKey": account.credential("app_key"), "appSecret": account.credential("app_secret")}
    return {"Authorization": f"Bearer {account.credential('access_token')}"}, body


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively; a JSON-encoded array or object is decoded and compared too."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    if isinstance(value, str) and value[:1] in ("[", "{"):
        return ("json", shape(json.loads(value)))
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def same_shape(got: Any, documented: Any, where: str = "") -> list[str]:
    """Where an answer differs from a documented one: keys, and the JSON type of every leaf the document fills.

    A documented null says nothing of the type; a null answer leaf stands for any type (a field with no
    value yet, as the documents' own examples show).
    """
    if isinstance(documented, dict):
        if not isinstance(got, dict):
            return [f"{where or 'answer'} is not an object"]
        problems = [f"{where}: keys {sorted(set(got) ^ set(documented))}"] if set(got) != set(documented) else []
        for key in set(got) & set(documented):
            problems += same_shape(got[key], documented[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(got, list):
            return [f"{where} is not an array"]
        return same_shape(got[0], documented[0], f"{where}[0]") if got and documented else []
    if documented is None or got is None:
        return []
    return (
        [] if shape(got) == shape(documented) else [f"{where}: {shape(got)} where the document has {shape(documented)}"]
    )
