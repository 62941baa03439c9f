"""Pure rules: dataclasses and functions.

No database, no network, no clock: `today` is a parameter.
"""
