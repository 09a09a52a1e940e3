"""Who may read and write what, resource by resource (reading lists have their own,
finer matrix in test_lists.py): anonymous, the owner, another reader, and staff."""

import pytest
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import SavedSearch
from digest.models import Digest, Feedback
from papers.identity import author_key
from papers.models import Author
from tests.factories import DigestFactory, PaperFactory, PaperTagFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

WHO = ["anonymous", "owner", "other", "staff"]


@pytest.fixture
def world():
    owner = UserFactory()
    paper = PaperFactory()
    return {
        "owner": owner,
        "paper": paper,
        "tag": TagFactory(name="Retrieval"),
        "author": Author.objects.create(name="Ada Lovelace", name_key=author_key("Ada Lovelace")),
        "search": SavedSearch.objects.create(user=owner, name="rag", query="rag"),
        "digest": DigestFactory(user=owner, status=Digest.Status.SENT),
        "feedback": Feedback.objects.create(user=owner, paper=paper, value=1),
        "paper_tag": PaperTagFactory(paper=paper),
    }


def _client(who, world):
    user = {
        "anonymous": None,
        "owner": world["owner"],
        "other": UserFactory(),
        "staff": UserFactory(is_staff=True, is_superuser=True),
    }[who]
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.create_token(user, name='t')[1]}")
    return client


# (method, url, body) → expected status for anonymous, owner, other, staff. "Owner" is
# the owner of the saved search, digest and feedback; papers, tags and authors belong to
# no reader.
CASES = [
    ("get", "/api/papers/", None, (200, 200, 200, 200)),
    ("get", "/api/papers/{paper}/", None, (200, 200, 200, 200)),
    ("post", "/api/papers/{paper}/vote/", None, (401, 200, 200, 200)),
    ("get", "/api/tags/{tag}/", None, (200, 200, 200, 200)),
    ("post", "/api/tags/{tag}/follow/", None, (401, 200, 200, 200)),
    ("get", "/api/authors/{author}/", None, (200, 200, 200, 200)),
    ("delete", "/api/authors/{author}/follow/", None, (401, 200, 200, 200)),
    ("get", "/api/me/", None, (401, 200, 200, 200)),
    ("get", "/api/me/searches/{search}/", None, (401, 200, 404, 404)),
    ("delete", "/api/me/searches/{search}/", None, (401, 204, 404, 404)),
    ("get", "/api/me/digests/{digest}/", None, (401, 200, 404, 404)),
    ("delete", "/api/me/feedback/{feedback}/", None, (401, 204, 404, 404)),
    ("post", "/api/lists/", {"name": "Mine"}, (401, 201, 201, 201)),
    ("get", "/api/imports/", None, (401, 403, 403, 200)),
    ("get", "/api/paper-tags/{paper_tag}/", None, (401, 403, 403, 200)),
    ("post", "/api/paper-tags/{paper_tag}/reject/", None, (401, 403, 403, 200)),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), CASES)
@pytest.mark.parametrize("who", WHO)
def test_permission_matrix(world, who, method, url, body, expected):
    keys = {
        "paper": world["paper"].pk,
        "tag": world["tag"].slug,
        "author": world["author"].pk,
        "search": world["search"].pk,
        "digest": world["digest"].pk,
        "feedback": world["feedback"].paper_id,
        "paper_tag": world["paper_tag"].pk,
    }
    response = getattr(_client(who, world), method)(url.format(**keys), body, format="json")
    assert response.status_code == expected[WHO.index(who)], response.content
    if response.status_code >= 400:
        assert response.json()["error"]["status"] == response.status_code
