"""`python -m bench`: every benchmark, one after the other."""

from bench import api, digests, importing, pages, related, tagging

# In this order: each later benchmark works on the corpus the import left (the digest
# benchmark last: it changes when papers were first seen).
for benchmark in (importing, tagging, related, pages, api, digests):
    benchmark.main()
