"""Subscribing by address alone: ask, then confirm from the mail (digest/subscribe.py)."""

import logging
import smtplib

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from digest import subscribe as subscriptions
from digest.forms import SubscribeForm

log = logging.getLogger(__name__)


# The box is on the home page, which visitors get from a shared cache and so without a
# CSRF token of their own. Posting it only mails a confirmation link (rate-limited), so a
# forged post achieves nothing a visitor could not do by typing into the box; the step
# that changes anything, confirming, is protected as usual.
@csrf_exempt
@sensitive_post_parameters("email")
def subscribe(request):
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return render(request, "digest/subscribe_form.html", {"form": form})
    email = form.cleaned_data["email"]
    if not subscriptions.allow_request(request, email=email):
        return render(request, "digest/subscribe_limited.html", status=429)
    try:
        subscriptions.request_subscription(email=email, time_zone=form.cleaned_data["time_zone"])
    except (smtplib.SMTPException, OSError):
        log.exception("could not send a subscription confirmation")
        return render(request, "digest/subscribe_unsent.html", status=503)
    return render(request, "digest/subscribe_sent.html", {"email": email})


def confirm(request, token):
    """GET shows a button, POST confirms: mail scanners follow links, but do not press."""
    try:
        subscription = subscriptions.read_link(token)
    except subscriptions.BadSubscribeLink as problem:
        return render(
            request, "digest/subscribe_problem.html", {"message": problem.message}, status=400
        )
    context = {"subscription": subscription}
    if request.method != "POST":
        return render(request, "digest/subscribe_confirm.html", context)
    _, created = subscriptions.confirm_subscription(subscription)
    return render(request, "digest/subscribe_done.html", context | {"created": created})
