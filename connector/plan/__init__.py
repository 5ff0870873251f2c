"""Planning: what a run will write (model.py: the plan and the field diff) and
how it is decided from gathered values (planner.py)."""
