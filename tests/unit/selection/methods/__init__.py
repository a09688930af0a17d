"""Tests of the selection methods, one file per module of
``src/ila/selection/methods``."""
