"""`make train`: train the model only when something it is built from changed.

The fingerprint covers the training data, domain, pipeline configuration, the code of the
custom components and the pinned library versions; it is written next to the model. A fresh
clone, or any change to those files, trains once (Rasa's own cache under .rasa/ then skips
unchanged components); otherwise the existing model is used and this takes a fraction of a
second. The newest model is always `models/hilo.tar.gz`.

    python -m components.training [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_NAME = "hilo"
MODELS_DIR = ROOT / "models"
MODEL_PATH = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
FINGERPRINT_PATH = MODELS_DIR / f"{MODEL_NAME}.fingerprint"


def training_inputs(root: Path = ROOT) -> list[Path]:
    """Every file whose content can change the trained model, in a stable order."""
    files: list[Path] = [root / "domain.yml", root / "config.yml", root / "requirements.lock"]
    files += sorted((root / "data").rglob("*.yml"))
    files += sorted((root / "components").glob("*.py"))
    return [path for path in files if path.is_file()]


def fingerprint(paths: Iterable[Path], root: Path = ROOT) -> str:
    """SHA-256 over the relative paths and contents of the given files."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def is_up_to_date(current: str) -> bool:
    """True when the model exists and was trained from exactly these inputs."""
    return (
        MODEL_PATH.is_file()
        and FINGERPRINT_PATH.is_file()
        and FINGERPRINT_PATH.read_text().strip() == current
    )


def train(force: bool = False) -> Path:
    """Trains when needed; returns the model path."""
    current = fingerprint(training_inputs())
    if not force and is_up_to_date(current):
        print(f"train: {MODEL_PATH.relative_to(ROOT)} is up to date")
        return MODEL_PATH
    FINGERPRINT_PATH.unlink(missing_ok=True)
    started = time.monotonic()
    rasa = Path(sys.executable).with_name("rasa")
    command = [str(rasa), "train", "--fixed-model-name", MODEL_NAME, "--out", str(MODELS_DIR)]
    print("train: training the model (" + " ".join(command[1:]) + ")", flush=True)
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 (our own venv's rasa)
    FINGERPRINT_PATH.write_text(current + "\n")
    print(f"train: done in {time.monotonic() - started:.0f} s -> {MODEL_PATH.relative_to(ROOT)}")
    return MODEL_PATH


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even when up to date")
    train(force=parser.parse_args().force)


if __name__ == "__main__":
    main()
