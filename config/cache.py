"""The cache backend: Django's Redis cache, with one Redis client per connection pool.

Django's client makes a new redis.Redis object for every command, and each fills a
table of reply parsers of about 170 entries: a fifth of the time of an answer served
from the cache (rate limits, the corpus version and the kept answer are six commands).
A redis.Redis object is safe to share between threads; its pool notices a fork.
"""

from django.core.cache.backends import redis


class _Client(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _Client
