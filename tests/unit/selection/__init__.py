"""Tests of :mod:`ila.selection`, one file per module at its mirror path:
``methods/test_<method>.py`` for each method, ``test_<helper>.py`` for the
shared helpers; the candidate pools they build are in :mod:`.pools`."""
