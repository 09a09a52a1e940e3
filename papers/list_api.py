"""The REST API's reading lists: the owner's full control, everyone else's view.

The rules are papers.lists' own: a private list is its owner's alone (anyone else gets
404, as if it did not exist), an unlisted one opens by its secret token
(/api/shared-lists/<token>/), a public one by id for everyone; only the owner changes a
list — another reader writing to a list they can see gets 403. Items are addressed by
their paper's id: a paper is in a list at most once.
"""

from django.db.models import Count, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from config.api.fields import ModelSerializer, Text
from papers import exports, lists, votes
from papers.api import PaperSerializer, paper_cards
from papers.list_forms import DESCRIPTION_MAX, NOTE_MAX, ListImportForm
from papers.models import ListItem, Paper, ReadingList

EXPORT_PATH = r"export/(?P<fmt>bib|ris|csv)"
FORMAT_PARAMETER = OpenApiParameter(
    "fmt", str, OpenApiParameter.PATH, enum=list(exports.FORMATS), description="File format."
)
EXPORT_RESPONSES = {
    (200, chosen.content_type.split(";")[0]): str for chosen in exports.FORMATS.values()
}


class ReadingListSerializer(ModelSerializer):
    url = serializers.SerializerMethodField()
    html_url = serializers.SerializerMethodField()
    mine = serializers.SerializerMethodField(help_text="Whether you own it.")
    item_count = serializers.IntegerField(read_only=True)
    share_token = serializers.SerializerMethodField(
        help_text="The secret that opens an unlisted list; shown to its owner only."
    )
    description = Text(required=False, allow_blank=True, max_length=DESCRIPTION_MAX)
    papers = serializers.ListField(
        child=serializers.IntegerField(),
        write_only=True,
        required=False,
        max_length=lists.IMPORT_MAX_ENTRIES,
        help_text="On creation only: ids of papers to put in it, in order.",
    )

    class Meta:
        model = ReadingList
        fields = ["id", "url", "html_url", "name", "description", "visibility", "mine"]
        fields += ["item_count", "share_token", "created_at", "updated_at", "papers"]
        read_only_fields = ["created_at", "updated_at"]
        # The name's uniqueness per owner is papers.lists' to check, case-insensitively.
        validators = []

    def get_url(self, reading_list) -> str:
        return self.context["request"].build_absolute_uri(f"/api/lists/{reading_list.pk}/")

    def get_html_url(self, reading_list) -> str:
        return self.context["request"].build_absolute_uri(f"/lists/{reading_list.pk}/")

    def get_mine(self, reading_list) -> bool:
        return reading_list.owner_id == self.context["request"].user.pk

    def get_share_token(self, reading_list) -> str | None:
        return reading_list.share_token if self.get_mine(reading_list) else None

    def validate_papers(self, ids):
        return _papers(ids)


class ItemSerializer(serializers.Serializer):
    paper = PaperSerializer(read_only=True)
    note = Text(allow_blank=True, max_length=NOTE_MAX)
    status = serializers.ChoiceField(choices=ListItem.Status.choices)
    position = serializers.IntegerField(read_only=True, help_text="Sort key: lowest first.")
    added_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, item):
        return {
            "paper": PaperSerializer(item.paper, context=self.context).data,
            "note": item.note,
            "status": item.status,
            "position": item.position,
            "added_at": serializers.DateTimeField().to_representation(item.added_at),
        }


class NewItemSerializer(serializers.Serializer):
    paper = serializers.IntegerField(help_text="The id of the paper to add at the end.")

    def validate_paper(self, pk):
        return _papers([pk])[0]


class ItemChangeSerializer(serializers.Serializer):
    note = Text(required=False, allow_blank=True, max_length=NOTE_MAX)
    status = serializers.ChoiceField(required=False, choices=ListItem.Status.choices)
    place = serializers.IntegerField(
        required=False, min_value=1, help_text="Move the item here: 1 is the top."
    )


class ReorderSerializer(serializers.Serializer):
    papers = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every paper id of the list, in the new order."
    )


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A BibTeX or RIS file, as reference managers export.")
    format = serializers.ChoiceField(
        choices=["bibtex", "ris"], required=False, help_text="Recognised when left out."
    )


class ImportReportSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.IntegerField(), help_text="Paper ids.")
    already = serializers.ListField(child=serializers.IntegerField(), help_text="Paper ids.")
    unmatched = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="Entries naming papers paperfeed does not have: position and title.",
    )
    unreadable = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="Entries that could not be read: position and message.",
    )
    skipped = serializers.IntegerField(help_text="Entries past the limit, not looked at.")


def _papers(ids) -> list[Paper]:
    found = Paper.objects.only("id").in_bulk(ids)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise serializers.ValidationError(f"There are no papers with the ids {missing[:10]}.")
    return [found[pk] for pk in ids]


def _list_error(exc: lists.ListError):
    return serializers.ValidationError({"name": [str(exc)]})


class _ListReading:
    """What the owner's and the shared views of a list both offer: items and export."""

    def _items_response(self, request, reading_list):
        # Not items_of()'s select_related: a paper joined in would skip the prefetch that
        # brings each paper's tags and authors.
        items = lists.items_of(reading_list).select_related(None).order_by("position", "id")
        items = items.prefetch_related(Prefetch("paper", paper_cards()))
        page = self.paginate_queryset(items)
        voted = votes.voted_ids(request.user, [item.paper for item in page])
        context = self.get_serializer_context() | {"voted": voted}
        return self.get_paginated_response(ItemSerializer(page, many=True, context=context).data)

    def _export(self, request, reading_list, fmt):
        chosen = exports.FORMATS[fmt]
        site_url = request.build_absolute_uri("/").rstrip("/")
        response = HttpResponse(
            chosen.write(lists.items_of(reading_list), site_url=site_url),
            content_type=chosen.content_type,
        )
        filename = f"{slugify(reading_list.name) or 'reading-list'}.{chosen.extension}"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response


class ReadingListViewSet(_ListReading, viewsets.ModelViewSet):
    """Reading lists: yours and public ones (`?mine=true` for yours alone)."""

    serializer_class = ReadingListSerializer
    lookup_value_regex = r"\d+"
    filter_backends = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        readable = lists.visible_to(self.request.user)
        if self.request.query_params.get("mine") == "true":
            readable = lists.owned_by(self.request.user)
        return readable.annotate(item_count=Count("items")).order_by("name", "id")

    def get_object(self):
        """Readable lists for reading; for writing, the caller's own (403 if they may
        only read it, 404 if they may not even see it)."""
        reading_list = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        if self.request.method not in permissions.SAFE_METHODS and not (
            reading_list.owner_id == self.request.user.pk
        ):
            raise exceptions.PermissionDenied("Only the list's owner can change it.")
        return reading_list

    @extend_schema(
        parameters=[OpenApiParameter("mine", bool, description="Only your own lists (true).")]
    )
    def list(self, request, *args, **kwargs):
        mine = request.query_params.get("mine")
        if mine not in (None, "true", "false"):
            raise serializers.ValidationError({"mine": ["Use true or false."]})
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            reading_list = lists.create_list(owner=self.request.user, **data)
        except lists.ListError as exc:
            raise _list_error(exc) from None
        reading_list.item_count = len(data.get("papers", ()))
        serializer.instance = reading_list

    def perform_update(self, serializer):
        reading_list, data = serializer.instance, serializer.validated_data
        if "papers" in data:
            raise serializers.ValidationError(
                {"papers": ["Add papers through the list's items, not by changing the list."]}
            )
        try:
            lists.update_list(
                reading_list,
                name=data.get("name", reading_list.name),
                description=data.get("description", reading_list.description),
                visibility=data.get("visibility", reading_list.visibility),
            )
        except lists.ListError as exc:
            raise _list_error(exc) from None

    def perform_destroy(self, reading_list):
        lists.delete_list(reading_list)

    @extend_schema(request=None, responses={200: ReadingListSerializer})
    @action(detail=True, methods=["post"], url_path="share-link")
    def share_link(self, request, pk=None):
        """A new secret token; the old one stops opening the list."""
        reading_list = self.get_object()
        lists.new_share_link(reading_list)
        return Response(self.get_serializer(reading_list).data)

    @extend_schema(methods=["GET"], responses={200: ItemSerializer(many=True)})
    @extend_schema(methods=["POST"], request=NewItemSerializer, responses={201: ItemSerializer})
    @action(detail=True, methods=["get", "post"])
    def items(self, request, pk=None):
        """GET: the items in order. POST: add a paper at the end (200 if it was there)."""
        reading_list = self.get_object()
        if request.method == "GET":
            return self._items_response(request, reading_list)
        new = NewItemSerializer(data=request.data)
        new.is_valid(raise_exception=True)
        paper = new.validated_data["paper"]
        added = lists.add_paper(reading_list, paper)
        code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
        return self._item_response(request, reading_list, paper.pk, code)

    @extend_schema(methods=["PATCH"], request=ItemChangeSerializer, responses={200: ItemSerializer})
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"items/(?P<paper_id>\d+)")
    def item(self, request, pk=None, paper_id=None):
        """PATCH: change an item's note or status, or move it (`place`). DELETE: remove it."""
        reading_list = self.get_object()
        item = get_object_or_404(
            ListItem.objects.select_related("paper"), reading_list=reading_list, paper_id=paper_id
        )
        if request.method == "DELETE":
            lists.remove_paper(reading_list, item.paper)
            return Response(status=status.HTTP_204_NO_CONTENT)
        change = ItemChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        data = change.validated_data
        item.reading_list = reading_list
        if "note" in data or "status" in data:
            lists.update_item(
                item, note=data.get("note", item.note), status=data.get("status", item.status)
            )
        if "place" in data:
            lists.move_item(item, to=data["place"])
        return self._item_response(request, reading_list, item.paper_id, status.HTTP_200_OK)

    @extend_schema(request=ReorderSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def reorder(self, request, pk=None):
        """Put every item of the list in the given order."""
        reading_list = self.get_object()
        order = ReorderSerializer(data=request.data)
        order.is_valid(raise_exception=True)
        try:
            lists.reorder_items(reading_list, order.validated_data["papers"])
        except lists.ListError as exc:
            raise serializers.ValidationError({"papers": [str(exc)]}) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={200: ImportReportSerializer},
    )
    @action(detail=True, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_file(self, request, pk=None):
        """Add the papers a BibTeX or RIS file names (papers paperfeed has; others are
        reported, never imported)."""
        reading_list = self.get_object()
        form = ListImportForm(request.data, request.FILES)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors)
        report = lists.import_into_list(reading_list, form.cleaned_data["records"])
        return Response(
            {
                "added": [paper.pk for paper in report.added],
                "already": [paper.pk for paper in report.already],
                "unmatched": [{"position": r.position, "title": r.title} for r in report.unmatched],
                "unreadable": [
                    {"position": e.position, "message": e.message} for e in report.unreadable
                ],
                "skipped": report.skipped,
            }
        )

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=EXPORT_RESPONSES)
    @action(detail=True, url_path=EXPORT_PATH)
    def export(self, request, pk=None, fmt=None):
        """The list as a BibTeX, RIS or CSV file."""
        return self._export(request, self.get_object(), fmt)

    def _item_response(self, request, reading_list, paper_id, code):
        item = get_object_or_404(
            ListItem.objects.prefetch_related(Prefetch("paper", paper_cards())),
            reading_list=reading_list,
            paper_id=paper_id,
        )
        context = self.get_serializer_context() | {
            "voted": votes.voted_ids(request.user, [item.paper])
        }
        return Response(ItemSerializer(item, context=context).data, status=code)


class SharedListViewSet(_ListReading, viewsets.GenericViewSet):
    """Lists opened by their secret token: unlisted ones, and public ones."""

    serializer_class = ReadingListSerializer
    lookup_field = "share_token"
    lookup_url_kwarg = "token"
    lookup_value_regex = r"[\w-]+"
    filter_backends = []

    def get_queryset(self):
        return lists.shared_with(self.request.user).annotate(item_count=Count("items"))

    def retrieve(self, request, token=None):
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(responses={200: ItemSerializer(many=True)})
    @action(detail=True)
    def items(self, request, token=None):
        return self._items_response(request, self.get_object())

    @extend_schema(parameters=[FORMAT_PARAMETER], responses=EXPORT_RESPONSES)
    @action(detail=True, url_path=EXPORT_PATH)
    def export(self, request, token=None, fmt=None):
        return self._export(request, self.get_object(), fmt)
