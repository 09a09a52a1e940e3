"""`python -m bench`: every benchmark, one after the other."""

from bench import importing, pages, related, tagging

# In this order: each later benchmark works on the corpus the import left.
for benchmark in (importing, tagging, related, pages):
    benchmark.main()
