"""Benchmarks run by `make bench`: each prints JSON lines of figures.

{"name", "value", "unit", "baseline", "ratio", "n"}: `ratio` compares `value` with a
`baseline` measured in the same run (null where there is none).
"""
