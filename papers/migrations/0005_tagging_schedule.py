"""Retrain the learned tagger nightly; the task skips training when no settled tag
changed since the last model."""

from django.db import migrations

NAME = "Retrain the learned tagger"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "papers.tasks.retrain_tagger",
            "crontab": crontab,
            "enabled": True,
            "description": "Nightly; skipped when the settled tags did not change.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("papers", "0004_tagging")]

    operations = [migrations.RunPython(create, remove)]
