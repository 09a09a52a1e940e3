"""The REST API for curators (staff): import runs, and the review of suggested tags.

The same checks and functions as the admin: an import starts from papers.forms.ImportForm
(size limit, format, and the fetcher's refusal of private and local addresses) and is
carried out by a worker; a tag review is papers.tagging.review.
"""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from config.api.fields import ModelSerializer
from config.api.filters import FilterSet
from papers import remote, sources, tasks
from papers.forms import ImportForm
from papers.models import ImportRun, PaperTag, Tag
from papers.tagging.review import review_tags


class IsCurator(permissions.BasePermission):
    """Staff with the right to change what it asks for (the admin's own permissions)."""

    message = "Only curators (staff) can do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(
            user.is_authenticated
            and user.is_staff
            and all(user.has_perm(name) for name in view.curator_permissions)
        )


class ImportRunSerializer(ModelSerializer):
    started_by = serializers.EmailField(source="started_by.email", allow_null=True, default=None)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ImportRun
        fields = ["id", "url", "source", "params", "trigger", "status", "started_by"]
        fields += ["started_at", "finished_at", "heartbeat_at", "seen", "created", "updated"]
        fields += ["unchanged", "failed", "errors", "message"]

    def get_url(self, run) -> str:
        return self.context["request"].build_absolute_uri(f"/api/imports/{run.pk}/")


class NewImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="A file to import (multipart).")
    url = serializers.URLField(required=False, help_text="Or a public web address to fetch.")
    format = serializers.ChoiceField(
        choices=sorted(sources.FORMATS), required=False, help_text="Recognised when left out."
    )


class ImportRunFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=ImportRun.Status.choices)

    class Meta(FilterSet.Meta):
        model = ImportRun
        fields = ["status"]


class ImportRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Import runs, newest first: progress (counts, heartbeat) and per-record errors.
    POST a file (multipart) or a `url` to start one; a worker carries it out."""

    serializer_class = ImportRunSerializer
    permission_classes = [IsCurator]
    curator_permissions = ["papers.add_paper"]
    filterset_class = ImportRunFilter
    parser_classes = [MultiPartParser, JSONParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        # An upload waiting for its worker may be 50 MB; no answer shows it.
        return (
            ImportRun.objects.defer("upload")
            .select_related("started_by")
            .order_by("-started_at", "-id")
        )

    @extend_schema(
        request={
            "multipart/form-data": NewImportSerializer,
            "application/json": NewImportSerializer,
        },
        responses={202: ImportRunSerializer},
    )
    def create(self, request, *args, **kwargs):
        form = ImportForm(request.data, request.FILES)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        run = remote.start_requested(form.cleaned_data, trigger="api", started_by=request.user)
        tasks.perform_import.delay_on_commit(run.pk)
        run = self.get_queryset().get(pk=run.pk)
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


class TagReviewSerializer(ModelSerializer):
    paper = serializers.IntegerField(source="paper_id")
    paper_title = serializers.CharField(source="paper.title")
    tag = serializers.SlugField(source="tag.slug")
    reviewed_by = serializers.EmailField(source="reviewed_by.email", allow_null=True, default=None)

    class Meta:
        model = PaperTag
        fields = ["id", "paper", "paper_title", "tag", "source", "confidence", "reason"]
        fields += ["status", "reviewed_by", "reviewed_at", "created_at"]


class PaperTagFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=PaperTag.Status.choices)
    source = django_filters.ChoiceFilter(choices=PaperTag.Source.choices)
    tag = django_filters.ModelChoiceFilter(
        queryset=Tag.objects.all(), to_field_name="slug", help_text="A tag's slug."
    )
    paper = django_filters.NumberFilter(field_name="paper_id", help_text="A paper's id.")

    class Meta(FilterSet.Meta):
        model = PaperTag
        fields = ["status", "source", "tag", "paper"]


class PaperTagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tags on papers with their source, confidence and reason — `?status=suggested` is
    the review queue, least sure first. Confirm or reject each."""

    serializer_class = TagReviewSerializer
    permission_classes = [IsCurator]
    curator_permissions = ["papers.change_papertag"]
    filterset_class = PaperTagFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            PaperTag.objects.select_related("tag", "reviewed_by", "paper")
            .only(
                *("id", "paper_id", "paper__title", "tag__slug", "source", "confidence", "reason"),
                *("status", "reviewed_by__email", "reviewed_at", "created_at"),
            )
            .order_by("confidence", "id")
        )

    @extend_schema(request=None, responses={200: TagReviewSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Keep the tag; re-tagging will not take it away."""
        return self._review(PaperTag.Status.CONFIRMED)

    @extend_schema(request=None, responses={200: TagReviewSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Take the tag off its paper for good; re-tagging will not put it back."""
        return self._review(PaperTag.Status.REJECTED)

    def _review(self, verdict):
        paper_tag = self.get_object()
        review_tags(PaperTag.objects.filter(pk=paper_tag.pk), status=verdict, by=self.request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=paper_tag.pk)).data)
