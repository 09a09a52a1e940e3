"""Polite HTTP for remote sources.

Every request has timeouts, is retried with exponential backoff on network errors, 429
and 5xx (honouring Retry-After), names the operator in its User-Agent, and waits its turn:
one request at a time per host, at least `min_interval` seconds apart, across every
process (a Redis lock). Addresses a person typed are fetched with `guard=True`: only
http(s), and never this machine or a private, link-local or reserved network — checked
on the resolved address that is then connected to, and again after every redirect.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx
import redis
from django.conf import settings

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 120.0
_RETRY_STATUSES = {429, 500, 502, 503, 504}


class FetchError(Exception):
    """A remote source could not be read; the message says why, in one line."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status_code: int
    content: bytes
    retry_after: str | None = None


def user_agent() -> str:
    return f"paperfeed/1.0 (+{settings.SITE_URL}; mailto:{settings.FETCH_CONTACT_EMAIL})"


def fetch(
    url: str, *, params: dict | None = None, min_interval: float = 0.0, guard: bool = False
) -> Fetched:
    """GET `url`, politely. 4xx answers other than 429 are returned for the caller to read."""
    url = str(httpx.URL(url, params=params)) if params else url
    host = httpx.URL(url).host
    with _turn(host, min_interval), _client() as client:
        for attempt in range(settings.FETCH_RETRIES + 1):
            try:
                response = _get(client, url, guard=guard)
            except httpx.TransportError as exc:
                if attempt == settings.FETCH_RETRIES:
                    raise FetchError(f"{host}: {type(exc).__name__}: {exc}") from None
                _sleep_backoff(attempt)
                continue
            if response.status_code in _RETRY_STATUSES and attempt < settings.FETCH_RETRIES:
                _sleep_backoff(attempt, response.retry_after)
                continue
            if response.status_code in _RETRY_STATUSES:
                raise FetchError(
                    f"{host} answered HTTP {response.status_code} "
                    f"{settings.FETCH_RETRIES + 1} times; try again later"
                )
            return response
    raise AssertionError("unreachable")


def _client() -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(settings.FETCH_TIMEOUT, connect=10.0),
        headers={"User-Agent": user_agent()},
        follow_redirects=False,
    )


def _get(client: httpx.Client, url: str, *, guard: bool) -> Fetched:
    for _ in range(MAX_REDIRECTS + 1):
        request = _pinned_request(client, url) if guard else client.build_request("GET", url)
        response = client.send(request, stream=True)
        try:
            if response.is_redirect:
                url = str(httpx.URL(url).join(response.headers["Location"]))
                continue
            return Fetched(
                url=url,
                status_code=response.status_code,
                content=_read(response),
                retry_after=response.headers.get("Retry-After"),
            )
        finally:
            response.close()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")


def _read(response: httpx.Response) -> bytes:
    limit = settings.FETCH_MAX_BYTES
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise FetchError(f"the answer from {response.url.host} is larger than {limit} bytes")
    return bytes(body)


def check_url(url: str):
    """The address `url` would be fetched from, if it may be fetched at all."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"only http and https addresses can be imported, not {parsed.scheme}:")
    if not parsed.host:
        raise FetchError(f"{url} names no host")
    return check_address(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


def _pinned_request(client: httpx.Client, url: str) -> httpx.Request:
    """A request to the checked address itself, so DNS cannot answer differently later."""
    parsed = httpx.URL(url)
    address = check_url(url)
    request = client.build_request(
        "GET", parsed.copy_with(host=str(address)), headers={"Host": parsed.netloc.decode()}
    )
    request.extensions["sni_hostname"] = parsed.host
    return request


def check_address(host: str, port: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address to connect to for `host`, refused when any of its addresses is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchError(f"the host {host} does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not _allowed(address):
            raise FetchError(
                f"{host} is {address}, a local or private address; importing from it is not allowed"
            )
    return addresses[0]


def _allowed(address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in ipaddress.ip_network(net) for net in settings.IMPORT_URL_ALLOWED_NETWORKS):
        return True
    return address.is_global and not address.is_multicast


def _sleep_backoff(attempt: int, retry_after: str | None = None) -> None:
    delay = settings.FETCH_BACKOFF * 2**attempt
    if retry_after and retry_after.strip().isdigit():
        delay = min(float(retry_after), MAX_RETRY_AFTER)
    time.sleep(delay)


class _turn:
    """Hold the host's turn: one request at a time, `min_interval` seconds apart."""

    def __init__(self, host: str, min_interval: float):
        self.host, self.min_interval = host, min_interval
        self.client = redis.Redis.from_url(settings.REDIS_URL) if min_interval else None

    def __enter__(self):
        if not self.client:
            return self
        self.lock = self.client.lock(
            f"paperfeed:fetch:{self.host}:lock", timeout=600, blocking_timeout=900
        )
        if not self.lock.acquire():
            raise FetchError(f"waited too long for a turn to ask {self.host}")
        last = self.client.get(f"paperfeed:fetch:{self.host}:last")
        if last:
            time.sleep(max(0.0, float(last) + self.min_interval - time.time()))
        return self

    def __exit__(self, *exc):
        if self.client:
            self.client.set(f"paperfeed:fetch:{self.host}:last", time.time(), ex=3600)
            self.lock.release()
            self.client.close()
