"""Searches a reader follows: saving one from the search page, and letting it go."""

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse

from accounts.models import SavedSearch

NAME_LENGTH = SavedSearch._meta.get_field("name").max_length


def save_search(
    user, *, query: str, tag=None, author: str = "", has_code: bool = False, name=None
) -> SavedSearch:
    """Follow a search. Following the same search twice returns the one already saved,
    so a double click or a retried request is harmless.

    Raises ValidationError when the name (the query text unless given; names are
    compared without case) is already taken by another of the reader's searches.
    """
    query, author = " ".join(query.split()), " ".join(author.split())
    same = find_saved_search(user, query=query, tag=tag, author=author, has_code=has_code)
    if same is not None:
        return same
    name = " ".join((name or "").split()) or default_name(query=query, tag=tag, author=author)
    try:
        # The savepoint keeps a duplicate from breaking a surrounding transaction.
        with transaction.atomic():
            return SavedSearch.objects.create(
                user=user,
                name=name[:NAME_LENGTH],
                query=query,
                tag=tag,
                author=author,
                has_code=has_code,
            )
    except IntegrityError:
        # The only unique constraint is (user, lower(name)); checking first instead
        # would still need this for two requests racing each other.
        raise ValidationError(
            f"You already follow a search named “{name}”. Give this one another name.",
            code="duplicate_name",
        ) from None


def find_saved_search(
    user, *, query: str, tag=None, author: str = "", has_code: bool = False
) -> SavedSearch | None:
    """The reader's saved search with exactly these criteria, if they follow it."""
    if not user.is_authenticated:
        return None
    return SavedSearch.objects.filter(
        user=user,
        query=" ".join(query.split()),
        tag=tag,
        author=" ".join(author.split()),
        has_code=has_code,
    ).first()


def delete_saved_search(user, pk) -> SavedSearch:
    """Stop following one of the reader's searches; another reader's is a 404.

    Returns the deleted search (without its id) so the page can offer to follow it again.
    """
    saved = get_object_or_404(SavedSearch, user=user, pk=pk)
    saved.delete()
    return saved


def default_name(*, query: str, tag=None, author: str = "") -> str:
    """The query text; a search by filters alone is named after them."""
    if query:
        return query
    parts = [f"tag {tag.name}"] if tag is not None else []
    if author:
        parts.append(f"by {author}")
    return " · ".join(parts)


def search_url(saved: SavedSearch) -> str:
    """The search page showing this search's results."""
    return f"{reverse('search')}?{urlencode(saved.search_params())}"
