"""The REST API under /api/: the URL map and schema in `urls`, and the parts every
endpoint shares — one error shape (`errors`), cursor pages (`paging`). Each app keeps
its serializers and viewsets in its own api.py."""
