"""A first-in, first-out queue of row batches that moves to a temporary file when it grows.

The generator makes a patient's appointments, prescriptions and referrals at the same moment as the
patient (they must agree with each other), but the importer reads the files one after another: all the
patients first, then all the appointments. What is made before it is read waits here. Held in memory
it would grow with the data set, so past a limit the waiting batches go to disk and memory stays flat.
"""

import marshal
import tempfile
from collections import deque
from typing import IO

Row = tuple[str, ...]


class Spool:
    def __init__(self, memory_rows: int = 20_000) -> None:
        self._memory_rows = memory_rows
        self._memory: deque[list[Row]] = deque()
        self._rows_in_memory = 0
        self._file: IO[bytes] | None = None
        self._write_at = 0
        self._read_at = 0
        self._batches_on_disk = 0

    def put(self, batch: list[Row]) -> None:
        if not batch:
            return
        self._memory.append(batch)
        self._rows_in_memory += len(batch)
        if self._rows_in_memory > self._memory_rows:
            self._spill()

    def take(self) -> list[Row] | None:
        """The oldest batch, or None when nothing is waiting."""
        # Everything on disk was put before anything now in memory, so disk is read first.
        if self._batches_on_disk:
            assert self._file is not None
            self._file.seek(self._read_at)
            batch = marshal.load(self._file)
            self._read_at = self._file.tell()
            self._batches_on_disk -= 1
            return batch
        if self._memory:
            batch = self._memory.popleft()
            self._rows_in_memory -= len(batch)
            return batch
        return None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._memory.clear()
        self._rows_in_memory = 0
        self._batches_on_disk = 0

    def _spill(self) -> None:
        if self._file is None:
            # Deleted by the operating system when closed, or when the process ends however it ends.
            self._file = tempfile.TemporaryFile(prefix="carebridge-demo-")
        self._file.seek(self._write_at)
        while self._memory:
            marshal.dump(self._memory.popleft(), self._file)
            self._batches_on_disk += 1
        self._write_at = self._file.tell()
        self._rows_in_memory = 0
