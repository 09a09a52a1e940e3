"""A reader's own pages under /me/: preferences, follows, data export, deletion."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import data, saved_searches, tokens
from accounts.follows import preferences_of
from accounts.forms import ApiTokenForm, DeleteAccountForm, PreferencesForm, SavedSearchForm
from accounts.models import ApiToken, SavedSearch
from accounts.preferences import digest_settings, set_digest_settings
from digest.feedback import clear_feedback, feedback_of
from papers.models import Paper
from papers.views import go_back, reader_required


@login_required
def preferences(request):
    prefs = preferences_of(request.user)
    form = PreferencesForm(request.POST or None, initial=digest_settings(prefs))
    if request.method == "POST" and form.is_valid():
        set_digest_settings(prefs, **form.cleaned_data)
        messages.success(request, "Your digest settings are saved.")
        return redirect("preferences")
    searches = SavedSearch.objects.filter(user=request.user).select_related("tag")
    context = {
        "tab": "preferences",
        "form": form,
        "preferences": prefs,
        "tags": prefs.followed_tags.order_by("name"),
        "authors": prefs.followed_authors.order_by("name"),
        "searches": [(search, saved_searches.search_url(search)) for search in searches],
        # Only what the list shows: a paper's search vector is as long as its abstract.
        "signals": feedback_of(request.user).only(
            "value", "created_at", "paper_id", "paper__id", "paper__title"
        ),
        "tokens": ApiToken.objects.filter(user=request.user),
        "token_form": ApiTokenForm(prefix="token"),
    }
    return render(request, "accounts/preferences.html", context)


@require_POST
@login_required
@never_cache
def create_api_token(request):
    """Make a token and show it on a page of its own: the only time it is ever shown."""
    form = ApiTokenForm(request.POST, prefix="token")
    if not form.is_valid():
        messages.error(request, "Give the token a name (up to 100 characters).")
        return redirect("preferences")
    try:
        token, secret = tokens.create_token(request.user, name=form.cleaned_data["name"])
    except tokens.TooManyTokens as exc:
        messages.error(request, str(exc))
        return redirect("preferences")
    return render(request, "accounts/token_created.html", {"token": token, "secret": secret})


@require_POST
@login_required
def revoke_api_token(request, pk):
    try:
        token = tokens.revoke_token(request.user, pk)
    except ApiToken.DoesNotExist:
        raise Http404("No such token.") from None
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("preferences")


@require_POST
@reader_required
def reset_signals(request, paper_id=None):
    """Forget one 👍/👎 (a paper's), or all of the reader's."""
    if paper_id is None:
        count = clear_feedback(request.user)
        messages.success(request, f"All your signals are reset ({count}).")
    else:
        paper = get_object_or_404(Paper.objects.only("id", "title"), pk=paper_id)
        clear_feedback(request.user, paper)
        messages.success(request, f"Your signal on “{paper.title}” is reset.")
    return redirect("preferences")


@login_required
@never_cache
def export_data(request):
    response = JsonResponse(
        data.export_account(request.user), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    filename = f"paperfeed-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def delete_account(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data.delete_account(request.user)
        logout(request)
        messages.success(request, "Your account and everything in it have been deleted.")
        return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})


@require_POST
@reader_required
def follow_search(request):
    form = SavedSearchForm(request.POST)
    saved, error = None, None
    if form.is_valid():
        try:
            saved = saved_searches.save_search(request.user, **form.search())
        except ValidationError as exc:
            error = exc.messages[0]
    else:
        error = next(iter(form.errors.values()))[0]
    if request.htmx:
        fields = _search_fields(saved) if saved else request.POST
        return _search_button(request, saved, fields, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You follow the search “{saved.name}”.")
    return go_back(request, "preferences")


@require_POST
@reader_required
def unfollow_search(request, pk):
    saved = saved_searches.delete_saved_search(request.user, pk)
    if request.htmx:
        return _search_button(request, None, _search_fields(saved))
    messages.success(request, f"You no longer follow the search “{saved.name}”.")
    return go_back(request, "preferences")


def _search_button(request, saved, fields, *, error=None):
    context = {
        "saved_search": saved,
        "search": fields,
        "error": error,
        "next": request.POST.get("next", ""),
    }
    return render(request, "accounts/_search_follow.html", context)


def _search_fields(saved: SavedSearch) -> dict:
    """A saved search as the form fields that would follow it again."""
    return {
        "q": saved.query,
        "tag": saved.tag.slug if saved.tag_id else "",
        "author": saved.author,
        "code": "on" if saved.has_code else "",
        "name": saved.name,
    }
