"""The REST API's digests and feedback: what a reader was sent and why, and their
👍 / 👎 that steer the next digest (👎 is "not interested": that paper never comes)."""

from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from config.api.fields import ModelSerializer
from digest.feedback import clear_feedback, set_feedback
from digest.models import Digest, DigestItem, Feedback
from digest.views import PAST
from papers import votes
from papers.api import PaperSerializer, paper_cards
from papers.models import Paper

VALUES = {"more": Feedback.Value.MORE, "less": Feedback.Value.LESS}


class DigestItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    section = serializers.CharField(help_text="The topic it was listed under.")
    reason = serializers.CharField(help_text="Why it was picked for you.")
    score = serializers.FloatField()
    paper = PaperSerializer()

    def to_representation(self, item):
        return {
            "position": item.position,
            "section": item.section,
            "reason": item.reason,
            "score": item.score,
            "paper": PaperSerializer(item.paper, context=self.context).data,
        }


class DigestSerializer(ModelSerializer):
    item_count = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Digest
        fields = ["id", "url", "period", "scheduled_for", "since", "status", "sent_at"]
        fields += ["item_count"]

    def get_url(self, digest) -> str:
        return self.context["request"].build_absolute_uri(f"/api/me/digests/{digest.pk}/")


class DigestDetailSerializer(DigestSerializer):
    items = DigestItemSerializer(many=True, read_only=True)

    class Meta(DigestSerializer.Meta):
        fields = [*DigestSerializer.Meta.fields, "items"]


class DigestViewSet(viewsets.ReadOnlyModelViewSet):
    """Your past digests, newest first, each with its papers and the reason for each."""

    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        digests = Digest.objects.filter(user=self.request.user, status__in=PAST)
        if self.action == "retrieve":
            items = DigestItem.objects.order_by("position").prefetch_related(
                Prefetch("paper", paper_cards())
            )
            return digests.prefetch_related(Prefetch("items", items)).annotate(
                item_count=Count("items")
            )
        return digests.annotate(item_count=Count("items")).order_by("-scheduled_for", "-id")

    def get_serializer_class(self):
        return DigestDetailSerializer if self.action == "retrieve" else DigestSerializer

    def retrieve(self, request, *args, **kwargs):
        digest = self.get_object()
        papers = [item.paper for item in digest.items.all()]
        context = self.get_serializer_context() | {"voted": votes.voted_ids(request.user, papers)}
        return Response(DigestDetailSerializer(digest, context=context).data)


class FeedbackSerializer(serializers.Serializer):
    paper = serializers.IntegerField(help_text="A paper's id.")
    value = serializers.ChoiceField(
        choices=list(VALUES), help_text="`more` (👍 more like this) or `less` (👎 not interested)."
    )
    created_at = serializers.DateTimeField(read_only=True)

    def validate_paper(self, pk):
        paper = Paper.objects.only("id").filter(pk=pk).first()
        if paper is None:
            raise serializers.ValidationError(f"There is no paper with the id {pk}.")
        return paper

    def to_representation(self, signal):
        return {
            "paper": signal.paper_id,
            "value": "more" if signal.value == Feedback.Value.MORE else "less",
            "created_at": serializers.DateTimeField().to_representation(signal.created_at),
        }


class FeedbackViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Your 👍 and 👎. POST one (a later one on the same paper replaces it); DELETE
    /api/me/feedback/<paper id>/ takes it back."""

    serializer_class = FeedbackSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = []
    lookup_field = "paper_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return Feedback.objects.filter(user=self.request.user).order_by("-created_at", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        paper, value = serializer.validated_data["paper"], serializer.validated_data["value"]
        set_feedback(request.user, paper, VALUES[value])
        signal = Feedback.objects.get(user=request.user, paper=paper)
        return Response(self.get_serializer(signal).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, paper_id=None):
        if not clear_feedback(request.user, Paper(pk=int(paper_id))):
            raise exceptions.NotFound("You have no 👍 or 👎 on that paper.")
        return Response(status=status.HTTP_204_NO_CONTENT)
