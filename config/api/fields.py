"""Serializer fields every API input uses."""

from django.db import models
from rest_framework import serializers


class Text(serializers.CharField):
    """A string field that refuses other JSON types: DRF's own turns 0 into "0", which
    hides a client's mistake (a number where a name belongs) instead of reporting it."""

    default_error_messages = {"invalid": "Give a string of text."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: Text,
        models.TextField: Text,
    }
