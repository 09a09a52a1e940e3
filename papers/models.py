import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Coalesce, Lower
from django.urls import reverse
from django.utils import timezone


def _utc_date(field):
    # A timestamp's UTC date: immutable, so PostgreSQL accepts it in a generated column.
    return Cast(models.Func(models.Value("UTC"), field, function="timezone"), models.DateField())


class PaperQuerySet(models.QuerySet):
    def recent(self):
        # Newest import first; within one import, the source's own order (ids ascend).
        return self.order_by("-first_seen_at", "id")

    def latest_listed(self):
        # Newest day first; within a day, the order the source listed the papers in.
        return self.order_by("-listed_on", "id")

    def listed_between(self, first, last):
        return self.filter(listed_on__gte=first, listed_on__lte=last)

    def trending(self):
        from papers.trending import trending_score

        return self.annotate(trending=trending_score()).order_by("-trending", "id")

    def search(self, query):
        """Papers matching a web-style query, with `rank` annotated (papers.search)."""
        from papers.search import matching

        return matching(self, query)

    def tagged(self, tag):
        return self.filter(
            id__in=PaperTag.objects.filter(tag=tag)
            .exclude(status=PaperTag.Status.REJECTED)
            .values("paper_id")
        )

    def by_author(self, author):
        return self.filter(id__in=Authorship.objects.filter(author=author).values("paper_id"))

    def with_code(self):
        return self.exclude(code_url="")

    def for_cards(self):
        """What a paper card shows, fetched in a fixed number of queries."""
        # The search vector is as long as the abstract and never shown: not fetched.
        return self.defer("search_vector", "fingerprints").prefetch_related(
            models.Prefetch(
                "paper_tags",
                queryset=PaperTag.objects.exclude(status=PaperTag.Status.REJECTED)
                .select_related("tag")
                .order_by("tag__kind", "tag__name"),
            )
        )


class Paper(models.Model):
    """One research paper, whichever sources it arrived from."""

    arxiv_id = models.CharField(
        "arXiv id",
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text="Bare identifier without version, e.g. 2401.12345 or hep-th/9901001.",
    )
    arxiv_version = models.PositiveSmallIntegerField(null=True, blank=True)
    doi = models.CharField("DOI", max_length=255, null=True, blank=True, unique=True)
    # Identity of papers with neither arXiv id nor DOI: normalised title + first author.
    title_key = models.CharField(max_length=300, db_index=True, editable=False)
    title = models.TextField()
    abstract = models.TextField(blank=True)
    # Author names in byline order, kept on the paper so that cards and search need no
    # join; the Author rows behind them serve author pages and follows.
    author_names = ArrayField(models.TextField(), default=list, blank=True)
    authors = models.ManyToManyField("Author", through="Authorship", related_name="papers")
    categories = ArrayField(
        models.CharField(max_length=32),
        default=list,
        blank=True,
        help_text="arXiv categories, primary first.",
    )
    comment = models.TextField(blank=True)
    journal_ref = models.TextField("journal reference", blank=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="First version's date.")
    updated_at = models.DateTimeField(null=True, blank=True, help_text="Latest version's date.")
    daily_date = models.DateField(
        null=True, blank=True, help_text="Day it was picked for the Hugging Face daily list."
    )
    first_seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The day a paper belongs to in the daily lists: the Hugging Face day when it was
    # picked there, else its arXiv (or other) publication date, else the day it arrived.
    # Publication before arrival, so that a snapshot of last year's papers lands on last
    # year's days instead of flooding today's list.
    listed_on = models.GeneratedField(
        expression=Coalesce("daily_date", _utc_date("published_at"), _utc_date("first_seen_at")),
        output_field=models.DateField(),
        db_persist=True,
    )
    abs_url = models.URLField("abstract page", max_length=500, blank=True)
    pdf_url = models.URLField("PDF", max_length=500, blank=True)
    code_url = models.URLField("code repository", max_length=500, blank=True)
    project_url = models.URLField("project page", max_length=500, blank=True)
    sources = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    vote_count = models.PositiveIntegerField(default=0)
    save_count = models.PositiveIntegerField(default=0)
    # Signals that come from one source each.
    hf_upvotes = models.PositiveIntegerField("Hugging Face upvotes", null=True, blank=True)
    github_stars = models.PositiveIntegerField(null=True, blank=True)
    keywords = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    # Fields a curator corrected in the admin: imports never overwrite them.
    curated_fields = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # What each source last said of the paper, hashed: a record that hashes the same
    # changes nothing, so re-imports skip it without loading the paper in full.
    fingerprints = models.JSONField(default=dict, blank=True, editable=False)
    # Filled by papers.search.index_papers() after each write, not at insert time:
    # computing it costs PostgreSQL ~4x the rest of a bulk import.
    search_vector = SearchVectorField(null=True, editable=False)
    # When papers.related last chose this paper's related papers; emptied, like the
    # search vector, whenever an import changes its text.
    related_at = models.DateTimeField(null=True, blank=True, editable=False)
    modified_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    # Search results carry their title and abstract with the matches marked
    # (papers.search.highlight); other lists leave these empty. Declared here because a
    # template looking up a missing attribute is several times slower than a present one.
    title_html = None
    snippet_html = None

    class Meta:
        indexes = [
            GinIndex(fields=["search_vector"], name="paper_search_gin"),
            models.Index(
                fields=["id"], condition=Q(search_vector__isnull=True), name="paper_unindexed_idx"
            ),
            GinIndex(fields=["categories"], name="paper_categories_gin"),
            models.Index(fields=["-daily_date"], name="paper_daily_idx"),
            models.Index(fields=["-published_at"], name="paper_published_idx"),
            models.Index(fields=["-listed_on", "id"], name="paper_listed_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="paper_title_not_empty"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("paper", args=[self.pk])

    @property
    def was_updated(self):
        return bool(self.arxiv_version and self.arxiv_version > 1)

    @property
    def arxiv_label(self):
        if not self.arxiv_id:
            return ""
        return f"{self.arxiv_id}v{self.arxiv_version}" if self.arxiv_version else self.arxiv_id


class RelatedPaper(models.Model):
    """One of a paper's most similar papers by content, computed in the background."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="related_links")
    related = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="Cosine similarity of the two papers' texts, 0 to 1.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paper", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "related"], name="relatedpaper_unique"),
        ]

    def __str__(self):
        return f"{self.paper_id} ~ {self.related_id} ({self.score:.2f})"


class TitleAlias(models.Model):
    """A title a curator corrected away: sources still sending it keep finding the paper."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="title_aliases")
    title_key = models.CharField(max_length=300, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "title_key"], name="titlealias_unique"),
        ]

    def __str__(self):
        return self.title_key


class PaperVersion(models.Model):
    """One arXiv version of a paper: recorded when seen, never overwritten."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    size = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    # The title and abstract this version had, kept when they differ from the previous one.
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paper", "number"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "number"], name="paperversion_unique"),
        ]

    def __str__(self):
        return f"{self.paper_id} v{self.number}"


class Author(models.Model):
    name = models.CharField(max_length=300)
    # Case-, accent- and punctuation-folded name: the same person across sources.
    name_key = models.CharField(max_length=300, unique=True)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("author", args=[self.pk])


class Authorship(models.Model):
    # No index of its own: the unique (paper, position) index serves lookups by paper.
    paper = models.ForeignKey(
        Paper, on_delete=models.CASCADE, related_name="authorships", db_index=False
    )
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="authorships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["paper", "position"], name="authorship_position_unique"
            ),
        ]

    def __str__(self):
        return f"{self.author} #{self.position + 1} on {self.paper_id}"


class Tag(models.Model):
    class Kind(models.TextChoices):
        TOPIC = "topic", "Topic"
        CATEGORY = "category", "arXiv category"
        KEYWORD = "keyword", "Keyword"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TOPIC)
    category = models.CharField(
        "arXiv category",
        max_length=32,
        null=True,
        blank=True,
        unique=True,
        help_text="For category tags: the arXiv code, e.g. cs.CL.",
    )
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tag", args=[self.slug])


class PaperTag(models.Model):
    """A tag on a paper, with where it came from and why."""

    class Source(models.TextChoices):
        IMPORT = "import", "Import"
        CATEGORY = "category", "arXiv category"
        RULE = "rule", "Rule"
        LEARNED = "learned", "Learned"
        CURATOR = "curator", "Curator"

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="paper_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="paper_tags")
    source = models.CharField(max_length=10, choices=Source.choices)
    confidence = models.FloatField(default=1.0)
    reason = models.TextField(blank=True)
    # A curator's verdict. Re-tagging leaves confirmed and rejected tags as they are, so
    # a rejected tag stays off its paper (it is kept, hidden, to remember the rejection).
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUGGESTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["paper", "tag"], name="papertag_unique"),
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1), name="papertag_confidence_0_1"
            ),
        ]

    def __str__(self):
        return f"{self.tag} on {self.paper_id}"


class TagRule(models.Model):
    """A rule that puts a tag on the papers it matches: data curators edit in the admin."""

    class Algorithm(models.TextChoices):
        NONE = "none", "None (never matches)"
        ANY = "any", "Any of the words"
        ALL = "all", "All of the words"
        PHRASE = "phrase", "Exact phrase"
        REGEX = "regex", "Regular expression"
        FUZZY = "fuzzy", "Fuzzy phrase"

    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="rules")
    algorithm = models.CharField(max_length=10, choices=Algorithm.choices, default=Algorithm.ANY)
    pattern = models.TextField(
        help_text='Words separated by spaces; "quoted words" count as one phrase.'
    )
    case_sensitive = models.BooleanField(default=False)
    match_title = models.BooleanField(default=True)
    match_abstract = models.BooleanField(default=True)
    match_authors = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tag__name", "pk"]

    def __str__(self):
        return f"{self.tag}: {self.get_algorithm_display().lower()} {self.pattern!r}"

    @property
    def fields(self) -> tuple[str, ...]:
        wanted = (
            ("title", self.match_title),
            ("abstract", self.match_abstract),
            ("authors", self.match_authors),
        )
        return tuple(name for name, on in wanted if on)


class TaggerModel(models.Model):
    """A trained learned tagger. The newest active one suggests tags."""

    version = models.CharField(max_length=64, help_text="Changes whenever the training data does.")
    trained_at = models.DateTimeField()
    papers = models.PositiveIntegerField(help_text="Papers it was trained on.")
    tags = models.JSONField(default=list, help_text="Slugs of the tags it suggests.")
    metrics = models.JSONField(default=dict, help_text="Held-out precision, recall and F1.")
    model = models.BinaryField(editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-trained_at"]
        get_latest_by = "trained_at"

    def __str__(self):
        return f"Learned tagger {self.version[:8]} ({self.trained_at:%Y-%m-%d %H:%M})"


class TaggingRun(models.Model):
    """A re-tagging of many papers in the background, after a rule or model changed."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    reason = models.CharField(max_length=200)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"Re-tagging #{self.pk}: {self.reason} ({self.status})"


class ImportRun(models.Model):
    """One import or fetch: what it read, what it changed, what it could not take."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted"

    MAX_ERRORS = 100

    source = models.CharField(max_length=40, help_text="Input format, e.g. hf-listing.")
    params = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    trigger = models.CharField(max_length=20, default="command")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        default=timezone.now, help_text="Last progress; a running import that stops beating died."
    )
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="The first 100 per-record errors."
    )
    message = models.TextField(blank=True, help_text="Why the run as a whole failed, if it did.")
    # An uploaded file waiting for the worker; emptied once the run has ended.
    upload = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.source} run #{self.pk} ({self.status})"

    def summary(self):
        return (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, failed {self.failed}"
        )


class HarvestState(models.Model):
    """Where a remote harvest stopped, so that the next run resumes there."""

    key = models.CharField(max_length=100, unique=True, help_text="e.g. arxiv-oai:cs")
    resumption_token = models.TextField(blank=True)
    token_started_on = models.DateField(
        null=True, blank=True, help_text="When the list the token walks through was asked for."
    )
    last_date = models.DateField(
        null=True, blank=True, help_text="Records up to this date have been harvested."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.key


class Vote(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "paper"], name="vote_once_per_paper"),
        ]

    def __str__(self):
        return f"{self.user} ▲ {self.paper_id}"


def _new_share_token():
    return secrets.token_urlsafe(24)


class ReadingList(models.Model):
    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        UNLISTED = "unlisted", "Unlisted (anyone with the link)"
        PUBLIC = "public", "Public"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_lists"
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    share_token = models.CharField(max_length=64, unique=True, default=_new_share_token)
    papers = models.ManyToManyField(Paper, through="ListItem", related_name="reading_lists")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.F("owner"), Lower("name"), name="readinglist_name_unique"
            ),
        ]

    def __str__(self):
        return self.name


class ListItem(models.Model):
    class Status(models.TextChoices):
        TO_READ = "to_read", "To read"
        READING = "reading", "Reading"
        READ = "read", "Read"

    reading_list = models.ForeignKey(ReadingList, on_delete=models.CASCADE, related_name="items")
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="list_items")
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TO_READ)
    position = models.PositiveIntegerField(default=0)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["reading_list", "paper"], name="listitem_once_per_list"
            ),
        ]

    def __str__(self):
        return f"{self.paper_id} in {self.reading_list_id}"
