"""One fine-tune path for the warm-up model and every study run.

A job trains a *group* of runs in one process: torch and transformers are
imported once, the base model is read from disk once, the dev and task
sets are tokenised once, and each run still writes its own metrics file
(and model folder, where kept), exactly as a job of one run would.

- :mod:`.settings`: the recipe (what changes a result) and the execution
  (threads, processes, checkpointing, grouping: what does not).
- :mod:`.runs`: what a group is (:class:`RunSpec`, :class:`GroupSpec`) and
  how the runs of a study are cut into groups.
- :mod:`.core`: trains and evaluates a group, in one process or as one rank
  of a torchrun launch; keeps finished runs across a kill.
- :mod:`.launch`: runs a group in this process or under torchrun.
"""

from .runs import GroupSpec, RunSpec, group_runs
from .settings import EXECUTION_KEYS, Execution, recipe

__all__ = ["EXECUTION_KEYS", "Execution", "GroupSpec", "RunSpec", "group_runs", "recipe"]
