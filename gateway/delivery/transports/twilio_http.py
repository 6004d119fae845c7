"""The HTTP client under Twilio's official client, on urllib3's connection pool.

The twilio package's own `TwilioHttpClient` goes through requests, which prepares every call
anew: its hooks, cookies, authentication and adapters, and the environment's proxies. That was
half of what a provider call cost a sending worker, most of it for what a call to one API with
one account never changes. This is the SDK's extension point for an HTTP client (`HttpClient`):
the SDK still builds every request, reads every answer and raises its own errors; only the
transfer is urllib3's, which requests itself uses underneath.

What requests would read from the environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) is
read once, when the client is built, with requests' own rules.
"""

from __future__ import annotations

import json
import logging
import os.path
from base64 import b64encode
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode, urlsplit

import urllib3
from requests import Session
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_auth_from_url, prepend_scheme_if_needed, select_proxy
from twilio.http import HttpClient
from twilio.http.response import Response

log = logging.getLogger("twilio.http_client")

JSON_TYPES = ("application/json", "application/scim+json")
# Connections kept open to the API: a sending thread has its own client, with one call at a time.
POOL_SIZE = 2


class PooledHttpClient(HttpClient):
    """Twilio's HTTP client interface on a urllib3 pool, for one API base URL's environment.

    Never retries and never follows a redirect: a send the API may have taken is not made again
    here (the outbox decides, knowing what was recorded)."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(log, is_async=False, timeout=timeout)
        found = Session().merge_environment_settings(base_url, {}, None, None, None)
        verify = found["verify"]
        settings: dict[str, object] = {
            "maxsize": POOL_SIZE,
            "retries": False,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE",
        }
        # requests' trust store (certifi's), not the system's, unless REQUESTS_CA_BUNDLE says.
        bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
        if isinstance(bundle, str):
            settings["ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"] = bundle
        self.pool = _pool(select_proxy(base_url, found["proxies"]), settings)

    def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        sent = dict(headers or {})
        if auth:
            sent["Authorization"] = "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        body: bytes | None = None
        if data is not None:
            if sent.get("Content-Type") in JSON_TYPES:
                body = json.dumps(data).encode()
            elif fields := _fields(data):
                body = fields.encode()
        if params and (query := _fields(params)):
            url += ("&" if urlsplit(url).query else "?") + query
        given = {"timeout": urllib3.Timeout(connect=timeout, read=timeout)} if timeout else {}
        answer = self.pool.request(
            method.upper(), url, body=body, headers=sent, redirect=allow_redirects, retries=False, **given
        )
        return Response(answer.status, answer.data.decode("utf-8", errors="replace"), answer.headers)


def _pool(proxy: str | None, settings: dict[str, object]) -> urllib3.PoolManager:
    """A pool to the API, through `proxy` if one is given, read as requests reads one: a
    proxy without a scheme is an HTTP one, and a SOCKS one needs PySocks (as for requests)."""
    if not proxy:
        return urllib3.PoolManager(**settings)
    proxy = prepend_scheme_if_needed(proxy, "http")
    if proxy.startswith("socks"):
        from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks, as requests does

        return SOCKSProxyManager(proxy, **settings)  # type: ignore[return-value]
    user, password = get_auth_from_url(proxy)
    headers = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, **settings)


def _fields(values: Mapping[str, object]) -> str:
    """A form's fields as requests encodes them: a list is the field repeated, None left out."""
    pairs: list[tuple[str, object]] = []
    for name, value in values.items():
        each = value if isinstance(value, Iterable) and not isinstance(value, (str, bytes)) else [value]
        pairs += [(name, one) for one in each if one is not None]
    return urlencode(pairs)
