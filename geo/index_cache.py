"""The precomputed network on disk, so a process that starts does not rebuild it.

``waterops network isolate`` without a running service used to load 100k pipes from the
store and precompute segments on every call (seconds). The index is now written once per
network version to one file in the data folder and read back by the next process; an
import writes the new version's file over the old one, and a file whose key (network
version and import time, from ``geo_meta``) differs from the store's is ignored and
replaced, so a stale index is never used, whichever process imported.

Format: a pickle of the ``NetworkIndex``'s fields, except what pickles slowly or not at
all: the valves and sources are msgpack (msgspec Structs), the pipe lines are their
metric coordinates (the shapely lines and their STRtree are rebuilt, ~0.1 s for 100k
pipes) and the projector is its EPSG code (taken from the caller's ``Projectors``).
Pickle is safe here in the sense that matters: the file is written by this code into
the service's own data folder, next to the SQLite file, and is trusted exactly as much.
On 98,967 pipes and 500,000 customers the file (64 MB) is read in 1.5 s against 7.3 s to
build the index from the same network (``python -m bench.segments``, the shared 2-core
machine); the cycle collector is paused while it is read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import pickle
import tempfile
from pathlib import Path
from typing import Final

import msgspec
import numpy as np
import shapely

from geo.crs import Projectors
from geo.model import Source, Valve
from geo.network import NetworkIndex
from geo.snapping import PipeLocator

#: bump when the file's layout or NetworkIndex's fields change: older files are ignored
CACHE_FORMAT: Final = 1
FILE_NAME: Final = "network-index.pickle"

_valves_decode = msgspec.msgpack.Decoder(list[Valve]).decode
_sources_decode = msgspec.msgpack.Decoder(list[Source]).decode
_encode = msgspec.msgpack.Encoder().encode
_SPECIAL: Final = frozenset({"projector", "valves", "sources", "locator"})


def write_index(path: Path, key: str, index: NetworkIndex) -> None:
    """Write ``index`` under ``key`` atomically (a reader sees the old file or the new)."""
    lines = index.locator.lines
    coords, parts = shapely.get_coordinates(lines, return_index=True)
    state = {f.name: getattr(index, f.name) for f in dataclasses.fields(index)
             if f.name not in _SPECIAL}
    state |= {"epsg": index.projector.epsg, "valves": _encode(index.valves),
              "sources": _encode(index.sources), "line_coords": coords,
              "line_parts": parts, "n_lines": len(lines)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".index-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump({"format": CACHE_FORMAT, "key": key, "state": state}, fh,
                        protocol=pickle.HIGHEST_PROTOCOL)
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def read_index(path: Path, key: str, projectors: Projectors) -> NetworkIndex | None:
    """The index stored under ``key``; None when there is no file or it is for another key."""
    # millions of small objects (ids, dicts, adjacency lists) and nothing cyclic: the
    # cycle collector only slows the load down, so it waits until the index is built
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read(path, key, projectors)
    finally:
        if collecting:
            gc.enable()


def _read(path: Path, key: str, projectors: Projectors) -> NetworkIndex | None:
    try:
        with path.open("rb") as fh:
            found = pickle.load(fh)  # noqa: S301 - our own file in our data folder (above)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if not isinstance(found, dict) or found.get("format") != CACHE_FORMAT \
            or found.get("key") != key:
        return None
    state = dict(found["state"])
    n_lines = int(state.pop("n_lines"))
    coords, parts = state.pop("line_coords"), state.pop("line_parts")
    lines = np.asarray(shapely.linestrings(coords, indices=parts)) if n_lines \
        else np.empty(0, dtype=object)
    return NetworkIndex(
        projector=projectors.for_epsg(int(state.pop("epsg"))),
        valves=_valves_decode(state.pop("valves")),
        sources=_sources_decode(state.pop("sources")),
        locator=PipeLocator(lines), **state)
