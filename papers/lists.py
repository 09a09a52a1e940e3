"""Reading lists: what a reader keeps, in which order, with which notes, and who sees it.

Who may see a list:
- private (the default): its owner only; anyone else gets a 404, as if it did not exist;
- unlisted: its owner, and anyone holding its secret link (`shared/<share_token>/`);
- public: everyone, by its plain address, with a feed.
Only the owner changes a list; views find lists to change through `owned_by(user)`, so
another reader's list id is "not found" rather than "forbidden", which would confirm that
it exists.

`Paper.save_count` counts the list items holding each paper (trending reads it). Every
function that adds or removes items moves it with an F() update in the same transaction,
after locking the list row, so that concurrent changes to one list cannot miscount.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from papers import identity
from papers.importing import IdentityIndex
from papers.models import ListItem, Paper, ReadingList, TitleAlias
from papers.sources import PaperRecord, RecordError
from papers.sources.text import squash

Visibility = ReadingList.Visibility
Status = ListItem.Status

NAME_MAX = ReadingList._meta.get_field("name").max_length
# A list import runs inside the request; past this many entries it is a library, which a
# curator imports into the corpus in the background instead.
IMPORT_MAX_ENTRIES = 2000


class ListError(ValueError):
    """A change a reader asked for that cannot be made; the message says what to do."""


# Reads


def owned_by(user) -> QuerySet[ReadingList]:
    """The lists a user may change: their own."""
    if not user.is_authenticated:
        return ReadingList.objects.none()
    return ReadingList.objects.filter(owner=user)


def visible_to(user) -> QuerySet[ReadingList]:
    """The lists a user may open by id: their own and public ones.

    Staff are readers here like anyone else: a private list is its owner's business.
    Unlisted lists are not among them: they open only by their secret link.
    """
    public = Q(visibility=Visibility.PUBLIC)
    if not user.is_authenticated:
        return ReadingList.objects.filter(public)
    return ReadingList.objects.filter(public | Q(owner=user))


def shared_with(user) -> QuerySet[ReadingList]:
    """The lists a user may open by secret link: every list but others' private ones.

    A list made private again stops opening by its old link at once.
    """
    shared = ~Q(visibility=Visibility.PRIVATE)
    if not user.is_authenticated:
        return ReadingList.objects.filter(shared)
    return ReadingList.objects.filter(shared | Q(owner=user))


def with_counts(lists: QuerySet[ReadingList]) -> QuerySet[ReadingList]:
    return lists.annotate(item_count=Count("items"))


def items_of(reading_list: ReadingList) -> QuerySet[ListItem]:
    """The list's items in the owner's order, each with its paper."""
    return reading_list.items.select_related("paper").order_by("position", "added_at", "pk")


def papers_of(reading_list: ReadingList) -> QuerySet[Paper]:
    """The list's papers, newest addition first, with `added_at` and `list_note`.

    For feeds: a subscriber is told about a paper when it joins the list, whatever its age.
    """
    # One join: the annotations read the very item row the filter found.
    return (
        Paper.objects.filter(list_items__reading_list=reading_list)
        .annotate(added_at=F("list_items__added_at"), list_note=F("list_items__note"))
        .order_by("-added_at", "-pk")
    )


@dataclass
class SavedLists:
    """A reader's lists, each with `.held`: which of a page's papers it holds."""

    lists: list[ReadingList] = field(default_factory=list)
    papers: set[int] = field(default_factory=set)  # held by at least one list

    def __iter__(self) -> Iterator[ReadingList]:
        return iter(self.lists)


def saved_lists(user, papers: Iterable[Paper]) -> SavedLists:
    """The reader's lists and which of these papers each holds: one query, or none."""
    if not user.is_authenticated:
        return SavedLists()
    ids = [paper.pk for paper in papers]
    held = ListItem.objects.filter(reading_list=OuterRef("pk"), paper_id__in=ids)
    found = list(
        ReadingList.objects.filter(owner=user).annotate(
            held_ids=ArraySubquery(held.values("paper_id"))
        )
    )
    for reading_list in found:
        reading_list.held = set(reading_list.held_ids)
    return SavedLists(found, set().union(*(reading_list.held for reading_list in found)))


# Lists


def create_list(
    *,
    owner,
    name: str,
    description: str = "",
    visibility: str = Visibility.PRIVATE,
    papers: Iterable[Paper] = (),
) -> ReadingList:
    """A new list of the owner's, holding `papers` if given (all of it or nothing)."""
    papers = list(papers)
    with transaction.atomic():
        reading_list = ReadingList(
            owner=owner, name=_clean_name(name), description=description, visibility=visibility
        )
        _save_named(reading_list)
        if papers:
            add_papers(reading_list, papers)
    return reading_list


def update_list(reading_list: ReadingList, *, name: str, description: str, visibility: str) -> None:
    """Rename the list, or change its description or who may see it."""
    reading_list.name = _clean_name(name)
    reading_list.description = description
    reading_list.visibility = visibility
    _save_named(reading_list, update_fields=["name", "description", "visibility", "updated_at"])


def new_share_link(reading_list: ReadingList) -> None:
    """A new secret link; the old one stops working (e.g. after it went too far)."""
    reading_list.share_token = ReadingList._meta.get_field("share_token").get_default()
    reading_list.save(update_fields=["share_token", "updated_at"])


def delete_list(reading_list: ReadingList) -> None:
    """Delete the list and its items; its papers count one save fewer each."""
    with transaction.atomic():
        _lock(reading_list)
        Paper.objects.filter(list_items__reading_list=reading_list).update(
            save_count=F("save_count") - 1
        )
        reading_list.delete()


def _clean_name(name: str) -> str:
    name = squash(name)
    if not name:
        raise ListError("Give the list a name.")
    if len(name) > NAME_MAX:
        raise ListError(f"A list name can be at most {NAME_MAX} characters long.")
    return name


def _save_named(reading_list: ReadingList, **kwargs) -> None:
    # The unique constraint decides (case-insensitively, and safely under concurrency);
    # asking first would still leave the race.
    try:
        with transaction.atomic():
            reading_list.save(**kwargs)
    except IntegrityError as exc:
        if "readinglist_name_unique" not in str(exc):
            raise
        raise ListError(
            f"You already have a list named “{reading_list.name}”; choose another name."
        ) from None


def _lock(reading_list: ReadingList) -> None:
    """Serialise changes to one list's items until the transaction ends.

    An UPDATE takes the row lock and marks the list as changed in one statement.
    """
    if not ReadingList.objects.filter(pk=reading_list.pk).update(updated_at=timezone.now()):
        raise ListError("This list has just been deleted.")


# Items


def add_paper(reading_list: ReadingList, paper: Paper) -> bool:
    """Put the paper at the end of the list; False if it was there already."""
    return bool(add_papers(reading_list, [paper]))


def add_papers(reading_list: ReadingList, papers: Iterable[Paper]) -> list[Paper]:
    """Put the papers at the end of the list, in order; returns those that were not in it."""
    wanted = list({paper.pk: paper for paper in papers}.values())
    with transaction.atomic():
        _lock(reading_list)
        present = set(
            reading_list.items.filter(paper__in=wanted).values_list("paper_id", flat=True)
        )
        new = [paper for paper in wanted if paper.pk not in present]
        if not new:
            return []
        last = reading_list.items.aggregate(last=Max("position"))["last"]
        start = 0 if last is None else last + 1
        ListItem.objects.bulk_create(
            ListItem(reading_list=reading_list, paper=paper, position=start + offset)
            for offset, paper in enumerate(new)
        )
        Paper.objects.filter(pk__in=[paper.pk for paper in new]).update(
            save_count=F("save_count") + 1
        )
    return new


def remove_paper(reading_list: ReadingList, paper: Paper) -> bool:
    """Take the paper off the list; False if it was not on it."""
    with transaction.atomic():
        _lock(reading_list)
        removed, _ = reading_list.items.filter(paper=paper).delete()
        if removed:
            Paper.objects.filter(pk=paper.pk).update(save_count=F("save_count") - 1)
    return bool(removed)


def update_item(item: ListItem, *, note: str, status: str) -> None:
    item.note = note
    item.status = status
    with transaction.atomic():
        _lock(item.reading_list)
        item.save(update_fields=["note", "status"])


def move_item(item: ListItem, *, to: int) -> int:
    """Move the item to place `to` (1 is the top), clamped to the list; returns the place.

    Places are renumbered 0, 1, 2… as they are now, so that gaps left by removals and
    items added at the same moment cannot make a move land off by one.
    """
    with transaction.atomic():
        _lock(item.reading_list)
        order = list(items_of(item.reading_list).values_list("pk", "position"))
        ids = [pk for pk, _ in order if pk != item.pk]
        place = min(max(to, 1), len(ids) + 1)
        ids.insert(place - 1, item.pk)
        before = dict(order)
        moved = [
            ListItem(pk=pk, position=position)
            for position, pk in enumerate(ids)
            if before.get(pk) != position
        ]
        ListItem.objects.bulk_update(moved, ["position"])
    return place


def reorder_items(reading_list: ReadingList, paper_ids: list[int]) -> None:
    """Put the list's items in this order of their papers: every paper once, no other."""
    with transaction.atomic():
        _lock(reading_list)
        items = dict(reading_list.items.values_list("paper_id", "pk"))
        if len(paper_ids) != len(set(paper_ids)) or set(paper_ids) != items.keys():
            raise ListError(
                f"Give each of the list's {len(items)} papers exactly once, in the new order."
            )
        ListItem.objects.bulk_update(
            [ListItem(pk=items[paper], position=place) for place, paper in enumerate(paper_ids)],
            ["position"],
        )


# Import


@dataclass
class ListImport:
    """What a list import did with each entry of the file."""

    added: list[Paper] = field(default_factory=list)
    already: list[Paper] = field(default_factory=list)
    # In the file, but not (yet) in paperfeed's corpus.
    unmatched: list[PaperRecord] = field(default_factory=list)
    unreadable: list[RecordError] = field(default_factory=list)
    # Entries past IMPORT_MAX_ENTRIES, not looked at.
    skipped: int = 0


def import_into_list(
    reading_list: ReadingList, items: Iterable[PaperRecord | RecordError]
) -> ListImport:
    """Add the papers a parsed file names to the list, reporting the entries it could not.

    Entries are matched to papers already in paperfeed, never imported: the corpus is
    curated, and a reader's file should not put papers on everyone's front page. An entry
    not found is reported, so the reader can ask a curator to import it.
    """
    report = ListImport()
    records = []
    for item in items:
        if len(records) + len(report.unreadable) >= IMPORT_MAX_ENTRIES:
            report.skipped += 1
        elif isinstance(item, RecordError):
            report.unreadable.append(item)
        else:
            records.append(item)
    found = find_papers(records)
    matched = []
    for record, paper in zip(records, found, strict=True):
        if paper is None:
            report.unmatched.append(record)
        else:
            matched.append(paper)
    added = {paper.pk for paper in add_papers(reading_list, matched)}
    seen = set()
    for paper in matched:
        if paper.pk in seen:
            continue
        seen.add(paper.pk)
        (report.added if paper.pk in added else report.already).append(paper)
    return report


def find_papers(records: list[PaperRecord]) -> list[Paper | None]:
    """The paper each record names, or None, by the importer's own identity rules.

    The same rules as `papers.importing` (bare arXiv id, else DOI, else title and first
    author, including titles a curator corrected away), so that a list import finds the
    very paper that importing the file would have merged the entry into.
    """
    if not records:
        return []
    keys = [identity.title_key(record.title) for record in records]
    aliases: dict[int, list[str]] = {}
    for paper_id, alias in TitleAlias.objects.filter(title_key__in=set(keys)).values_list(
        "paper_id", "title_key"
    ):
        aliases.setdefault(paper_id, []).append(alias)
    candidates = Paper.objects.filter(
        Q(title_key__in=set(keys))
        | Q(arxiv_id__in={record.arxiv_id for record in records if record.arxiv_id})
        | Q(doi__in={record.doi for record in records if record.doi})
        | Q(pk__in=list(aliases))
    ).only("pk", "arxiv_id", "doi", "title_key", "title", "author_names")
    index = IdentityIndex(candidates, aliases)
    return [index.find(record, key) for record, key in zip(records, keys, strict=True)]
