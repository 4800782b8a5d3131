"""Provider adapters, registered by the key users write in the ``provider`` column."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Provider
from .dajisaas import Dajisaas
from .shanjing import Shanjing
from .xportcn_ka_1688 import XportcnKa1688
from .xportcn_ka_taobao import XportcnKaTaobao
from .xportcn_open import XportcnOpen

REGISTRY: dict[str, type[Provider]] = {
    XportcnOpen.key: XportcnOpen,
    XportcnKaTaobao.key: XportcnKaTaobao,
    XportcnKa1688.key: XportcnKa1688,
    Dajisaas.key: Dajisaas,
    Shanjing.key: Shanjing,
}


def provider_class(key: str) -> type[Provider]:
    """The adapter class for a provider key, or a ConfigError listing the known keys."""
    try:
        return REGISTRY[key]
    except KeyError:
        raise ConfigError(f"unknown provider '{key}'; known providers: {', '.join(sorted(REGISTRY))}") from None
