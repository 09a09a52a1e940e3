"""The digest dispatcher's schedule: every five minutes, editable in the admin."""

import importlib

from django.db import migrations

# The schedule helpers of the migration that created the first schedules.
_first_schedules = importlib.import_module("papers.migrations.0003_schedules")

SCHEDULES = [
    {
        "name": "Dispatch due digests",
        "task": "digest.tasks.dispatch_digests",
        "crontab": {"minute": "*/5", "hour": "*", "day_of_week": "*"},
        "kwargs": {},
        "enabled": True,
        "description": "Builds and queues the digests whose send time has come.",
    },
]


def create(apps, schema_editor):
    _first_schedules.create_schedules(apps, SCHEDULES)


def remove(apps, schema_editor):
    _first_schedules.remove_schedules(apps, SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("digest", "0001_digest"), ("papers", "0003_schedules")]

    operations = [migrations.RunPython(create, remove)]
