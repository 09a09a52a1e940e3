"""What a reader follows: tags and authors (saved searches come with reader accounts)."""

from accounts.preferences import preferences_of


def set_following(user, thing, on: bool) -> None:
    """Follow or stop following a Tag or an Author."""
    followed = _followed(preferences_of(user), thing)
    (followed.add if on else followed.remove)(thing)


def is_following(user, thing) -> bool:
    if not user.is_authenticated:
        return False
    # Tag.followers and Author.followers are the Preferences that follow them.
    return thing.followers.filter(user=user).exists()


def _followed(preferences, thing):
    from papers.models import Author, Tag

    if isinstance(thing, Tag):
        return preferences.followed_tags
    if isinstance(thing, Author):
        return preferences.followed_authors
    raise TypeError(f"cannot follow a {type(thing).__name__}")
