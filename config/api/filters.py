"""What every API filter set shares."""

import django_filters
from django import forms


class StrictForm(forms.Form):
    """A query-string form that refuses an empty value for a typed parameter
    (`until=`, `kind=`): a program that sends one meant something, and silently
    ignoring it would answer a different question than it asked."""

    def clean(self):
        data = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) or name in self.errors:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(value == "" for value in values):
                self.add_error(name, "Give a value, or leave the parameter out.")
        return data


class FilterSet(django_filters.FilterSet):
    class Meta:
        form = StrictForm
