"""`make bench`: Hilo next to stock Rasa 3.6 in the same run; writes docs/benchmarks.md.

Stock Rasa is the same domain and training data trained with the pipeline and policies
`rasa init` uses (bench/pipelines/stock.yml), served with its own SQLTrackerStore and
templated responses. Both talk to the same action server.

Stock training at 100 epochs (DIET, ResponseSelector, TED, UnexpecTED) takes over an hour on
2 cores, and the number of epochs changes neither the size of the trained networks nor the
work of loading or running them: by default the stock model is trained with
`--stock-epochs 10` and the report says so; `--stock-epochs 100` trains it exactly as
`rasa init` would. The model is kept in models/ and retrained only when its inputs change.

    python -m bench.run [--quick] [--stock-epochs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from bench.rest_load import run_load
from components.training import MODELS_DIR, train, train_command

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
RASA = str(Path(sys.executable).with_name("rasa"))
SYSTEMS = ("hilo", "stock")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, timeout: float, process: subprocess.Popen) -> float:
    """Polls check() until it is true; returns the seconds it took."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        if check():
            return time.perf_counter() - started
        time.sleep(0.1)
    raise TimeoutError("server not ready")


def answers(url: str, body: dict[str, Any] | None = None) -> bool:
    """True when the URL answers 200 (a POST when a body is given)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (local URL)
        url, data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def proc_memory_mb(pid: int) -> dict[str, float]:
    """Current and peak resident memory of a process."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return {"rss_mb": fields["VmRSS"], "rss_peak_mb": fields["VmHWM"]}


def endpoints_for(system: str, actions_url: str, db: Path) -> dict[str, Any]:
    """endpoints.yml content for a system, with its own SQLite file."""
    if system == "hilo":
        return {
            "action_endpoint": {"url": actions_url},
            "tracker_store": {
                "type": "components.tracker_store.WindowedSQLTrackerStore",
                "dialect": "sqlite",
                "db": str(db),
                "window": 200,
            },
            "nlg": {"type": "components.nlg.HiloNLG"},
        }
    return {
        "action_endpoint": {"url": actions_url},
        "tracker_store": {"type": "sql", "dialect": "sqlite", "db": str(db)},
    }


def stock_config(epochs: int, name: str) -> Path:
    """bench/pipelines/stock.yml with every `epochs` set to the given number, under models/."""
    config = yaml.safe_load((ROOT / "bench/pipelines/stock.yml").read_text())
    for component in [*config["pipeline"], *config["policies"]]:
        if "epochs" in component:
            component["epochs"] = epochs
    MODELS_DIR.mkdir(exist_ok=True)
    path = MODELS_DIR / f"{name}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cold_train_seconds(config: Path) -> float:
    """Trains a configuration from nothing (empty Rasa cache, temporary output).

    Like a fresh clone: Rasa's cache would otherwise skip every component whose inputs did
    not change, and the time would say nothing about training the bot.
    """
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")}
        started = time.perf_counter()
        subprocess.run(
            train_command(config, "cold", Path(tmp)),
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


def rest_benchmark(system: str, model: Path, actions_url: str, tmp: Path, quick: bool) -> dict:
    """Starts `rasa run` for the system and loads its REST channel at 1, 10 and 50 senders."""
    endpoints = tmp / f"endpoints-{system}.yml"
    endpoints.write_text(
        yaml.safe_dump(endpoints_for(system, actions_url, tmp / f"rest-{system}.db"))
    )
    credentials = tmp / "credentials.yml"
    credentials.write_text("rest:\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    log = (tmp / f"rasa-{system}.log").open("w")
    command = [RASA, "run", "--model", str(model), "--port", str(port)]
    command += ["--endpoints", str(endpoints), "--credentials", str(credentials)]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers(url, {"sender": "warmup", "message": "hola"}), 600, server)
        result: dict[str, Any] = {"ready_s": time.perf_counter() - started}
        texts = [line for line in (ROOT / "bench/data/rest_messages.txt").read_text().splitlines()]
        plan = {1: 60, 10: 12, 50: 4} if quick else {1: 150, 10: 25, 50: 8}
        result["load"] = [
            asyncio.run(run_load(url, senders, per_sender, texts))
            for senders, per_sender in plan.items()
        ]
        result.update(proc_memory_mb(server.pid))
        return result
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def machine() -> str:
    """CPU, cores, memory and software versions, for the report header."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) // (1024 * 1024)
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    import rasa

    return (
        f"{cpu}, {os.cpu_count()} cores, {memory} GB RAM; Linux {platform.release()}; "
        f"Python {platform.python_version()}, Rasa {rasa.__version__}"
    )


def main() -> None:
    """Runs every benchmark and writes the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument(
        "--no-cold-train", action="store_true", help="skip training Hilo and stock from nothing"
    )
    parser.add_argument(
        "--stock-epochs",
        type=int,
        default=10,
        help="epochs of stock Rasa's neural components (rasa init: 100; see the docstring)",
    )
    args = parser.parse_args()

    stock_name = f"stock-e{args.stock_epochs}"
    stock_config_path = stock_config(args.stock_epochs, stock_name)
    models = {"hilo": train(), "stock": train(config=stock_config_path, name=stock_name)}
    results: dict[str, Any] = {system: {} for system in SYSTEMS}
    results["stock"]["epochs"] = args.stock_epochs
    for system, config in (("hilo", ROOT / "config.yml"), ("stock", stock_config_path)):
        print(f"bench: {system}: training from nothing", flush=True)
        results[system]["train_s"] = None if args.no_cold_train else cold_train_seconds(config)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        actions_log = (tmp / "actions.log").open("w")
        # The action server's store: the demo store in a file of its own.
        store_url = f"sqlite:///{tmp / 'commerce.db'}"
        subprocess.run([PYTHON, "-m", "actions.commerce.seed", "--url", store_url], check=True)
        actions = subprocess.Popen(
            [RASA, "run", "actions", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": store_url},
            stdout=actions_log,
            stderr=subprocess.STDOUT,
        )
        actions_url = f"http://127.0.0.1:{port}/webhook"
        try:
            wait_until(lambda: answers(f"http://127.0.0.1:{port}/health"), 120, actions)
            for system in SYSTEMS:
                print(f"bench: {system}: in-process measurements", flush=True)
                command = [PYTHON, "-m", "bench.measure", "--system", system]
                command += ["--model", str(models[system]), "--actions", actions_url]
                command += ["--db", str(tmp / f"inproc-{system}.db")]
                if args.quick:
                    command += ["--conversations", "10"]
                output = subprocess.run(
                    command, cwd=ROOT, check=True, capture_output=True, text=True
                ).stdout
                results[system]["inprocess"] = json.loads(output.strip().splitlines()[-1])
                print(f"bench: {system}: REST server", flush=True)
                results[system]["rest"] = rest_benchmark(
                    system, models[system], actions_url, tmp, args.quick
                )
        finally:
            actions.terminate()
            actions.wait(timeout=60)
            actions_log.close()

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(results, indent=1))
    REPORT.write_text(report(results, machine(), stamp, quick=args.quick))
    print(f"bench: wrote {REPORT.relative_to(ROOT)} and bench/results/{stamp}.json")


def _fmt(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:,.1f} {unit}"


def _ratio(hilo: float | None, stock: float | None) -> str:
    if not hilo or not stock:
        return "n/a"
    return f"{stock / hilo:.1f}x" if stock >= hilo else f"{hilo / stock:.1f}x slower"


def report(results: dict[str, Any], machine_line: str, stamp: str, quick: bool) -> str:
    """The Markdown report: every figure next to stock Rasa's and the ratio."""
    hilo, stock = results["hilo"], results["stock"]
    rows: list[tuple[str, float | None, float | None, str, str]] = []

    def add(label: str, h: float | None, s: float | None, unit: str, target: str = "") -> None:
        rows.append((label, h, s, unit, target))

    hi, si = hilo["inprocess"], stock["inprocess"]
    add("Model load (`Agent.load`)", hi["load_s"], si["load_s"], "s", "≤ 10 s")
    add(
        "Server start to first answer (`rasa run`)",
        hilo["rest"]["ready_s"],
        stock["rest"]["ready_s"],
        "s",
    )
    add(
        "Peak RSS, server process after load tests",
        hilo["rest"]["rss_peak_mb"],
        stock["rest"]["rss_peak_mb"],
        "MB",
        "≤ 800 MB",
    )
    add("RSS after model load (in process)", hi["rss_after_load_mb"], si["rss_after_load_mb"], "MB")
    add("NLU parse p50", hi["parse_ms"]["p50"], si["parse_ms"]["p50"], "ms")
    add("NLU parse p99", hi["parse_ms"]["p99"], si["parse_ms"]["p99"], "ms")
    add("Full turn p50 (in process)", hi["turn_ms"]["p50"], si["turn_ms"]["p50"], "ms", "≤ 40 ms")
    add("Full turn p99 (in process)", hi["turn_ms"]["p99"], si["turn_ms"]["p99"], "ms")
    for size in hi["turn_ms_by_history"]:
        add(
            f"Turn p50 with {int(size):,} events in the SQLite tracker",
            hi["turn_ms_by_history"][size]["p50"],
            si["turn_ms_by_history"][size]["p50"],
            "ms",
        )
    for h_load, s_load in zip(hilo["rest"]["load"], stock["rest"]["load"], strict=True):
        n = h_load["senders"]
        add(
            f"REST throughput, {n} concurrent senders",
            h_load["throughput_msg_s"],
            s_load["throughput_msg_s"],
            "msg/s",
        )
        add(f"REST latency p50, {n} senders", h_load["p50_ms"], s_load["p50_ms"], "ms")
        add(f"REST latency p99, {n} senders", h_load["p99_ms"], s_load["p99_ms"], "ms")
    add(
        f"`make train`, whole bot from nothing (stock: {stock['epochs']} epochs)",
        hilo["train_s"],
        stock["train_s"],
        "s",
        "≤ 150 s",
    )

    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (bench/run.py); do not edit by hand. Hilo next to stock Rasa 3.6",
        "in the same run: same domain, data and action server; stock Rasa uses the `rasa init`",
        "pipeline and policies (bench/pipelines/stock.yml), its SQLTrackerStore and templated",
        'responses. Ratios say how many times better Hilo is (or "slower" when it is worse).',
        f"The stock model was trained with {stock['epochs']} epochs per neural component"
        + (
            " instead of `rasa init`'s 100 to keep the run short; epochs change neither the"
            " networks' size nor the cost of loading and running them, only stock's training"
            " time (the training row is for these epochs) and its accuracy."
            if stock["epochs"] != 100
            else ", as `rasa init` does."
        ),
        "",
        f"- Run: {stamp} (UTC){' — quick mode, fewer samples' if quick else ''}",
        f"- Machine: {machine_line}",
        "",
        "| Measure | Hilo | Stock Rasa | Ratio | Target |",
        "|---|---|---|---|---|",
    ]
    higher_is_better = ("throughput",)
    for label, h, s, unit, target in rows:
        ratio = _ratio(s, h) if any(k in label for k in higher_is_better) else _ratio(h, s)
        lines.append(f"| {label} | {_fmt(h, unit)} | {_fmt(s, unit)} | {ratio} | {target} |")
    errors = sum(load["errors"] for r in (hilo, stock) for load in r["rest"]["load"])
    lines += ["", f"REST errors during the load tests: {errors}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
