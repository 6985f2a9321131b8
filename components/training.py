"""`make train`: train the model only when something it is built from changed.

The fingerprint covers the training data, domain, pipeline configuration, the code of the
custom components and the pinned library versions; it is written next to the model. A fresh
clone, or any change to those files, trains once (Rasa's own cache under .rasa/ then skips
unchanged components); otherwise the existing model is used and this takes a fraction of a
second. The newest model is always `models/hilo.tar.gz`; the one it replaced is kept as
`models/hilo-previous.tar.gz`, which `make nlu-report` compares it with.

    python -m components.training [--force] [--config FILE --name NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL_NAME = "hilo"
MODELS_DIR = ROOT / "models"
CONFIG_PATH = ROOT / "config.yml"


def training_inputs(root: Path = ROOT, config: Path | None = None) -> list[Path]:
    """Every file whose content can change the trained model, in a stable order."""
    config = config or root / "config.yml"
    files: list[Path] = [root / "domain.yml", config, root / "requirements.lock"]
    files += sorted((root / "data").rglob("*.yml"))
    # Hilo's components matter only to a configuration that uses them (stock Rasa's does not).
    if config.is_file() and "components." in config.read_text():
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


def train_command(config: Path, name: str, out: Path) -> list[str]:
    """The `rasa train` command line `make train` runs."""
    rasa = Path(sys.executable).with_name("rasa")
    # Validation is `make validate`'s job (and part of `make test`); here it would only repeat.
    command = [str(rasa), "train", "--skip-validation", "--config", str(config)]
    return [*command, "--fixed-model-name", name, "--out", str(out)]


def train(force: bool = False, config: Path = CONFIG_PATH, name: str = MODEL_NAME) -> Path:
    """Trains models/<name>.tar.gz from config when needed; returns the model path.

    Next to the model, `<name>.fingerprint` records the inputs it was trained from and
    `<name>.seconds` how long the last training took (docs/benchmarks.md reports it).
    """
    config = config.resolve()
    model = MODELS_DIR / f"{name}.tar.gz"
    recorded = MODELS_DIR / f"{name}.fingerprint"
    current = fingerprint(training_inputs(config=config))
    up_to_date = model.is_file() and recorded.is_file() and recorded.read_text().strip() == current
    if up_to_date and not force:
        print(f"train: {model.relative_to(ROOT)} is up to date")
        return model
    recorded.unlink(missing_ok=True)
    if model.is_file():  # the model it replaces, for `make nlu-report` (bench/nlu_report.py)
        shutil.copy2(model, MODELS_DIR / f"{name}-previous.tar.gz")
    started = time.monotonic()
    command = train_command(config, name, MODELS_DIR)
    print("train: training the model (" + " ".join(command[1:]) + ")", flush=True)
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 (our own venv's rasa)
    seconds = time.monotonic() - started
    recorded.write_text(current + "\n")
    (MODELS_DIR / f"{name}.seconds").write_text(f"{seconds:.1f}\n")
    print(f"train: done in {seconds:.0f} s -> {model.relative_to(ROOT)}")
    return model


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even when up to date")
    parser.add_argument("--config", type=Path, default=CONFIG_PATH, help="pipeline and policies")
    parser.add_argument("--name", default=MODEL_NAME, help="model file name in models/")
    args = parser.parse_args()
    train(force=args.force, config=args.config, name=args.name)


if __name__ == "__main__":
    main()
