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
