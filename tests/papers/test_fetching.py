import time
from itertools import pairwise

import httpx
import pytest
import redis
from django.conf import settings as django_settings
from werkzeug import Response

from papers import fetching
from papers.fetching import FetchError, fetch


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.FETCH_BACKOFF = 0.01
    settings.FETCH_RETRIES = 2
    settings.FETCH_CONTACT_EMAIL = "curator@example.org"


def test_user_agent_names_the_operator(httpserver):
    httpserver.expect_request("/feed").respond_with_data("ok")

    result = fetch(httpserver.url_for("/feed"), params={"q": "a b"})

    assert result.content == b"ok"
    request, _ = httpserver.log[0]
    assert "mailto:curator@example.org" in request.headers["User-Agent"]
    assert request.args["q"] == "a b"


def test_server_errors_and_429_are_retried(httpserver):
    httpserver.expect_ordered_request("/feed").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/feed").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "0"})
    )
    httpserver.expect_ordered_request("/feed").respond_with_data("finally")

    assert fetch(httpserver.url_for("/feed")).content == b"finally"
    assert len(httpserver.log) == 3


def test_retries_run_out_with_a_clear_error(httpserver):
    httpserver.expect_request("/feed").respond_with_data("down", status=502)

    with pytest.raises(FetchError, match="answered HTTP 502 3 times; try again later"):
        fetch(httpserver.url_for("/feed"))


def test_a_client_error_is_returned_for_the_caller_to_read(httpserver):
    httpserver.expect_request("/feed").respond_with_data("<feed>error</feed>", status=400)

    result = fetch(httpserver.url_for("/feed"))

    assert (result.status_code, result.content) == (400, b"<feed>error</feed>")
    assert len(httpserver.log) == 1


def test_an_unreachable_host_is_a_fetch_error(settings):
    with pytest.raises(FetchError, match="ConnectError"):
        fetch("http://127.0.0.1:1/nothing-listens-here")


def test_requests_to_one_host_keep_their_distance(httpserver):
    arrivals = []

    def record_arrival(request):
        arrivals.append(time.monotonic())
        return Response("ok")

    httpserver.expect_request("/feed").respond_with_handler(record_arrival)

    for _ in range(3):
        fetch(httpserver.url_for("/feed"), min_interval=0.2)

    # Politeness, not speed: a lower bound on the spacing that only a bug can break.
    gaps = [later - earlier for earlier, later in pairwise(arrivals)]
    assert len(gaps) == 2
    assert all(gap >= 0.2 for gap in gaps)


def test_oversized_answers_are_refused(httpserver, settings):
    settings.FETCH_MAX_BYTES = 1000
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)

    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch(httpserver.url_for("/big"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x", "only http and https"),
        ("http://127.0.0.1/x", "127.0.0.1, a local or private address"),
        ("http://localhost/x", "a local or private address"),
        ("http://[::1]/x", "::1, a local or private address"),
        ("http://10.20.30.40/x", "10.20.30.40, a local or private address"),
        ("http://192.168.1.1/x", "a local or private address"),
        ("http://169.254.169.254/latest/meta-data", "a local or private address"),
        ("http://[::ffff:127.0.0.1]/x", "a local or private address"),
        ("http://0.0.0.0/x", "a local or private address"),
        ("http://no-such-host.invalid/x", "does not resolve"),
    ],
)
def test_typed_addresses_never_reach_this_machine_or_private_networks(url, message):
    with pytest.raises(FetchError, match=message.replace("[", r"\[").replace(".", r"\.")):
        fetch(url, guard=True)


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254"),
        ("64:ff9b:1::a00:1", "local-use NAT64 of 10.0.0.1"),
        ("2002:7f00:1::1", "6to4 of 127.0.0.1"),
        ("2002:c0a8:101::1", "6to4 of 192.168.1.1"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo, client 10.0.0.1"),
        ("::7f00:1", "IPv4-compatible 127.0.0.1"),
        ("::a00:1", "IPv4-compatible 10.0.0.1"),
        ("fec0::1", "site-local"),
    ],
)
def test_ipv6_forms_of_local_addresses_are_refused(address, what):
    # check_url() only resolves the literal: nothing is sent anywhere, whatever it decides.
    with pytest.raises(FetchError, match="a local or private address"):
        fetching.check_url(f"http://[{address}]/x")


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1"])
def test_ipv6_forms_of_public_addresses_are_allowed(address):
    assert str(fetching.check_url(f"http://[{address}]/x")) == address


class RawRedirect(Response):
    """A redirect whose Location goes out as written: werkzeug would refuse a malformed one."""

    def __init__(self, location):
        super().__init__(status=302)
        self.raw_location = location

    def get_wsgi_headers(self, environ):
        headers = super().get_wsgi_headers(environ)
        headers["Location"] = self.raw_location
        return headers


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://[::1", "which is not a valid address"),
        ("http://[::g]/x", "which is not a valid address"),
        ("ftp://example.org/papers.bib", "only http and https are followed"),
        ("javascript:alert(1)", "only http and https are followed"),
    ],
)
def test_a_redirect_to_a_malformed_or_non_web_address_fails_at_once(httpserver, location, message):
    httpserver.expect_request("/moved").respond_with_response(RawRedirect(location))

    with pytest.raises(FetchError, match=message):
        fetch(httpserver.url_for("/moved"))
    assert len(httpserver.log) == 1  # not retried as if the network had failed


def test_a_redirect_to_a_private_address_is_refused(httpserver, settings):
    # The test server itself lives on loopback, so it is let through explicitly.
    settings.IMPORT_URL_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    httpserver.expect_request("/to-private").respond_with_response(
        Response(status=302, headers={"Location": "http://10.1.2.3/secret"})
    )
    httpserver.expect_request("/to-loopback-v6").respond_with_response(
        Response(status=301, headers={"Location": "http://[::1]:8000/admin"})
    )
    httpserver.expect_request("/to-page").respond_with_response(
        Response(status=302, headers={"Location": "/page"})
    )
    httpserver.expect_request("/page").respond_with_data("landed")

    with pytest.raises(FetchError, match=r"10\.1\.2\.3, a local or private address"):
        fetch(httpserver.url_for("/to-private"), guard=True)
    with pytest.raises(FetchError, match="::1, a local or private address"):
        fetch(httpserver.url_for("/to-loopback-v6"), guard=True)
    assert fetch(httpserver.url_for("/to-page"), guard=True).content == b"landed"


def test_the_checked_address_is_the_one_connected_to(httpserver, settings):
    settings.IMPORT_URL_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    httpserver.expect_request("/x").respond_with_data("ok")
    url = httpserver.url_for("/x").replace("localhost", "127.0.0.1")

    fetch(url, guard=True)

    request, _ = httpserver.log[0]
    assert request.headers["Host"] == f"127.0.0.1:{httpserver.port}"


def test_too_many_redirects(httpserver, settings):
    settings.IMPORT_URL_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )

    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(httpserver.url_for("/loop"), guard=True)


def redis_client():
    return redis.Redis.from_url(django_settings.REDIS_URL)


def test_the_turn_is_shared_through_redis():
    host = f"turn-test-{time.time_ns()}"
    with fetching._turn(host, 0.1) as lock:
        assert lock.owned()
    assert not redis_client().exists(f"paperfeed:fetch:{host}:lock")


def test_the_turn_is_not_held_while_waiting_to_ask_again(httpserver, monkeypatch):
    url = httpserver.url_for("/feed")
    key = f"paperfeed:fetch:{httpx.URL(url).host}:lock"
    client = redis_client()
    seen = {}

    def busy(request):
        seen["during the request"] = client.get(key)
        return Response("slow down", status=429, headers={"Retry-After": "7"})

    httpserver.expect_ordered_request("/feed").respond_with_handler(busy)
    httpserver.expect_ordered_request("/feed").respond_with_data("ok")
    real_sleep = time.sleep

    def sleep(seconds):
        if seconds == 7:  # the Retry-After wait, skipped here
            seen["during the wait"] = client.get(key)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)

    assert fetch(url, min_interval=0.01).content == b"ok"

    assert seen["during the request"] is not None  # our lock's token
    # Free, or another process's turn: a long wait must not outlive our lock.
    assert seen["during the wait"] != seen["during the request"]


def test_a_turn_that_ran_out_during_the_request_keeps_the_answer(httpserver, caplog):
    url = httpserver.url_for("/feed")
    key = f"paperfeed:fetch:{httpx.URL(url).host}:lock"

    def slow(request):
        redis_client().delete(key)  # what the lock's timeout does to a request this slow
        return Response("ok")

    httpserver.expect_request("/feed").respond_with_handler(slow)

    assert fetch(url, min_interval=0.01).content == b"ok"
    assert "held its turn longer than" in caplog.text


def test_the_turn_is_given_back_when_taking_it_goes_wrong():
    host = f"turn-test-{time.time_ns()}"
    client = redis_client()
    client.set(f"paperfeed:fetch:{host}:last", b"not a time", ex=60)

    with pytest.raises(ValueError), fetching._turn(host, 0.1):
        pass

    assert not client.exists(f"paperfeed:fetch:{host}:lock")
