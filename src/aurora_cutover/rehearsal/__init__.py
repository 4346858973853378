"""Rehearsal: the whole migration under live application load, judged from the application's journal."""
