"""`make bench`: the real worker against a local fake Google holding 1, 100 and 1,000 calendars.

Not a test suite (pytest never collects it): it measures requests per idle poll, detection
latency, CPU per cycle, memory and a 10,000-event first sync, compares the worker with a naive
poller that lists the whole window every cycle, and writes the results to docs/benchmarks.md.
"""
