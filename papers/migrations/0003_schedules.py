"""The default fetch schedules. Curators edit them in the admin (Periodic tasks):
the categories of the arXiv fetch, the hours, and whether each one runs at all."""

import json

from django.db import migrations

SCHEDULES = [
    {
        "name": "Fetch Hugging Face daily papers",
        "task": "papers.tasks.fetch_hf_daily",
        "crontab": {"minute": "30", "hour": "7", "day_of_week": "1-5"},
        "kwargs": {},
        "enabled": True,
        "description": "Every weekday: the day's Hugging Face daily papers.",
    },
    {
        "name": "Fetch recent arXiv papers",
        "task": "papers.tasks.fetch_arxiv",
        "crontab": {"minute": "0", "hour": "6", "day_of_week": "1-5"},
        "kwargs": {"categories": ["cs.CL", "cs.LG", "cs.AI"], "days": 2},
        "enabled": False,
        "description": "Edit the categories in Keyword arguments, then enable.",
    },
    {
        "name": "Catch up on the search index",
        "task": "papers.tasks.index_search",
        "crontab": {"minute": "*/10", "hour": "*", "day_of_week": "*"},
        "kwargs": {},
        "enabled": True,
        "description": "Makes searchable any paper an interrupted import left unindexed.",
    },
]


def create(apps, schema_editor):
    create_schedules(apps, SCHEDULES)


def remove(apps, schema_editor):
    remove_schedules(apps, SCHEDULES)


# Later schedule migrations call these two with their own SCHEDULES.
def create_schedules(apps, schedules):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for schedule in schedules:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            **schedule["crontab"], day_of_month="*", month_of_year="*", timezone="UTC"
        )
        PeriodicTask.objects.get_or_create(
            name=schedule["name"],
            defaults={
                "task": schedule["task"],
                "crontab": crontab,
                "kwargs": json.dumps(schedule["kwargs"]),
                "enabled": schedule["enabled"],
                "description": schedule["description"],
            },
        )


def remove_schedules(apps, schedules):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s["name"] for s in schedules]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("papers", "0002_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
