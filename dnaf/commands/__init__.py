"""The implementations of the `dnaf` verbs; dnaf/cli.py holds the argument parser."""
