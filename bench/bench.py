"""Benchmarks tenable-rotate against the pyTenable baseline on one machine, one emulator.

Usage (bench/run.sh sets this up): python3 bench/bench.py BINARY BASELINE_PYTHON [--quick]

Measures, for each program, with the emulator on loopback:
  1. one rotation: wall time, CPU time (user + system) and peak RSS, from interleaved runs;
  2. start-up: process spawn to the first request byte at a loopback socket;
  3. installed size: the binary against the baseline's virtualenv;
  4. scale: one rotation in tenants of 10, 10 000 and 200 000 users (`--seed-users`);
  5. bulk: 1 000 rotations from a shell loop, through `rotate` and through the gateway pipe.
Prints the tables in Markdown, writes them to bench/results.json and the plot to
bench/scale.png. Figures are medians; ratios are baseline / tenable-rotate.
"""

import base64
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCESS, SECRET = "bench-access", "bench-secret"
USER = "alice@example.com"
FIRST_PASSWORD = "Bench-Passw0rd!0"
TIME = shutil.which("time", path="/usr/bin:/bin") or sys.exit("bench needs GNU time (Debian package `time`)")


class Emulator:
    """`tenable-rotate emulator` in a child process, with alice and N synthetic users."""

    def __init__(self, binary, seed_users=0):
        self.proc = subprocess.Popen(
            [binary, "emulator", "--access-key", ACCESS, "--secret-key", SECRET,
             "--user", f"{USER}:{FIRST_PASSWORD}", "--seed-users", str(seed_users)],
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on "), line
        self.url = line.split()[-1]
        self.password = FIRST_PASSWORD
        self.counter = 0

    def next_password(self):
        self.counter += 1
        return f"Bench-Passw0rd!{self.counter}"

    def requests(self):
        with urllib.request.urlopen(f"{self.url}/_emulator/stats") as reply:
            stats = json.load(reply)
        return sum(stats["requests"].values()), stats["applied"]

    def login(self, password):
        body = json.dumps({"username": USER, "password": password}).encode()
        req = urllib.request.Request(f"{self.url}/session", body,
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as reply:
                return reply.status == 200
        except urllib.error.HTTPError:
            return False

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def gateway_line(url, new, old):
    """The one base64 line the Keeper Gateway pipes, as in the demo and the tests."""
    records = [
        {"uid": "K", "title": "Tenable Authentication Record",
         "tenable_access_key": ACCESS, "tenable_secret_key": SECRET, "tenable_url": url},
        {"uid": "U", "title": "alice", "login": USER, "password": new},
    ]
    payload = {
        "providerRecordUid": "P", "resourceRecordUid": "", "userRecordUid": "U",
        "user": USER, "newPassword": new, "oldPassword": old,
        "records": base64.b64encode(json.dumps(records).encode()).decode(),
    }
    return base64.b64encode(json.dumps(payload).encode()).decode() + "\n"


def run_measured(argv, stdin_text):
    """Runs one process; returns (wall seconds, CPU seconds, peak RSS in KiB).

    Peak RSS comes from GNU time, not from this process's wait4: a child forked from Python
    starts with Python's resident pages counted in its high-water mark, which would hide a
    small program's own figure. time(1) is a small C program, so what it forks starts at a few
    hundred KiB. CPU comes from wait4 on time(1), which counts the program it waited for, in
    microseconds (time's own %U is in 10 ms steps).
    """
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-o", report.name, "-f", "%M", *argv],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        proc.stdin.write(stdin_text.encode())
        proc.stdin.close()
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err.decode().strip()[-300:]}")
        rss = int(report.read().split()[-1])
    return wall, usage.ru_utime + usage.ru_stime, rss


def rotate_once(emulator, argv):
    """Rotates alice to a fresh password with `argv`, then proves it logs in."""
    new = emulator.next_password()
    measured = run_measured(argv, gateway_line(emulator.url, new, emulator.password))
    emulator.password = new
    assert emulator.login(new), "the new password does not log in"
    return measured


def interleaved(emulator, programs, rounds):
    """Runs each program `rounds` times, alternating the order every round."""
    samples = {name: [] for name in programs}
    names = list(programs)
    for i in range(rounds):
        for name in names if i % 2 == 0 else reversed(names):
            samples[name].append(rotate_once(emulator, programs[name]))
    return samples


def medians(samples):
    return {
        "wall_ms": statistics.median(s[0] for s in samples) * 1000,
        "cpu_ms": statistics.median(s[1] for s in samples) * 1000,
        "rss_mib": statistics.median(s[2] for s in samples) / 1024,
        "runs": len(samples),
    }


def startup_to_first_request(argv):
    """Seconds from spawn to the first request byte at a listener that never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    proc.stdin.write(gateway_line(url, "Startup-Passw0rd!1", FIRST_PASSWORD).encode())
    proc.stdin.close()
    conn, _ = listener.accept()
    conn.recv(1)
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    conn.close()
    listener.close()
    return elapsed


def tree_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file() and not f.is_symlink())


def bulk(emulator, count, command_for, mode):
    """`count` rotations from one bash loop; returns (seconds, HTTP requests served)."""
    with tempfile.TemporaryDirectory() as tmp:
        lines = []
        for _ in range(count):
            new = emulator.next_password()
            lines.append((new, emulator.password))
            emulator.password = new
        inputs = Path(tmp, "inputs")
        if mode == "pipe":
            inputs.write_text("".join(gateway_line(emulator.url, n, o) for n, o in lines))
            script = f'while IFS= read -r line; do echo "$line" | {command_for} >/dev/null || exit 1; done < "$1"'
        else:
            inputs.write_text("".join(f"{n}\t{o}\n" for n, o in lines))
            script = (f'while IFS=$(printf "\\t") read -r new old; do '
                      f'TENABLE_NEW_PASSWORD="$new" TENABLE_OLD_PASSWORD="$old" {command_for} >/dev/null || exit 1; '
                      'done < "$1"')
        before, _ = emulator.requests()
        start = time.perf_counter()
        subprocess.run(["bash", "-c", script, "bulk", str(inputs)], check=True,
                       env={**os.environ, "TENABLE_ACCESS_KEY": ACCESS, "TENABLE_SECRET_KEY": SECRET})
        seconds = time.perf_counter() - start
        after, _ = emulator.requests()
    assert emulator.login(emulator.password), "the last password does not log in"
    return seconds, after - before


def main():
    binary, baseline_python = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    baseline_venv = Path(baseline_python).resolve().parent.parent
    programs = {
        "tenable-rotate": [binary],
        "pyTenable baseline": [baseline_python, str(HERE / "baseline_keeper_sample.py")],
    }
    version = subprocess.run([baseline_python, "-c", "import importlib.metadata as m; print(m.version('pytenable'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    results = {
        "machine": {
            "cpu": next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                         if l.startswith("model name")), platform.processor()),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "python": subprocess.run([baseline_python, "--version"], capture_output=True, text=True).stdout.strip(),
            "pytenable": version,
            "tenable_rotate": subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip(),
        }
    }
    rounds = 5 if quick else 30

    # 1. One rotation, interleaved, in a tenant of 10 users.
    emulator = Emulator(binary, seed_users=10)
    per_rotation = {k: medians(v) for k, v in interleaved(emulator, programs, rounds).items()}
    results["rotation"] = per_rotation
    print("one rotation:", json.dumps(per_rotation), flush=True)

    # 2. Start-up to the first request.
    startup = {name: [] for name in programs}
    for i in range(rounds):
        for name in programs if i % 2 == 0 else reversed(list(programs)):
            startup[name].append(startup_to_first_request(programs[name]))
    results["startup_ms"] = {k: statistics.median(v) * 1000 for k, v in startup.items()}
    print("start-up:", results["startup_ms"], flush=True)

    # 3. Installed size.
    results["installed_bytes"] = {"tenable-rotate": Path(binary).stat().st_size,
                                  "pyTenable baseline": tree_size(baseline_venv)}
    print("installed:", results["installed_bytes"], flush=True)

    # 5. Bulk, on the same 10-user tenant.
    count = 50 if quick else 1000
    results["bulk"] = {"rotations": count}
    for label, command, mode in [
        ("tenable-rotate rotate (shell loop)", f"{binary} rotate --url {emulator.url} --user {USER}", "rotate"),
        ("tenable-rotate (gateway pipe)", binary, "pipe"),
        ("pyTenable baseline (gateway pipe)",
         f"{baseline_python} {HERE / 'baseline_keeper_sample.py'}", "pipe"),
    ]:
        seconds, served = bulk(emulator, count, command, mode)
        results["bulk"][label] = {"seconds": seconds, "rotations_per_s": count / seconds,
                                  "http_requests": served, "requests_per_s": served / seconds}
        print("bulk:", label, results["bulk"][label], flush=True)
    emulator.stop()

    # 4. Scale.
    results["scale"] = {}
    for size in [10, 10_000, 200_000]:
        emulator = Emulator(binary, seed_users=size)
        samples = interleaved(emulator, programs, 3 if quick or size == 200_000 else 5)
        results["scale"][size] = {k: medians(v) for k, v in samples.items()}
        print("scale:", size, json.dumps(results["scale"][size]), flush=True)
        emulator.stop()

    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    plot(results)
    print(markdown(results))


def plot(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(s) for s in results["scale"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name, style in [("tenable-rotate", "o-"), ("pyTenable baseline", "s--")]:
        left.plot(sizes, [results["scale"][s][name]["wall_ms"] for s in sizes], style, label=name)
        right.plot(sizes, [results["scale"][s][name]["rss_mib"] for s in sizes], style, label=name)
    for ax, title, unit in [(left, "one rotation: wall time", "ms"), (right, "one rotation: peak RSS", "MiB")]:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("users in the tenant (GET /users)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    right.axhline(64, color="grey", linewidth=0.8, linestyle=":")
    fig.tight_layout()
    fig.savefig(HERE / "scale.png", dpi=110)


def markdown(r):
    ours, base = "tenable-rotate", "pyTenable baseline"
    out = ["| measure | tenable-rotate | pyTenable baseline | ratio |", "| --- | ---: | ---: | ---: |"]
    for key, label, fmt in [("wall_ms", "wall time per rotation (ms)", "{:.1f}"),
                            ("cpu_ms", "CPU time per rotation (ms)", "{:.1f}"),
                            ("rss_mib", "peak RSS (MiB)", "{:.1f}")]:
        a, b = r["rotation"][ours][key], r["rotation"][base][key]
        out.append(f"| {label} | {fmt.format(a)} | {fmt.format(b)} | {b / a:.1f}x |")
    a, b = r["startup_ms"][ours], r["startup_ms"][base]
    out.append(f"| start-up to first request (ms) | {a:.1f} | {b:.1f} | {b / a:.1f}x |")
    a, b = r["installed_bytes"][ours] / 2**20, r["installed_bytes"][base] / 2**20
    out.append(f"| installed size (MiB) | {a:.1f} | {b:.1f} | {b / a:.1f}x |")
    out += ["", "| users in tenant | tenable-rotate ms | baseline ms | ratio | tenable-rotate MiB | baseline MiB | ratio |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size, row in r["scale"].items():
        o, b = row[ours], row[base]
        out.append(f"| {int(size):,} | {o['wall_ms']:.1f} | {b['wall_ms']:.1f} | {b['wall_ms'] / o['wall_ms']:.1f}x"
                   f" | {o['rss_mib']:.1f} | {b['rss_mib']:.1f} | {b['rss_mib'] / o['rss_mib']:.1f}x |")
    out += ["", f"| {r['bulk']['rotations']} rotations | seconds | rotations/s | HTTP requests/s |", "| --- | ---: | ---: | ---: |"]
    for label, row in r["bulk"].items():
        if label != "rotations":
            out.append(f"| {label} | {row['seconds']:.1f} | {row['rotations_per_s']:.1f} | {row['requests_per_s']:.1f} |")
    return "\n".join(out)


if __name__ == "__main__":
    main()
