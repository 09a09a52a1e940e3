"""The REST API's "me": a reader's digest settings, what they follow, their saved
searches. (Their digests and 👍/👎 are in digest/api.py, their lists in papers.)"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, permissions, serializers, viewsets
from rest_framework.response import Response

from accounts import saved_searches
from accounts.models import Preferences, SavedSearch
from accounts.preferences import digest_settings, preferences_of, set_digest_settings
from accounts.schedule import known_time_zone
from config.api.fields import ModelSerializer, Text
from papers.api import AuthorSerializer, TagSerializer
from papers.models import Tag
from papers.search import Query


class PreferencesSerializer(serializers.Serializer):
    digest_frequency = serializers.ChoiceField(choices=Preferences.Frequency.choices)
    digest_weekday = serializers.ChoiceField(
        choices=Preferences.Weekday.choices, help_text="0 is Monday; for weekly digests."
    )
    digest_hour = serializers.IntegerField(min_value=0, max_value=23, help_text="Local hour.")
    time_zone = Text(max_length=64, help_text="An IANA zone, e.g. Asia/Tokyo.")
    digest_size = serializers.IntegerField(min_value=1, max_value=100)
    next_digest_at = serializers.DateTimeField(read_only=True, allow_null=True)
    paused_reason = serializers.CharField(
        read_only=True, help_text="Why digests are paused (e.g. bounces); empty if they are not."
    )

    def validate_time_zone(self, value):
        if not known_time_zone(value):
            raise serializers.ValidationError(f"“{value}” is not a time zone we know.")
        return value


class PreferencesChangeSerializer(PreferencesSerializer):
    """The settings to change; the others stay as they are."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class MeChangeSerializer(serializers.Serializer):
    preferences = PreferencesChangeSerializer(required=False)


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(read_only=True)
    preferences = PreferencesSerializer()


class MeView(generics.GenericAPIView):
    """You: your address and digest settings (PATCH `preferences` to change them)."""

    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        return Response(self._me(request))

    @extend_schema(request=MeChangeSerializer, responses=MeSerializer)
    def patch(self, request):
        preferences = preferences_of(request.user)
        change = MeChangeSerializer(data=request.data)
        change.is_valid(raise_exception=True)
        wanted = change.validated_data.get("preferences", {})
        if wanted:
            set_digest_settings(preferences, **(digest_settings(preferences) | wanted))
        return Response(self._me(request))

    def _me(self, request) -> dict:
        preferences = preferences_of(request.user)
        return {
            "email": request.user.email,
            "name": request.user.name,
            "preferences": PreferencesSerializer(preferences).data,
        }


class TagSlug(serializers.SlugRelatedField):
    """A tag's slug or null; DRF would quietly read "" as null, which the schema forbids."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            raise serializers.ValidationError("Give a tag's slug, or null for none.")
        return super().run_validation(data)


class SavedSearchSerializer(ModelSerializer):
    query = Text(required=False, allow_blank=True, max_length=300)
    tag = TagSlug(slug_field="slug", queryset=Tag.objects.all(), required=False, allow_null=True)
    author = Text(required=False, allow_blank=True, max_length=200)
    name = Text(required=False, allow_blank=True, max_length=120)
    html_url = serializers.SerializerMethodField(help_text="The search on the site.")

    class Meta:
        model = SavedSearch
        fields = ["id", "name", "query", "tag", "author", "has_code", "created_at", "html_url"]
        read_only_fields = ["created_at"]
        validators = []  # the name's uniqueness is saved_searches' to check

    def get_html_url(self, saved) -> str:
        return self.context["request"].build_absolute_uri(saved_searches.search_url(saved))

    def validate(self, data):
        data["query"] = Query.clean(data.get("query", "")).text
        if not (data["query"] or data.get("tag") or data.get("author")):
            raise serializers.ValidationError(
                "Give words to search for, a tag or an author: a search needs one of them."
            )
        return data


class SavedSearchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Searches you follow: their new matches come in your digest. Saving the same
    search twice gives back the one saved."""

    serializer_class = SavedSearchSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            SavedSearch.objects.filter(user=self.request.user)
            .select_related("tag")
            .order_by("name", "id")
        )

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = saved_searches.save_search(
                self.request.user,
                query=data["query"],
                tag=data.get("tag"),
                author=data.get("author", ""),
                has_code=data.get("has_code", False),
                name=data.get("name"),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"name": exc.messages}) from None

    def perform_destroy(self, saved):
        saved_searches.delete_saved_search(self.request.user, saved.pk)


class FollowsSerializer(serializers.Serializer):
    tags = TagSerializer(many=True)
    authors = AuthorSerializer(many=True)


class FollowsView(generics.GenericAPIView):
    """The tags and authors you follow (follow more at /api/tags/…/follow/ and
    /api/authors/…/follow/; searches at /api/me/searches/)."""

    serializer_class = FollowsSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        preferences = preferences_of(request.user)
        tags = list(preferences.followed_tags.select_related("parent").order_by("name", "id"))
        authors = list(preferences.followed_authors.order_by("name", "id"))
        context = self.get_serializer_context()
        return Response(
            {
                "tags": TagSerializer(
                    tags, many=True, context=context | {"followed": {t.pk for t in tags}}
                ).data,
                "authors": AuthorSerializer(
                    authors, many=True, context=context | {"followed": {a.pk for a in authors}}
                ).data,
            }
        )
