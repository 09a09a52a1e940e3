"""What the one-click links of a digest do: 👍, 👎 and "save to my reading list"."""

from digest.feedback import set_feedback
from papers import lists
from papers.models import ReadingList

SAVED_LIST_NAME = "Saved from digests"


def apply_action(*, user, paper, action: str) -> ReadingList | None:
    """Record the reader's 👍 ("more") or 👎 ("less"), or save the paper ("save").

    Saving returns the list the paper is in, whether or not it was there already:
    doing it twice (a double click, a second device) changes nothing the second time.
    """
    if action == "more":
        set_feedback(user, paper, 1)
    elif action == "less":
        set_feedback(user, paper, -1)
    elif action == "save":
        reading_list = saved_list_of(user)
        lists.add_paper(reading_list, paper)
        return reading_list
    else:
        raise ValueError(f"unknown digest action {action!r}")
    return None


def saved_list_of(user) -> ReadingList:
    """The reader's list for papers saved from digests, made the first time it is needed."""
    found = lists.owned_by(user).filter(name__iexact=SAVED_LIST_NAME).first()
    if found is not None:
        return found
    try:
        return lists.create_list(owner=user, name=SAVED_LIST_NAME)
    except lists.ListError:
        # Two clicks at once both found no list; the other one has just made it.
        return lists.owned_by(user).get(name__iexact=SAVED_LIST_NAME)
