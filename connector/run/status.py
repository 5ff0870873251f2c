"""How a run ended (or that it has not yet): the ``status`` of the ``runs``
and ``audits`` tables, of every run's JSON summary and of the metrics file.

A ``StrEnum`` whose values are the strings those outputs have always carried,
so the state database, the JSON and the docs read exactly as before while the
code can no longer misspell a status.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    RUNNING = "running"          # started, not finished (a crash leaves it so)
    OK = "ok"                    # every record written
    PARTIAL = "partial"          # finished; some records failed and were kept for replay
    STOPPED = "stopped"          # stopped cleanly at the API budget or daily limit
    DRY_RUN = "dry-run"          # planned only; nothing written
    FAILED = "failed"            # an error ended the run
    INTERRUPTED = "interrupted"  # found still running by a later run (the process died)


# a run that leaves Salesforce as planned, or with its failures kept for replay
SUCCEEDED = (RunStatus.OK, RunStatus.PARTIAL)
# the statuses the metrics file reports, one gauge each (docs/interfaces.md)
FINISHED = (RunStatus.OK, RunStatus.PARTIAL, RunStatus.STOPPED, RunStatus.DRY_RUN,
            RunStatus.FAILED)

__all__ = ["FINISHED", "SUCCEEDED", "RunStatus"]
