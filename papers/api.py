"""The REST API's papers, tags and authors: read, filter, vote, follow.

Viewsets parse the request and call the same queryset methods and functions the pages
use (papers.search, papers.votes, accounts.follows); registered on config.api.router.
"""

import datetime as dt

import django_filters
from django.db.models import F, FloatField, Prefetch
from django.db.models.functions import Cast, Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import follows
from config.api.caching import kept_for_anonymous
from config.api.fields import ModelSerializer, Text
from config.api.filters import FilterSet, StrictForm
from papers import search, votes
from papers.models import Author, Authorship, Paper, PaperTag, PaperVersion, Tag
from papers.sources.jsonish import web_url
from papers.trending import trending_score

ORDERINGS = {
    "relevance": "best match first (needs `search`; its default)",
    "newest": "newest listing day first (the default without `search`)",
    "trending": "what is trending: votes, saves and upvotes worn down by age",
    "votes": "most votes here plus Hugging Face upvotes",
}


# Serializers: what a client receives.


class TagRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Tag.Kind.choices)


class PaperTagSerializer(TagRefSerializer):
    status = serializers.ChoiceField(
        choices=[PaperTag.Status.SUGGESTED, PaperTag.Status.CONFIRMED],
        help_text="`confirmed` once a curator checked it, `suggested` until then.",
    )

    def to_representation(self, paper_tag):
        tag = paper_tag.tag
        return {"slug": tag.slug, "name": tag.name, "kind": tag.kind, "status": paper_tag.status}


class AuthorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()

    def to_representation(self, author):
        return {"id": author.pk, "name": author.name}


class LinksSerializer(serializers.Serializer):
    abstract = serializers.URLField(allow_blank=True)
    pdf = serializers.URLField(allow_blank=True)
    code = serializers.URLField(allow_blank=True)
    project = serializers.URLField(allow_blank=True)


class PaperSerializer(serializers.Serializer):
    """A paper as lists show it."""

    id = serializers.IntegerField()
    url = serializers.URLField(help_text="This paper in the API.")
    html_url = serializers.URLField(help_text="This paper's page on the site.")
    arxiv_id = serializers.CharField(allow_null=True)
    arxiv_version = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    authors = AuthorRefSerializer(many=True)
    abstract = Text(allow_blank=True)
    categories = serializers.ListField(child=serializers.CharField(), help_text="Primary first.")
    tags = PaperTagSerializer(many=True)
    published_at = serializers.DateTimeField(allow_null=True)
    listed_on = serializers.DateField(help_text="The day the paper belongs to in daily lists.")
    first_seen_at = serializers.DateTimeField()
    links = LinksSerializer(help_text="Only http(s) addresses; empty when unknown.")
    github_stars = serializers.IntegerField(allow_null=True)
    votes = serializers.IntegerField(help_text="Readers' votes here.")
    hf_upvotes = serializers.IntegerField(allow_null=True)
    saves = serializers.IntegerField(help_text="Reading lists it is in.")
    voted = serializers.BooleanField(help_text="Whether you voted for it (false when signed out).")

    def to_representation(self, paper):
        # Written out rather than field by field: a page of papers is the API's hottest
        # path, and DRF's per-field machinery would be most of its time.
        request = self.context["request"]
        return {
            "id": paper.pk,
            "url": request.build_absolute_uri(f"/api/papers/{paper.pk}/"),
            "html_url": request.build_absolute_uri(paper.get_absolute_url()),
            "arxiv_id": paper.arxiv_id,
            "arxiv_version": paper.arxiv_version,
            "doi": paper.doi,
            "title": paper.title,
            "authors": [
                {"id": a.author_id, "name": a.author.name} for a in paper.authorships.all()
            ],
            "abstract": paper.abstract,
            "categories": paper.categories,
            "tags": [PaperTagSerializer().to_representation(pt) for pt in paper.paper_tags.all()],
            "published_at": _iso(paper.published_at),
            "listed_on": paper.listed_on.isoformat(),
            "first_seen_at": _iso(paper.first_seen_at),
            "links": {
                "abstract": web_url(paper.abs_url),
                "pdf": web_url(paper.pdf_url),
                "code": web_url(paper.code_url),
                "project": web_url(paper.project_url),
            },
            "github_stars": paper.github_stars,
            "votes": paper.vote_count,
            "hf_upvotes": paper.hf_upvotes,
            "saves": paper.save_count,
            "voted": paper.pk in self.context.get("voted", ()),
        }


class VersionSerializer(ModelSerializer):
    class Meta:
        model = PaperVersion
        fields = ["number", "submitted_at", "size", "comment"]


class PaperDetailSerializer(PaperSerializer):
    """A paper with everything its page shows."""

    comment = Text(allow_blank=True)
    journal_ref = Text(allow_blank=True)
    keywords = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField(allow_null=True)
    versions = VersionSerializer(many=True)
    related_url = serializers.URLField(help_text="Papers like this one.")

    def to_representation(self, paper):
        data = super().to_representation(paper)
        data.update(
            comment=paper.comment,
            journal_ref=paper.journal_ref,
            keywords=paper.keywords,
            updated_at=_iso(paper.updated_at),
            versions=VersionSerializer(paper.versions.all(), many=True).data,
            related_url=data["url"] + "related/",
        )
        return data


class VoteSerializer(serializers.Serializer):
    voted = serializers.BooleanField()
    votes = serializers.IntegerField()


class _FollowableSerializer(ModelSerializer):
    """What tags and authors both show: their addresses, and whether you follow them."""

    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    following = serializers.SerializerMethodField()

    def get_url(self, thing) -> str:
        return self.context["request"].build_absolute_uri(self.api_path(thing))

    def get_html_url(self, thing) -> str:
        return self.context["request"].build_absolute_uri(thing.get_absolute_url())

    def get_following(self, thing) -> bool:
        return thing.pk in self.context.get("followed", ())


class TagSerializer(_FollowableSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    category = serializers.CharField(allow_null=True, help_text="arXiv code of category tags.")

    class Meta:
        model = Tag
        fields = ["slug", "name", "kind", "category", "description", "parent", "url"]
        fields += ["html_url", "following"]

    def api_path(self, tag) -> str:
        return f"/api/tags/{tag.slug}/"


class AuthorSerializer(_FollowableSerializer):
    class Meta:
        model = Author
        fields = ["id", "name", "url", "html_url", "following"]

    def api_path(self, author) -> str:
        return f"/api/authors/{author.pk}/"


class FollowingSerializer(serializers.Serializer):
    following = serializers.BooleanField()


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


# Filters: what a client asks for.


@extend_schema_field(OpenApiTypes.STR)
class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    """Tags named by slug, the parameter repeated for each."""


class PaperFilterForm(StrictForm):
    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date comes before the start date.")
        if data.get("ordering") == "relevance" and not data.get("search"):
            self.add_error("ordering", "Ordering by relevance needs a `search`.")
        if data.get("tag_mode") and not data.get("tag"):
            self.add_error("tag_mode", "`tag_mode` applies to `tag`, which is missing.")
        return data


class PaperFilter(FilterSet):
    search = django_filters.CharFilter(
        method="filter_search",
        help_text='Full text, web style: "quoted phrase", OR, -excluded word.',
    )
    tag = SlugsFilter(
        queryset=Tag.objects.all(),
        to_field_name="slug",
        method="filter_tags",
        help_text="A tag's slug; repeat for several (see `tag_mode`).",
    )
    tag_mode = django_filters.ChoiceFilter(
        choices=[("any", "any"), ("all", "all")],
        method="filter_nothing",
        help_text="With several tags: papers with `any` of them (default) or `all`.",
    )
    author = django_filters.CharFilter(
        method="filter_author", max_length=200, help_text="Words of an author's name."
    )
    category = django_filters.CharFilter(
        method="filter_category", max_length=32, help_text="An arXiv category, e.g. cs.CL."
    )
    since = django_filters.DateFilter(
        field_name="listed_on", lookup_expr="gte", help_text="Listed on or after this day."
    )
    until = django_filters.DateFilter(
        field_name="listed_on", lookup_expr="lte", help_text="Listed on or before this day."
    )
    # A choice rather than a BooleanFilter, which would ignore "perhaps" silently.
    has_code = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_has_code",
        help_text="Only papers with (true) or without (false) a code repository.",
    )
    ordering = django_filters.ChoiceFilter(
        choices=list(zip(ORDERINGS, ORDERINGS, strict=True)),
        method="filter_nothing",
        help_text="; ".join(f"`{name}`: {text}" for name, text in ORDERINGS.items()) + ".",
    )

    class Meta:
        model = Paper
        fields = []
        form = PaperFilterForm

    def filter_search(self, papers, name, value):
        query = search.Query.clean(value)
        if not query.has_words:
            raise serializers.ValidationError({"search": ["Type at least one word to search."]})
        return papers.search(query.text).annotate(relevance=Cast("rank", FloatField()))

    def filter_tags(self, papers, name, tags):
        if not tags:
            return papers
        if self.form.cleaned_data.get("tag_mode") == "all":
            for tag in tags:
                papers = papers.tagged(tag)
            return papers
        return papers.filter(
            id__in=PaperTag.objects.filter(tag__in=tags)
            .exclude(status=PaperTag.Status.REJECTED)
            .values("paper_id")
        )

    def filter_author(self, papers, name, value):
        return search.by_author_name(papers, search.Query.clean(value).text)

    def filter_category(self, papers, name, value):
        return papers.filter(categories__contains=[value.strip()])

    def filter_has_code(self, papers, name, value):
        return papers.with_code() if value == "true" else papers.filter(code_url="")

    def filter_nothing(self, papers, name, value):
        return papers  # read by other filters and by the ordering


# Viewsets.


def paper_cards():
    """Papers with what PaperSerializer shows, in a fixed number of queries."""
    authorships = Authorship.objects.select_related("author").only(
        "paper_id", "author_id", "position", "author__name"
    )
    return Paper.objects.for_cards().prefetch_related(Prefetch("authorships", authorships))


def _switch():
    """A detail action that a reader turns on with POST and off with DELETE."""
    return action(
        detail=True,
        methods=["post", "delete"],
        permission_classes=[permissions.IsAuthenticated],
        pagination_class=None,
        filter_backends=[],
    )


class PaperViewSet(viewsets.ReadOnlyModelViewSet):
    """Papers: list (filtered, ordered, in cursor pages), detail, related, vote."""

    filterset_class = PaperFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        papers = paper_cards()
        if self.action == "retrieve":
            papers = papers.prefetch_related("versions")
        return papers

    def filter_queryset(self, papers):
        papers = super().filter_queryset(papers)
        if self.action != "list":
            return papers
        ordering = self.request.query_params.get("ordering") or (
            "relevance" if self.request.query_params.get("search") else "newest"
        )
        if ordering == "relevance":
            return papers.order_by("-relevance", "-listed_on", "id")
        if ordering == "trending":
            # Scores wear down day by day: every page of one listing ranks as of the day
            # its first page was asked for.
            day = self.paginator.carried(self.request, "day") or timezone.localdate().isoformat()
            self.paginator.carry(day=day)
            return papers.annotate(trending=trending_score(_date(day))).order_by("-trending", "id")
        if ordering == "votes":
            popularity = F("vote_count") + Coalesce("hf_upvotes", 0)
            return papers.annotate(popularity=popularity).order_by("-popularity", "id")
        return papers.latest_listed()

    def get_serializer_class(self):
        return PaperDetailSerializer if self.action == "retrieve" else PaperSerializer

    @kept_for_anonymous
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = self.get_serializer_context() | {"voted": votes.voted_ids(request.user, page)}
        data = PaperSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @kept_for_anonymous
    def retrieve(self, request, *args, **kwargs):
        paper = self.get_object()
        context = self.get_serializer_context() | {"voted": votes.voted_ids(request.user, [paper])}
        return Response(PaperDetailSerializer(paper, context=context).data)

    @extend_schema(responses=PaperSerializer(many=True), filters=False)
    @action(detail=True, pagination_class=None, filter_backends=[])
    @kept_for_anonymous
    def related(self, request, pk=None):
        """Papers most like this one by content, most similar first."""
        paper = get_object_or_404(Paper.objects.only("id"), pk=pk)
        links = paper.related_links.order_by("-score", "related_id")
        ids = list(links.values_list("related_id", flat=True))
        found = self.get_queryset().in_bulk(ids)
        related = [found[pk] for pk in ids if pk in found]
        context = self.get_serializer_context() | {"voted": votes.voted_ids(request.user, related)}
        return Response(PaperSerializer(related, many=True, context=context).data)

    @extend_schema(request=None, responses={200: VoteSerializer}, filters=False)
    @_switch()
    def vote(self, request, pk=None):
        """POST votes for the paper, DELETE takes the vote back; both can be repeated."""
        paper = get_object_or_404(Paper.objects.only("id"), pk=pk)
        on = request.method == "POST"
        count = votes.set_vote(request.user, paper, on)
        return Response({"voted": on, "votes": count})


class _Followable(viewsets.ReadOnlyModelViewSet):
    """Tags and authors: list, detail, and follow (POST) / unfollow (DELETE)."""

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._serialized(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._serialized(self.get_object()))

    def _serialized(self, things, *, many=False):
        followed = self._followed(things if many else [things])
        context = self.get_serializer_context() | {"followed": followed}
        return self.serializer_class(things, many=many, context=context).data

    def _followed(self, things) -> set[int]:
        user = self.request.user
        if not user.is_authenticated or not things:
            return set()
        model = type(things[0])
        return set(
            model.objects.filter(pk__in=[t.pk for t in things], followers__user=user).values_list(
                "pk", flat=True
            )
        )

    @extend_schema(request=None, responses={200: FollowingSerializer}, filters=False)
    @_switch()
    def follow(self, request, **kwargs):
        """POST follows, DELETE stops following; both can be repeated."""
        on = request.method == "POST"
        follows.set_following(request.user, self.get_object(), on)
        return Response({"following": on})


class TagFilter(FilterSet):
    kind = django_filters.ChoiceFilter(choices=Tag.Kind.choices)

    class Meta(FilterSet.Meta):
        model = Tag
        fields = ["kind"]


class TagViewSet(_Followable):
    """Tags: topics, arXiv categories and keywords, by name."""

    serializer_class = TagSerializer
    filterset_class = TagFilter
    lookup_field = "slug"
    lookup_value_regex = r"[-\w]+"

    def get_queryset(self):
        return Tag.objects.select_related("parent").order_by("name", "id")


class AuthorFilter(FilterSet):
    name = django_filters.CharFilter(
        method="filter_name", max_length=200, help_text="Words of the name, e.g. hinton."
    )

    class Meta(FilterSet.Meta):
        model = Author
        fields = []

    def filter_name(self, authors, name, value):
        return search.authors_named(authors, search.Query.clean(value).text)


class AuthorViewSet(_Followable):
    """Authors, by name; each author's papers are /api/papers/?author=…"""

    serializer_class = AuthorSerializer
    filterset_class = AuthorFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Author.objects.order_by("name", "id")


def _date(iso: str) -> dt.date:
    try:
        return dt.date.fromisoformat(iso)
    except (TypeError, ValueError):
        raise serializers.ValidationError(
            {"cursor": ["This cursor is not valid: use the `next` link of a previous page."]}
        ) from None
