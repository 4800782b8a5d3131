"""Coverage-guided fuzzing of the reader with atheris (not part of the test run).

    python3 -m pip install atheris
    python3 fuzz/fuzz_reader.py -max_total_time=600

Each input is written to a temporary .xlsx or .csv and read; anything but an
InputError (or a clean read) is a finding.
"""

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from importer.errors import InputError
    from importer.read.sheet import read_sheet

FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-reader-"))


def one_input(data: bytes) -> None:
    suffix = ".xlsx" if data[:1] and data[0] % 2 else ".csv"
    path = FOLDER / f"input{suffix}"
    path.write_bytes(data[1:])
    with contextlib.suppress(InputError):
        read_sheet(path)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
