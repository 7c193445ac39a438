"""Signed asset hrefs for catalogs whose blobs need a token: Microsoft Planetary Computer.

A source with ``sign: planetary-computer`` has the items its search found signed here, before
their assets are parsed (``AssetInfo.href``) and before odc-stac reads them: every asset href on
``*.blob.core.windows.net`` gets the SAS token of its storage account and container appended
(``planetary_computer.sign``). One token is fetched per account/container and run; the package
caches it (``planetary_computer.sas.TOKEN_CACHE``) until a minute before it expires, and an href
that already carries a token (``st``/``se``/``sp`` in its query) is never signed again.

The token service is ``https://planetarycomputer.microsoft.com/api/sas/v1/token`` unless
``PC_SDK_SAS_URL`` names another; ``PC_SDK_SUBSCRIPTION_KEY`` (optional) raises its rate limits.
A service that cannot be reached or refuses is a ``SigningError``: one paragraph naming the URL,
what came back and what to do; nothing has been written to the store at that point.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pystac

from pipeline.errors import CatalogError, clip

SIGNERS = ("planetary-computer",)
"""The values a source's ``sign`` field accepts."""

TOKEN_RETRIES = 3
"""Attempts at the token service after the first (connection errors, 429 and 5xx), with a
backoff of 0.5 s, 1 s, 2 s: a dead service is reported in seconds, not minutes (the package's
own default is 10 retries with a backoff growing to two minutes)."""


class SigningError(CatalogError):
    """The token service of a signed catalog could not be reached or refused."""


def _containers(items: list[pystac.Item]) -> list[tuple[str, str]]:
    """The (storage account, container) pairs of the items' blob hrefs, in order of appearance."""
    from planetary_computer.sas import BLOB_STORAGE_DOMAIN
    from planetary_computer.utils import parse_blob_url

    seen: dict[tuple[str, str], None] = {}
    for item in items:
        for asset in item.assets.values():
            parsed = urlparse(asset.href)
            if parsed.netloc.endswith(BLOB_STORAGE_DOMAIN):
                seen.setdefault(parse_blob_url(parsed), None)
    return list(seen)


def _failure(url: str, exc: Exception) -> SigningError:
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        got = (
            f"HTTP {exc.response.status_code} ({clip(exc.response.text.strip() or exc.response.reason, 200)})"
        )
        hint = (
            "If it refused the key (401/403), check PC_SDK_SUBSCRIPTION_KEY (a Planetary Computer "
            "API key; unset it to sign anonymously); if it limited the rate (429), set "
            "PC_SDK_SUBSCRIPTION_KEY or wait and run again."
        )
    else:
        got = f"{type(exc).__name__}: {clip(exc, 300)}"
        hint = (
            "Check the network (this source needs internet, or a proxy through HTTPS_PROXY) and "
            "PC_SDK_SAS_URL if you set it, then run again; a Planetary Computer API key in "
            "PC_SDK_SUBSCRIPTION_KEY helps when the service limits anonymous requests."
        )
    return SigningError(
        f"signing the Planetary Computer asset hrefs: expected a SAS token from the token service "
        f"{url}, got {got}. {hint} The store is unchanged."
    )


def sign_items(items: list[pystac.Item], signer: str) -> list[pystac.Item]:
    """Copies of ``items`` with every blob-storage asset href signed by ``signer``."""
    if signer not in SIGNERS:
        raise CatalogError(
            f"sign: expected one of {', '.join(SIGNERS)}, got {signer!r}. Fix the source definition."
        )
    import planetary_computer
    from planetary_computer.sas import get_token
    from planetary_computer.settings import Settings

    base = Settings.get().sas_url
    for account, container in _containers(items):
        try:  # fetched (or taken from the package's cache) once per container
            get_token(account, container, retry_total=TOKEN_RETRIES, retry_backoff_factor=0.5)
        except Exception as exc:  # requests' transport and HTTP errors, a malformed answer
            raise _failure(f"{base}/{account}/{container}", exc) from exc
    signed: list[pystac.Item] = [planetary_computer.sign(item) for item in items]
    return signed
