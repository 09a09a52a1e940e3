from django import forms

from accounts.schedule import known_time_zone


class SubscribeForm(forms.Form):
    """The home page's box: an address, and the zone the browser reported."""

    email = forms.EmailField(
        label="Your e-mail address",
        max_length=254,
        error_messages={
            "required": "Type your e-mail address to get the daily papers.",
            "invalid": "That does not look like an e-mail address; check it and try again.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.org"}),
    )
    # Filled in by the page's script, as on the sign-up form, so that the digest comes at
    # 08:00 where the reader is. No max_length: an overlong value is merely unknown.
    time_zone = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_time_zone(self):
        # Not the reader's mistake to fix: UTC, which they can change later.
        value = self.cleaned_data["time_zone"].strip()
        return value if known_time_zone(value) else "UTC"


class FeedbackForm(forms.Form):
    """👍, 👎 or taking either back, from a button on the site."""

    value = forms.ChoiceField(
        choices=[("more", "More like this"), ("less", "Not interested"), ("clear", "Undo")],
        error_messages={
            "required": "Choose “more like this” or “not interested”.",
            "invalid_choice": "Choose “more like this” or “not interested”.",
        },
    )
