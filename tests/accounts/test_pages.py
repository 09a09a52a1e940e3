"""Every account page is in the site's layout, and every field on it has a visible label."""

import pytest
from django.urls import reverse
from lxml import html

pytestmark = pytest.mark.django_db

SIGNED_OUT = ["account_login", "account_signup", "account_reset_password"]
SIGNED_IN = [
    "account_email",
    "account_change_password",
    "account_logout",
    "preferences",
    "delete-account",
]


def unlabelled_fields(text: str) -> list[str]:
    """Fields a person cannot see a name for: neither a <label for> nor a wrapping label,
    nor (for radio groups) a <legend>."""
    page = html.fromstring(text)
    labelled = {label.get("for") for label in page.iter("label") if label.text_content().strip()}
    missing = []
    for field in page.xpath("//main//input | //main//select | //main//textarea"):
        if field.get("type") in {"hidden", "submit", "button"}:
            continue
        if field.get("id") in labelled or field.xpath("ancestor::label"):
            continue
        if field.get("type") == "radio" and field.xpath("ancestor::fieldset/legend"):
            continue
        missing.append(field.get("name"))
    return missing


@pytest.mark.parametrize("name", SIGNED_OUT)
def test_signed_out_pages(client, name):
    page = client.get(reverse(name))

    assert page.status_code == 200
    assert 'class="site-header"' in page.text
    assert unlabelled_fields(page.text) == []


@pytest.mark.parametrize("name", SIGNED_IN)
def test_signed_in_pages(reader_client, name):
    page = reader_client.get(reverse(name))

    assert page.status_code == 200
    assert 'class="site-header"' in page.text
    assert unlabelled_fields(page.text) == []


def test_the_check_finds_a_field_without_a_label():
    assert unlabelled_fields('<main><input name="q" id="q"></main>') == ["q"]
    assert unlabelled_fields('<main><label for="q">Q</label><input name="q" id="q"></main>') == []


def test_form_errors_are_shown_in_the_sites_style(client):
    page = client.post(reverse("account_login"), {"login": "nobody@example.org", "password": "x"})

    assert '<div class="errors" role="alert">' in page.text
    assert "not correct" in page.text
