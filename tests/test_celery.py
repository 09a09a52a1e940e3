import pytest

from config.celery import app
from tests.processes import celery_worker


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_connects_to_redis_and_answers():
    with celery_worker() as (name, _):
        assert app.control.ping(destination=[name], timeout=2) == [{name: {"ok": "pong"}}]
