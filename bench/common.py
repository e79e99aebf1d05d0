"""What every measurement shares: paths, the environment, running a command with its peak memory."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from qa.config import PROJECT_ROOT

OUT_DIR = PROJECT_ROOT / "bench" / "out"
EVAL_DATA = PROJECT_ROOT / "eval" / "dev"
BIN = Path(sys.executable).parent
COLD_QUESTION = "フジクラの投資額は？"
DIRECTIONS = ("ja→ja", "en→en", "ja→en", "en→ja")
MIB = 1024 * 1024
ENV = {"ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "GRADIO_ANALYTICS_ENABLED": "False"}


def bench_env() -> dict[str, str]:
    """This process's environment with the bench's offline settings."""
    return {**os.environ, **ENV}


# Runs a command and reports its wall time and peak RSS. A child forked straight from this
# (large) process would report this process's RSS as its own ru_maxrss floor; one exec hop
# through this small launcher keeps the figure the child's own.
_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[3:])
deadline = started + float(sys.argv[2])
while True:
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    if time.perf_counter() > deadline:
        proc.kill()
        pid, status, usage = os.wait4(proc.pid, 0)
        break
    time.sleep(0.002)
seconds = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    json.dump({"seconds": seconds, "status": os.waitstatus_to_exitcode(status), "maxrss_kib": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""


def run(cmd: list[str], timeout: float = 1800) -> dict[str, Any]:
    """Run ``cmd``: wall and CPU seconds, peak RSS in MiB (its own ru_maxrss), stdout, stderr; raise if it fails."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-run-") as tmp:
        report, out, err = Path(tmp) / "run.json", Path(tmp) / "stdout", Path(tmp) / "stderr"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run([sys.executable, "-c", _LAUNCHER, str(report), str(timeout), *cmd], stdout=stdout,
                           stderr=stderr, env=bench_env(), cwd=PROJECT_ROOT, check=True, timeout=timeout + 60)
        result = json.loads(report.read_text())
        done = {"seconds": result["seconds"], "cpu_s": result["cpu_s"], "status": result["status"],
                "peak_rss_mib": result["maxrss_kib"] / 1024,
                "stdout": out.read_text("utf-8", "replace"), "stderr": err.read_text("utf-8", "replace")}
    if done["status"] != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {done['status']}: {done['stderr'][-2000:]}")
    return done


def worker(*args: str) -> list[str]:
    """The command that runs one of the bench's workers (``python -m bench …``) in a fresh interpreter."""
    return [sys.executable, "-m", "bench", *args]


def eval_questions() -> list[dict[str, Any]]:
    """Every eval question: ``{"question", "first" (a follow-up's first question or None), "lang"}``."""
    from qa.evaluation import CATEGORIES, load_items

    return [{"question": item.get("question") or item["followup"], "first": item.get("first"), "lang": item["lang"]}
            for _category, item in load_items(EVAL_DATA, CATEGORIES)]


def free_port() -> int:
    """A TCP port free on the loopback address just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    """Wait until ``url`` answers 200; raise if ``proc`` exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"qa chat exited with status {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError) as err:
            last = err  # not serving yet; asked again below
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s (last: {last})")


def proc_status_kib(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB (``VmRSS``, ``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)
