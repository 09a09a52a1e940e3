import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    assert schema.startswith("openapi: 3.0")
    for path in ("/api/papers/", "/api/papers/{id}/vote/", "/api/tags/{slug}/follow/"):
        assert f"  {path}:" in schema


def test_the_schema_is_served(api):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_the_docs_page_needs_nothing_from_other_sites(api):
    page = api.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert addresses
    for address in addresses:
        assert address.startswith("/static/"), address
        assert finders.find(address.removeprefix("/static/")), address
    assert "//cdn" not in html and "https://" not in html
