"""The forms of the reading-list pages: they parse and check input, and change nothing."""

from django import forms
from django.template.defaultfilters import filesizeformat

from papers import lists, sources
from papers.models import ListItem, ReadingList

# A list import is parsed inside the request: a reading list's worth of references, not
# a whole library (a Zotero export of 1,000 references with abstracts is about 1.5 MB).
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_FORMATS = ("bibtex", "ris")
NOTE_MAX = 5000
DESCRIPTION_MAX = 2000


class ListForm(forms.Form):
    name = forms.CharField(max_length=lists.NAME_MAX)
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional. Shown on the list page to whoever may see the list.",
    )
    visibility = forms.ChoiceField(
        choices=ReadingList.Visibility.choices,
        initial=ReadingList.Visibility.PRIVATE,
        widget=forms.RadioSelect,
        help_text=(
            "Private: only you. Unlisted: anyone you give the secret link to. "
            "Public: anyone, with a feed. Notes and statuses show to whoever sees the list."
        ),
    )


def _owned_list(user, **kwargs):
    return forms.ModelChoiceField(
        queryset=lists.owned_by(user),
        required=False,
        error_messages={
            "invalid_choice": "That is not one of your lists (it may have just been "
            "deleted); reload the page and choose again."
        },
        **kwargs,
    )


class SaveForm(forms.Form):
    """Add a paper to one of the reader's lists, take it off one, or start a new list.

    Each list is a submit button (`add` or `remove` carrying the list's id), so the wanted
    state travels with the request: a double click or a retry cannot undo itself.
    """

    new_list = forms.CharField(required=False, max_length=lists.NAME_MAX, label="New list")

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["add"] = _owned_list(user)
        self.fields["remove"] = _owned_list(user)

    def clean(self):
        data = super().clean()
        chosen = [name for name in ("add", "remove", "new_list") if data.get(name)]
        if len(chosen) != 1 and not self.errors:
            raise forms.ValidationError("Choose one list to add the paper to or remove it from.")
        return data


class ItemForm(forms.Form):
    status = forms.ChoiceField(choices=ListItem.Status.choices)
    note = forms.CharField(
        required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


class MoveForm(forms.Form):
    to = forms.IntegerField(min_value=1, label="Move to place")


class ListImportForm(forms.Form):
    file = forms.FileField(
        label="BibTeX or RIS file",
        help_text=f"Up to {filesizeformat(IMPORT_MAX_BYTES)}, as Zotero, JabRef, Mendeley "
        "or EndNote export it.",
    )
    format = forms.ChoiceField(
        required=False,
        choices=[("", "Recognise from the content"), ("bibtex", "BibTeX"), ("ris", "RIS")],
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if not upload:
            return data
        if upload.size > IMPORT_MAX_BYTES:
            self.add_error(
                "file",
                f"{upload.name} is {filesizeformat(upload.size)}; a list import takes up to "
                f"{filesizeformat(IMPORT_MAX_BYTES)}. Split the file, or ask a curator to "
                "import it into paperfeed.",
            )
            return data
        content = upload.read()
        try:
            module = sources.FORMATS[data["format"]] if data.get("format") else _recognise(content)
            # Checks the whole file's format up front; records are read as they are used.
            data["records"] = module.parse(content)
        except sources.SourceError as exc:
            self.add_error("file", f"{upload.name}: {str(exc).rstrip('.')}.")
        return data


_EXPORT_AS = "export your references as BibTeX (.bib) or RIS (.ris)"


def _recognise(content: bytes):
    """The BibTeX or RIS parser for these bytes, or a SourceError saying what they are."""
    for name in IMPORT_FORMATS:
        if sources.FORMATS[name].looks_like(content):
            return sources.FORMATS[name]
    try:
        other = sources.detect(content)
    except sources.SourceError as exc:
        if not content.strip() or b"\x00" in content[:8192]:
            raise sources.SourceError(f"{exc}; {_EXPORT_AS}") from None
        raise sources.SourceError(
            f"this is neither BibTeX nor RIS; {_EXPORT_AS}, or choose the format if you are "
            "sure it is one of them"
        ) from None
    raise sources.SourceError(f"this looks like a {other.FORMAT} file; {_EXPORT_AS}")
