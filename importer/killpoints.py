"""Named points where a test can kill the process, to prove a run survives being killed there.

``ORDER_IMPORTER_KILL_AT=<name>`` makes the process SIGKILL itself when it
reaches that point; without the variable these calls do nothing. The points:
``after-sending`` (SENDING committed, create not yet sent),
``after-create-response`` (answer received, not yet journalled) and
``while-writing`` (results written to a temporary file, not yet renamed).
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "ORDER_IMPORTER_KILL_AT"


def kill_point(name: str) -> None:
    """SIGKILL this process here when ``$ORDER_IMPORTER_KILL_AT`` names this point."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
