from django import forms
from django.conf import settings

from papers import fetching, sources


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
