import pytest
from django.urls import reverse

from papers.models import Paper, PaperTag, Tag, TaggingRun, TagRule
from papers.tagging import applying
from tests.factories import PaperFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client, user


def rule_form(tag, **fields):
    return {
        "tag": tag.pk,
        "algorithm": "any",
        "pattern": "speech",
        "match_title": "on",
        "match_abstract": "on",
        "enabled": "on",
        **fields,
    }


def test_a_broken_regex_is_refused_with_the_reason(curator):
    client, _ = curator
    tag = Tag.objects.create(name="Speech", slug="speech")

    response = client.post(
        reverse("admin:papers_tagrule_add"), rule_form(tag, algorithm="regex", pattern="(unclosed")
    )

    assert response.status_code == 200
    assert "This rule cannot be used: not a valid regular expression" in response.text
    assert not TagRule.objects.exists()


def test_a_rule_without_fields_is_refused(curator):
    client, _ = curator
    tag = Tag.objects.create(name="Speech", slug="speech")
    form = rule_form(tag)
    del form["match_title"], form["match_abstract"]

    response = client.post(reverse("admin:papers_tagrule_add"), form)

    assert "fields must be some of" in response.text


def test_saving_a_rule_retags_in_the_background(curator, django_capture_on_commit_callbacks):
    client, _ = curator
    tag = Tag.objects.create(name="Speech", slug="speech")
    paper = PaperFactory(title="Speech recognition at scale")

    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("admin:papers_tagrule_add"), rule_form(tag))

    assert response.status_code == 302
    run = TaggingRun.objects.get()
    assert len(queued) == 1
    applying.retag(run)  # what the queued task does
    assert Paper.objects.tagged(tag).get() == paper


def test_curators_confirm_and_reject_suggestions(curator):
    client, user = curator
    tag = Tag.objects.create(name="Speech", slug="speech")
    first, second = (
        PaperTag.objects.create(paper=PaperFactory(), tag=tag, source="rule", reason="r")
        for _ in range(2)
    )
    url = reverse("admin:papers_papertag_changelist")

    client.post(url, {"action": "confirm", "_selected_action": [first.pk]})
    client.post(url, {"action": "reject", "_selected_action": [second.pk]})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.reviewed_by) == ("confirmed", user)
    assert (second.status, second.reviewed_by) == ("rejected", user)


def test_a_tag_a_curator_adds_is_theirs(curator):
    client, _ = curator
    tag = Tag.objects.create(name="Speech", slug="speech")
    paper = PaperFactory()

    client.post(
        reverse("admin:papers_papertag_add"),
        {
            "paper": paper.pk,
            "tag": tag.pk,
            "source": "rule",
            "status": "suggested",
            "confidence": "1",
            "reason": "",
        },
    )

    added = PaperTag.objects.get()
    assert (added.source, added.status) == ("curator", "confirmed")
