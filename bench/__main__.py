"""`python -m bench`: every benchmark, one after the other."""

from bench import importing

for benchmark in (importing,):
    benchmark.main()
