"""Polite HTTP for remote sources.

Every request has timeouts, is retried with exponential backoff on network errors, 429
and 5xx (honouring Retry-After), names the operator in its User-Agent, and waits its turn:
one request at a time per host, at least `min_interval` seconds apart, across every
process (a Redis lock held for one attempt at a time, so that backoff never keeps the
host from anyone else). Addresses a person typed are fetched with `guard=True`: only
http(s), and never this machine or a private, link-local or reserved network, nor an
IPv6 address that embeds one — checked on the resolved address that is then connected
to, and again after every redirect.
"""

import ipaddress
import logging
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import redis
from django.conf import settings
from redis.exceptions import LockNotOwnedError

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 120.0
_RETRY_STATUSES = {429, 500, 502, 503, 504}
# One attempt (its redirects and its body, up to FETCH_MAX_BYTES) holds the host's turn
# for at most this long; a lock that outlives its holder would stall every process.
TURN_TIMEOUT = 600
TURN_WAIT = 900


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
    parsed = _parse(url, params)
    url, host = (str(parsed) if params else url), parsed.host
    with _client() as client:
        for attempt in range(settings.FETCH_RETRIES + 1):
            try:
                # The turn is taken per attempt: holding it through the backoff below
                # could outlast the lock and let another process ask at the same time.
                with _turn(host, min_interval):
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
        event_hooks={"response": [_refuse_bad_redirect]},
    )


def _refuse_bad_redirect(response: httpx.Response) -> None:
    # httpx works out where a redirect leads as soon as it arrives, even when it does not
    # follow it, and takes a malformed address for a network error, which would be
    # retried. This hook runs first.
    if response.is_redirect:
        request = response.request
        _redirect_target(str(request.url), response.headers["Location"], request.headers["Host"])


def _get(client: httpx.Client, url: str, *, guard: bool) -> Fetched:
    for _ in range(MAX_REDIRECTS + 1):
        request = _pinned_request(client, url) if guard else client.build_request("GET", url)
        response = client.send(request, stream=True)
        try:
            if response.is_redirect:
                url = _redirect_target(url, response.headers["Location"], request.headers["Host"])
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


def _redirect_target(url: str, location: str, host: str) -> str:
    """Where a redirect from `url` leads; refused at once, since asking again cannot help."""
    try:
        target = httpx.URL(url).join(location)
    except httpx.InvalidURL:
        raise FetchError(
            f"{host} redirected to {location!r}, which is not a valid address"
        ) from None
    if target.scheme not in ("http", "https"):
        raise FetchError(f"{host} redirected to {location!r}; only http and https are followed")
    return str(target)


def _parse(url: str, params: dict | None = None) -> httpx.URL:
    try:
        return httpx.URL(url, params=params) if params else httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise FetchError(f"{url} is not a valid web address: {exc}") from None


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
    parsed = _parse(url)
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
    if any(address in ipaddress.ip_network(net) for net in settings.IMPORT_URL_ALLOWED_NETWORKS):
        return True
    embedded = _embedded_ipv4(address)
    if embedded:
        # Python calls several of these forms global whatever IPv4 address they carry,
        # and a NAT64 or 6to4 gateway would carry the request to that address.
        return all(_allowed(inner) for inner in embedded)
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or getattr(address, "is_site_local", False)  # IPv6 only
    )


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to, if it is one of the forms carrying one."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    if address.ipv4_mapped:
        return [address.ipv4_mapped]
    if address.sixtofour:
        return [address.sixtofour]
    if address.teredo:
        return list(address.teredo)  # the relay server and the client behind it
    if address in _IPV4_COMPATIBLE or any(address in net for net in _NAT64):
        return [ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)]
    return []


def _sleep_backoff(attempt: int, retry_after: str | None = None) -> None:
    delay = settings.FETCH_BACKOFF * 2**attempt
    if retry_after and retry_after.strip().isdigit():
        delay = min(float(retry_after), MAX_RETRY_AFTER)
    time.sleep(delay)


@contextmanager
def _turn(host: str, min_interval: float):
    """Hold the host's turn for one request: one at a time, `min_interval` seconds apart.

    Yields the Redis lock, or None when no interval is asked for.
    """
    if not min_interval:
        yield None
        return
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        lock = client.lock(
            f"paperfeed:fetch:{host}:lock", timeout=TURN_TIMEOUT, blocking_timeout=TURN_WAIT
        )
        if not lock.acquire():
            raise FetchError(f"waited too long for a turn to ask {host}")
        try:
            last = client.get(f"paperfeed:fetch:{host}:last")
            if last:
                # Capped, so that a clock ahead of ours elsewhere cannot stall us.
                wait = float(last) + min_interval - time.time()
                time.sleep(min(max(0.0, wait), min_interval))
            yield lock
        finally:
            try:
                client.set(f"paperfeed:fetch:{host}:last", time.time(), ex=3600)
            finally:
                _release(lock, host)
    finally:
        client.close()


def _release(lock, host: str) -> None:
    try:
        lock.release()
    except LockNotOwnedError:
        # The request took longer than the lock lives; what it fetched is still good,
        # but another process may have asked at the same time.
        logger.warning(
            "a request to %s held its turn longer than %s s; raise fetching.TURN_TIMEOUT",
            host,
            TURN_TIMEOUT,
        )
