import factory
from factory.django import DjangoModelFactory

from papers import identity
from papers.models import Paper, PaperTag, Tag


class UserFactory(DjangoModelFactory):
    class Meta:
        model = "accounts.User"

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    password = factory.django.Password("a long test password")


class PaperFactory(DjangoModelFactory):
    class Meta:
        model = Paper

    title = factory.Sequence(lambda n: f"Scaling laws for sparse models, part {n}")
    title_key = factory.LazyAttribute(lambda paper: identity.title_key(paper.title))
    abstract = "We study how sparse mixture-of-experts models scale with data and compute."
    author_names = factory.LazyFunction(lambda: ["Ada Lovelace", "Alan Turing"])
    sources = factory.LazyFunction(lambda: ["hf-listing"])


class TagFactory(DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.LazyAttribute(lambda tag: tag.name.lower().replace(" ", "-"))


class PaperTagFactory(DjangoModelFactory):
    class Meta:
        model = PaperTag

    paper = factory.SubFactory(PaperFactory)
    tag = factory.SubFactory(TagFactory)
    source = PaperTag.Source.RULE
    reason = "matched “sparse”"


# Digests (their imports are here so that the factories above stay untouched).
import datetime as dt  # noqa: E402

from django.utils import timezone  # noqa: E402


class DigestFactory(DjangoModelFactory):
    class Meta:
        model = "digest.Digest"

    user = factory.SubFactory(UserFactory)
    period = factory.Sequence(lambda n: (dt.date(2026, 1, 1) + dt.timedelta(n)).isoformat())
    scheduled_for = factory.LazyFunction(timezone.now)
    since = factory.LazyAttribute(lambda digest: digest.scheduled_for - dt.timedelta(days=1))


class DigestItemFactory(DjangoModelFactory):
    class Meta:
        model = "digest.DigestItem"

    digest = factory.SubFactory(DigestFactory)
    paper = factory.SubFactory(PaperFactory)
    position = factory.Sequence(lambda n: n + 1)
    score = 1.0
    section = "Machine learning"
    reason = "you follow #machine-learning"
