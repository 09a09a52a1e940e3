from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from papers import importing, remote, tasks
from papers.forms import ImportForm
from papers.models import (
    Author,
    HarvestState,
    ImportRun,
    ListItem,
    Paper,
    PaperTag,
    PaperVersion,
    ReadingList,
    Tag,
    TaggerModel,
    TaggingRun,
    TagRule,
    TitleAlias,
    Vote,
)
from papers.sources.identifiers import normalize_doi, parse_arxiv_id
from papers.tagging import applying, training
from papers.tagging.review import review_tags
from papers.tagging.rules import Rule, RuleError, compile_rule


class PaperTagInline(admin.TabularInline):
    model = PaperTag
    autocomplete_fields = ["tag"]
    fields = ["tag", "source", "status", "confidence", "reason"]
    readonly_fields = ["reason"]
    extra = 0


class TitleAliasInline(admin.TabularInline):
    model = TitleAlias
    extra = 0
    verbose_name_plural = "former titles (sources sending them still find this paper)"


class PaperVersionInline(admin.TabularInline):
    model = PaperVersion
    fields = ["number", "submitted_at", "size", "comment", "title"]
    readonly_fields = fields
    extra = 0
    can_delete = False


def _https_urls(field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class PaperForm(forms.ModelForm):
    """Identifiers are normalised as imports normalise them, so identity keeps working."""

    class Meta:
        model = Paper
        formfield_callback = _https_urls
        fields = [
            "title",
            "abstract",
            "author_names",
            "arxiv_id",
            "arxiv_version",
            "doi",
            "categories",
            "comment",
            "journal_ref",
            "published_at",
            "updated_at",
            "daily_date",
            "abs_url",
            "pdf_url",
            "code_url",
            "project_url",
            "hf_upvotes",
            "github_stars",
            "keywords",
        ]

    def clean_arxiv_id(self):
        value = self.cleaned_data["arxiv_id"]
        if not value:
            return None
        parsed = parse_arxiv_id(value)
        if parsed is None:
            raise forms.ValidationError("Not an arXiv identifier such as 2401.12345.")
        return parsed[0]

    def clean_doi(self):
        value = self.cleaned_data["doi"]
        if not value:
            return None
        doi = normalize_doi(value)
        if doi is None:
            raise forms.ValidationError("Not a DOI such as 10.1000/xyz123.")
        return doi


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    form = PaperForm
    list_display = [
        "title",
        "arxiv_id",
        "first_seen_at",
        "published_at",
        "vote_count",
        "save_count",
    ]
    list_filter = ["first_seen_at", "daily_date"]
    search_fields = ["title", "arxiv_id", "doi"]
    date_hierarchy = "first_seen_at"
    readonly_fields = [
        "title_key",
        "first_seen_at",
        "modified_at",
        "vote_count",
        "save_count",
        "sources",
        "curated_fields",
    ]
    inlines = [PaperTagInline, PaperVersionInline, TitleAliasInline]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        # The same path as imports: identity, bylines and search stay consistent, and the
        # corrected fields are protected from the next import.
        importing.save_curated(obj, changed=form.changed_data)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "name_key"]
    search_fields = ["name", "name_key"]


class TagRuleForm(forms.ModelForm):
    class Meta:
        model = TagRule
        fields = [
            "tag",
            "algorithm",
            "pattern",
            "case_sensitive",
            "match_title",
            "match_abstract",
            "match_authors",
            "enabled",
        ]

    def clean(self):
        data = super().clean()
        if data.get("DELETE") or self.errors:
            return data
        fields = tuple(
            name for name in ("title", "abstract", "authors") if data.get(f"match_{name}")
        )
        rule = Rule(
            tag="",
            algorithm=data.get("algorithm", ""),
            pattern=data.get("pattern") or "",
            fields=fields,
            case_sensitive=bool(data.get("case_sensitive")),
        )
        try:
            compile_rule(rule)
        except RuleError as exc:
            raise forms.ValidationError(f"This rule cannot be used: {exc}.") from None
        return data


class TagRuleInline(admin.TabularInline):
    model = TagRule
    form = TagRuleForm
    extra = 0


def _retag_everything(request, reason: str) -> None:
    run = applying.start_retag(reason=reason, started_by=request.user)
    transaction.on_commit(lambda: tasks.retag_papers.delay(run.pk))
    messages.info(request, f"Re-tagging every paper in the background (run #{run.pk}).")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "category", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "category", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TagRuleInline]
    actions = ["retag_all"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if any(formset.has_changed() for formset in formsets):
            _retag_everything(request, f"rules of “{form.instance}” changed")

    @admin.action(description="Re-tag every paper with the current rules and model")
    def retag_all(self, request, queryset):
        _retag_everything(request, "asked for in the admin")


@admin.register(TagRule)
class TagRuleAdmin(admin.ModelAdmin):
    form = TagRuleForm
    list_display = ["tag", "algorithm", "pattern", "case_sensitive", "enabled", "updated_at"]
    list_filter = ["algorithm", "enabled"]
    list_select_related = ["tag"]
    search_fields = ["pattern", "tag__name"]
    autocomplete_fields = ["tag"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _retag_everything(request, f"rule {obj.pk} saved")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _retag_everything(request, "a rule was deleted")


@admin.register(PaperTag)
class PaperTagAdmin(admin.ModelAdmin):
    list_display = ["paper", "tag", "source", "status", "confidence", "reason", "created_at"]
    list_filter = ["status", "source", "tag__kind", "tag"]
    list_select_related = ["paper", "tag"]
    search_fields = ["paper__title", "tag__name", "reason"]
    raw_id_fields = ["paper"]
    autocomplete_fields = ["tag"]
    readonly_fields = ["reviewed_by", "reviewed_at"]
    actions = ["confirm", "reject"]

    @admin.action(description="Confirm the selected tags")
    def confirm(self, request, queryset):
        self._review(request, queryset, PaperTag.Status.CONFIRMED)

    @admin.action(description="Reject the selected tags (they will not come back)")
    def reject(self, request, queryset):
        self._review(request, queryset, PaperTag.Status.REJECTED)

    def _review(self, request, queryset, status):
        count = review_tags(queryset, status=status, by=request.user)
        messages.success(request, f"{count} tag(s) {status}.")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.source = PaperTag.Source.CURATOR
            obj.status = PaperTag.Status.CONFIRMED
        if "status" in form.changed_data:
            obj.reviewed_by, obj.reviewed_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(TaggerModel)
class TaggerModelAdmin(admin.ModelAdmin):
    list_display = ["__str__", "papers", "active", "micro_f1", "macro_f1"]
    readonly_fields = ["version", "trained_at", "papers", "tags", "metrics"]
    fields = [*readonly_fields, "active"]
    actions = ["retrain"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="micro-F1")
    def micro_f1(self, obj):
        return obj.metrics.get("micro_f1")

    @admin.display(description="macro-F1")
    def macro_f1(self, obj):
        return obj.metrics.get("macro_f1")

    @admin.action(description="Retrain now (then re-tag every paper)")
    def retrain(self, request, queryset):
        model = training.train(force=True)
        if model is None:
            messages.warning(request, "Nothing to learn from yet: no settled topic tags.")
            return
        messages.success(request, f"Trained {model}.")
        _retag_everything(request, f"{model} trained")


@admin.register(TaggingRun)
class TaggingRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "started_at", "finished_at", "done", "total", "added", "removed"]
    list_filter = ["status"]
    list_select_related = ["started_by"]
    readonly_fields = [f.name for f in TaggingRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "trigger",
        "started_at",
        "finished_at",
        "seen",
        "created",
        "updated",
        "unchanged",
        "failed",
        "started_by",
    ]
    list_filter = ["status", "source", "trigger"]
    list_select_related = ["started_by"]
    search_fields = ["source", "message"]
    readonly_fields = [f.name for f in ImportRun._meta.fields if f.name != "upload"]

    def get_queryset(self, request):
        # An upload waiting for its worker may be 50 MB; no page shows it.
        return super().get_queryset(request).defer("upload")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="papers_import"),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Start an import from an uploaded file or a web address; a worker carries it out."""
        if not request.user.has_perm("papers.add_paper"):
            return redirect("admin:index")
        form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
        if request.method == "POST" and form.is_valid():
            run = remote.start_requested(
                form.cleaned_data, trigger="admin", started_by=request.user
            )
            tasks.perform_import.delay_on_commit(run.pk)
            messages.success(request, f"Import run #{run.pk} queued; this page follows it.")
            return redirect("admin:papers_importrun_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "opts": self.model._meta,
            "title": "Import papers",
        }
        return TemplateResponse(request, "admin/papers/importrun/import.html", context)


@admin.register(HarvestState)
class HarvestStateAdmin(admin.ModelAdmin):
    list_display = ["key", "last_date", "resumption_token", "updated_at"]
    search_fields = ["key"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "created_at"]
    list_select_related = ["user", "paper"]
    search_fields = ["user__email", "paper__title"]
    raw_id_fields = ["user", "paper"]


class ListItemInline(admin.TabularInline):
    model = ListItem
    raw_id_fields = ["paper"]
    extra = 0


@admin.register(ReadingList)
class ReadingListAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "visibility", "updated_at"]
    list_filter = ["visibility"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__email"]
    raw_id_fields = ["owner"]
    readonly_fields = ["share_token"]
    inlines = [ListItemInline]


@admin.register(ListItem)
class ListItemAdmin(admin.ModelAdmin):
    list_display = ["paper", "reading_list", "status", "position", "added_at"]
    list_filter = ["status"]
    list_select_related = ["paper", "reading_list"]
    search_fields = ["paper__title", "reading_list__name", "note"]
    raw_id_fields = ["paper", "reading_list"]
