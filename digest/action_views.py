"""The pages behind a digest's signed links: one-click feedback and unsubscribe.

Mail scanners and link previewers open every link of a message, so a GET from a browser
that is not signed in as the link's reader changes nothing: it shows a page with one
button. Only the reader's own signed-in browser acts on a GET, since nothing else carries
their session cookie.
"""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.preferences import preferences_of, set_digest_settings
from digest.actions import SAVED_LIST_NAME, apply_action
from digest.links import BadLink, read_action, read_unsubscribe

_LINK_METHODS = ["GET", "HEAD", "POST"]


@never_cache
@require_http_methods(_LINK_METHODS)
def act(request, token):
    try:
        user, paper, action = read_action(token)
    except BadLink as problem:
        return _link_problem(request, problem)
    context = {"reader": user, "paper": paper, "action": action, "list_name": SAVED_LIST_NAME}
    own_click = request.method == "GET" and request.user.pk == user.pk
    if request.method != "POST" and not own_click:
        return render(request, "digest/action_confirm.html", context)
    context["reading_list"] = apply_action(user=user, paper=paper, action=action)
    return render(request, "digest/action_done.html", context)


# RFC 8058: mail providers POST "List-Unsubscribe=One-Click" here without cookies, so
# there is no CSRF token to check; the signed token is what authorises the change.
@csrf_exempt
@never_cache
@require_http_methods(_LINK_METHODS)
def unsubscribe(request, token):
    try:
        user = read_unsubscribe(token)
    except BadLink as problem:
        return _link_problem(request, problem)
    preferences = preferences_of(user)
    context = {
        "reader": user,
        "token": token,
        "subscribed": preferences.digest_frequency != preferences.Frequency.OFF,
        # A reader who subscribed with only an address cannot sign in to turn it back on.
        "resubscribe_url": reverse("preferences")
        if user.has_usable_password()
        else reverse("home"),
    }
    if request.method != "POST":
        return render(request, "digest/unsubscribe.html", context)
    if context["subscribed"]:
        set_digest_settings(preferences, digest_frequency=preferences.Frequency.OFF)
    return render(request, "digest/unsubscribed.html", context)


def _link_problem(request, problem: BadLink):
    return render(request, "digest/link_problem.html", {"problem": problem}, status=400)
