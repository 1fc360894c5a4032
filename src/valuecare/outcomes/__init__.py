"""Outcomes: Porter outcome measures, PROMs, readmissions and quality measures per care cycle."""
