from django import forms
from django.conf import settings

from papers import fetching, search, sources
from papers.models import Tag


class ImportForm(forms.Form):
    """A file or a web address to import, checked before a run is started."""

    file = forms.FileField(required=False, help_text="BibTeX, RIS, JSON, JSON Lines (.gz), XML…")
    url = forms.URLField(required=False, assume_scheme="https", label="or a web address")
    format = forms.ChoiceField(
        required=False,
        choices=[("", "Recognise from the content"), *((f, f) for f in sorted(sources.FORMATS))],
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload and upload.size > settings.IMPORT_MAX_UPLOAD:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the limit is {settings.IMPORT_MAX_UPLOAD:,}."
            )
        return upload

    def clean_url(self):
        url = self.cleaned_data["url"]
        if url:
            try:
                fetching.check_url(url)
            except fetching.FetchError as exc:
                raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self):
        data = super().clean()
        upload, url = data.get("file"), data.get("url")
        if bool(upload) == bool(url) and not self.errors:
            raise forms.ValidationError("Choose a file or type a web address (one of the two).")
        if upload:
            data["content"] = upload.read()
            try:
                # .get: a format that failed its own validation is not in `data`.
                module = sources.FORMATS[data["format"]] if data.get("format") else None
                (module or sources.detect(data["content"])).parse(data["content"])
            except sources.SourceError as exc:
                self.add_error("file", f"{upload.name}: {exc}")
        return data


class SearchForm(forms.Form):
    """The search box and its filters, as they arrive in the page's query string."""

    q = forms.CharField(required=False, label="Search", strip=False)
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any tag",
        error_messages={"invalid_choice": "There is no such tag; pick one from the list."},
    )
    author = forms.CharField(required=False, max_length=200, label="Author")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    code = forms.BooleanField(required=False, label="Has code")
    sort = forms.ChoiceField(required=False, choices=list(search.SORTS.items()))

    def clean_q(self):
        return search.Query.clean(self.cleaned_data["q"])

    def clean_author(self):
        return " ".join(search.Query.clean(self.cleaned_data["author"]).text.split())

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return data

    def has_criteria(self) -> bool:
        data = self.cleaned_data
        return bool(
            data["q"].has_words
            or data["tag"]
            or data["author"]
            or data["since"]
            or data["until"]
            or data["code"]
        )

    def criteria(self) -> dict:
        """What to look for, as papers.search.find() takes it."""
        data = self.cleaned_data
        return {
            "q": data["q"].text if data["q"].has_words else "",
            "tag": data["tag"],
            "author": data["author"],
            "since": data["since"],
            "until": data["until"],
            "has_code": data["code"],
            "sort": data["sort"] or "relevance",
        }

    def find(self):
        """The matching papers, in the order asked (relevance when there are words)."""
        return search.find(**self.criteria())
