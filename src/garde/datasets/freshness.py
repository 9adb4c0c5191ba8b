"""Whether the files a loaded data map came from changed since it was loaded.

A worker keeps what it loaded (the data map, the registers its datasets name, the connections) from one
job to the next. A register edited meanwhile (a retention period lengthened, a legal hold) must be seen
by the next job, not after a restart: a sweep or an erasure acting on the old rules would delete what
the new ones keep. So the kept object goes with a stamp of its source files (size and modification
time), checked by a few ``stat`` calls before each job.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.engine import Engine

from garde.datasets.model import DataMap

Stamp = tuple[tuple[str, int, int], ...]


class Loaded(Protocol):
    """What a worker keeps: a data map and the connections to its databases."""

    @property
    def datamap(self) -> DataMap: ...

    @property
    def engines(self) -> Mapping[str, Engine]: ...


K = TypeVar("K")
L = TypeVar("L", bound=Loaded)


def kept(cache: dict[K, tuple[L, list[Path], Stamp]], key: K, datasets: Path, load: Callable[[], L]) -> L:
    """``cache[key]`` if none of the files it was loaded from changed since, else ``load()`` again (the
    old one's idle connections closed; those in use stay theirs until returned). The caller holds the
    cache's lock."""
    if key in cache:
        found, files, loaded = cache[key]
        if stamp(files) == loaded:
            return found
        for engine in found.engines.values():
            engine.dispose()
    fresh = load()
    files = source_files(datasets, fresh.datamap)
    cache[key] = (fresh, files, stamp(files))
    return fresh


def source_files(datasets: Path, datamap: DataMap) -> list[Path]:
    """The data map's path (a file or a folder) and every dataset's file and the register it names."""
    files = [datasets, *(Path(dataset.file) for dataset in datamap.datasets.values())]
    files += [Path(dataset.file).parent / dataset.register for dataset in datamap.datasets.values()
              if dataset.register]
    return files


def stamp(paths: Iterable[Path]) -> Stamp:
    """Each regular file's size and modification time under ``paths`` (a missing one marked -1)."""
    found: list[tuple[str, int, int]] = []
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            try:
                info = file.stat()
            except OSError:
                found.append((str(file), -1, -1))
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((str(file), info.st_mtime_ns, info.st_size))
    return tuple(found)
