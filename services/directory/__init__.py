"""The district directory: districts, their units and people, and who leads whom.

Reference data every service reads, not a running service (no service.py). Each
district's directory is kept in `deploy/districts/<district>.yml`; loading a file
(`liuhen directory load`, or `liuhen up`) records the difference from what the log
holds as events on the stream `directory-<district>`, and projects them into the
`directory` schema, which services read through `read.py` inside a district scope.

    domain.py       pure: the directory as state, decide() and evolve()
    load.py         the YAML file: parse and validate, then record through handle()
    projections.py  the read model, updated in the transaction of the events
    read.py         what services call
    rules.py        the district's own rules (assessment table, accountability
                    settings): their checks and defaults
"""
