from django.contrib import admin
from django.db import models

from papers.models import (
    Author,
    Authorship,
    ImportRun,
    ListItem,
    Paper,
    PaperTag,
    ReadingList,
    Tag,
    Vote,
)


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    raw_id_fields = ["author"]
    extra = 0


class PaperTagInline(admin.TabularInline):
    model = PaperTag
    autocomplete_fields = ["tag"]
    fields = ["tag", "source", "confidence", "reason"]
    extra = 0


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
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
    ]
    inlines = [AuthorshipInline, PaperTagInline]
    show_full_result_count = False
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "name_key"]
    search_fields = ["name", "name_key"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PaperTag)
class PaperTagAdmin(admin.ModelAdmin):
    list_display = ["paper", "tag", "source", "confidence", "created_at"]
    list_filter = ["source", "tag__kind"]
    list_select_related = ["paper", "tag"]
    search_fields = ["paper__title", "tag__name", "reason"]
    raw_id_fields = ["paper"]
    autocomplete_fields = ["tag"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
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
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False


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
