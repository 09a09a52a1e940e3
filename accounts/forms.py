from allauth.account.forms import ReauthenticateForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db import transaction

from accounts.models import Preferences
from accounts.preferences import start_preferences
from accounts.schedule import known_time_zone, time_zone_names
from papers.models import Tag
from papers.search import Query


class SignupForm(AllauthSignupForm):
    """allauth's sign-up (ACCOUNT_FORMS), which also starts the reader's preferences."""

    # Filled in by the page's script from the browser's own zone, so that "08:00" in a
    # new reader's first digest means 08:00 where they are.
    # No max_length: an overlong value is as unknown as any other, not an error to show.
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_time_zone(self):
        # A missing or unknown zone is not the reader's mistake to fix: UTC, which
        # they can change on their preferences page.
        value = self.cleaned_data["time_zone"].strip()
        return value if known_time_zone(value) else "UTC"

    def save(self, request):
        with transaction.atomic():
            user = super().save(request)
            start_preferences(user, time_zone=self.cleaned_data["time_zone"])
        return user


def _hours():
    return [(hour, f"{hour:02d}:00") for hour in range(24)]


def _time_zones():
    return [(name, name.replace("_", " ")) for name in time_zone_names()]


class PreferencesForm(forms.Form):
    """The digest settings on the preferences page."""

    digest_frequency = forms.ChoiceField(
        label="Digest e-mail",
        choices=Preferences.Frequency.choices,
        widget=forms.RadioSelect,
    )
    digest_weekday = forms.TypedChoiceField(
        label="Day",
        choices=Preferences.Weekday.choices,
        coerce=int,
        help_text="For weekly digests.",
        error_messages={"invalid_choice": "Pick a day of the week from the list."},
    )
    digest_hour = forms.TypedChoiceField(
        label="Time",
        choices=_hours,
        coerce=int,
        help_text="In your time zone.",
        error_messages={"invalid_choice": "Pick an hour from 00:00 to 23:00."},
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=_time_zones,
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone we know; pick one from the list."
        },
    )
    digest_size = forms.IntegerField(
        label="Papers per digest",
        min_value=1,
        max_value=100,
        # A text box rather than a spinner: typing "20" is easier than clicking to it.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"}),
        error_messages={
            "invalid": "Type a whole number from 1 to 100.",
            "min_value": "Type a whole number from 1 to 100.",
            "max_value": "Type a whole number from 1 to 100.",
        },
    )


class SavedSearchForm(forms.Form):
    """A search to follow, posted with the search page's own parameter names."""

    q = forms.CharField(required=False, strip=False)
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.all(),
        to_field_name="slug",
        required=False,
        error_messages={"invalid_choice": "There is no such tag; search again and pick one."},
    )
    author = forms.CharField(required=False, max_length=200)
    code = forms.BooleanField(required=False)
    name = forms.CharField(
        label="Name for this search",
        required=False,
        max_length=120,
        help_text="How it is listed on your preferences page and in your digest.",
    )

    def clean_q(self):
        return Query.clean(self.cleaned_data["q"]).text

    def clean(self):
        data = super().clean()
        if not self.errors and not (data["q"] or data["tag"] or data["author"]):
            raise forms.ValidationError(
                "There is nothing to follow yet: search for some words, a tag or an author "
                "first, then follow that search."
            )
        return data

    def search(self) -> dict:
        """The keyword arguments of saved_searches.save_search()."""
        data = self.cleaned_data
        return {
            "query": data["q"],
            "tag": data["tag"],
            "author": data["author"],
            "has_code": data["code"],
            "name": data["name"] or None,
        }


class DeleteAccountForm(ReauthenticateForm):
    """The reader's password, checked by allauth: failed attempts count towards the
    same rate limit as failed sign-ins, so this is no side door for guessing."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = "Your password"
        self.fields["password"].help_text = ""


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        help_text="What it is for, so you know which to revoke later.",
    )
