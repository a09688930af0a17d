"""The regression study (METHOD.md, "Regression study").

Training subsets of one fixed size are drawn from the candidate pool so that
they span a grid of coverage levels x depth (RID) bands x seeds
(:mod:`ila.regression.design`), and each subset's coverage and depth are
measured (:mod:`ila.regression.measures`); the base model is fine-tuned on
each elsewhere in the workflow and its dev loss measured, the runs joined
to their subsets (:mod:`ila.regression.runs`); the dev loss is then
explained by OLS on the measured coverage and depth of each subset
(:mod:`ila.regression.ols`), with the diagnostics the reviewers asked for
(leave-one-out R^2, Cook's distance, each regressor alone, VIF) and figures
(:mod:`ila.regression.plots`).
"""
