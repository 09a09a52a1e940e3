"""Related papers: a catch-up every ten minutes for papers that lack a current choice
(new ones, and ones whose text changed), and a nightly refresh of every paper so that
older papers find the newer ones."""

import importlib

from django.db import migrations

# The schedule helpers of the migration that created the first schedules.
_first_schedules = importlib.import_module("papers.migrations.0003_schedules")

SCHEDULES = [
    {
        "name": "Catch up on related papers",
        "task": "papers.tasks.refresh_related",
        "crontab": {"minute": "*/10", "hour": "*", "day_of_week": "*"},
        "kwargs": {},
        "enabled": True,
        "description": "Chooses related papers for new papers and papers whose text changed.",
    },
    {
        "name": "Refresh all related papers",
        "task": "papers.tasks.refresh_related",
        "crontab": {"minute": "45", "hour": "4", "day_of_week": "*"},
        "kwargs": {"full": True},
        "enabled": True,
        "description": "Nightly: chooses again for every paper, so older papers find newer ones.",
    },
]


def create(apps, schema_editor):
    _first_schedules.create_schedules(apps, SCHEDULES)


def remove(apps, schema_editor):
    _first_schedules.remove_schedules(apps, SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("papers", "0007_browse")]

    operations = [migrations.RunPython(create, remove)]
