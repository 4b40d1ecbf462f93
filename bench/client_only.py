"""Client-only figures at tenant size: the emulator's own work taken out.

Usage (bench/run.sh --client-only sets it up):
    python3 bench/client_only.py BINARY BASELINE_PYTHON [USERS] [ROUNDS] [CREDENTIALS]

The emulator serves `GET /users` from an answer it has built and gzipped once (until a user
changes), so after one warm-up request every program below pays only for the transfer and its
own work. Measured, interleaved, ROUNDS times each (medians):
  - the floor: `curl --compressed` fetching the same answer to /dev/null (transfer + gunzip);
  - tenable-rotate `check` (the gateway's stdin payload; finds the last user of the list);
  - tenable-rotate `discover` to /dev/null, in each format: `--output json`, the aligned table
    (the default) and `--output csv` (every user judged and printed; one untimed JSON run
    first, read whole, checks that every user is listed);
  - pyTenable `TenableIO(...).users.list()`, the whole process (interpreter start included),
    and the list call alone as the process reports it.
Wall time from spawn to exit, CPU (user + system) from wait4 on GNU time, peak RSS from GNU
time's %M. Then, against an emulator seeded with CREDENTIALS (default 50 000) TVM managed
credentials, one `discover --output json` (a list page per 200, one details request each):
wall time and peak RSS. Prints Markdown tables and writes bench/client_only.json.

Before each timed curl and discover run, a probe asks how many cores' worth of CPU the machine
gives two busy processes at that moment (`cores_now`): on a shared host a two-core machine at
times runs two processes at half speed each, as if it had one core. curl works on one core;
discover spreads its work over three threads, so its ratio to curl depends on that. Each round's
ratio (discover over curl) is reported with the two probes before it, and the medians of the
rounds where both probes saw two cores, and where both saw about one (the JSON runs; the
table and CSV runs are timed without probes). Then ROUNDS more rounds of curl, discover's JSON
and its table alone, each held to one CPU (`taskset`, the first CPU this script may use) with
the emulator on the others: the ratio on one core, which the programs' instruction counts set.
"""

import base64
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import ACCESS, SECRET, TIME, gateway_line  # noqa: E402

DISCOVER = "tenable-rotate discover --output json"
DISCOVER_TABLE = "tenable-rotate discover (table, the default)"
DISCOVER_CSV = "tenable-rotate discover --output csv"

PYTENABLE_LIST = """
import sys, time
from tenable.io import TenableIO
tio = TenableIO(access_key=sys.argv[1], secret_key=sys.argv[2], url=sys.argv[3])
start = time.perf_counter()
users = tio.users.list()
print(len(users), time.perf_counter() - start)
"""


def measured(argv, stdin=b"", env=None, keep_output=True):
    """(wall s, peak RSS KiB, stdout) of one process run under GNU time. Without keep_output
    the program writes to /dev/null, as curl does, and stdout comes back empty: reading 82 MB
    through a pipe would time this script's reading too, on the same two cores."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        proc = subprocess.Popen([TIME, "-o", report.name, "-f", "%M", *argv],
                                stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        out, err = proc.communicate(stdin)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err.decode()[-300:]}")
        rss = int(report.read().split()[-1])
    return wall, rss, out


PROBE_LOOPS = 600_000


def _spin(start, report):
    """A fixed piece of pure-Python work, timed from inside (no process start in it)."""
    start.wait()
    begin = time.perf_counter()
    x = 0
    for i in range(PROBE_LOOPS):
        x += i
    report.put(time.perf_counter() - begin)


def cores_now():
    """Cores' worth of CPU for two busy processes now: 2 * (time alone) / (mean time of two at
    once). About 2.0 on two free cores, about 1.0 when the two share one core's time."""
    ctx = multiprocessing.get_context("fork")

    def run(count):
        start, report = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_spin, args=(start, report)) for _ in range(count)]
        for p in procs:
            p.start()
        start.set()
        times = [report.get() for _ in procs]
        for p in procs:
            p.join()
        return statistics.mean(times)

    alone = run(1)
    return 2 * alone / run(2)


def cpu_of(argv, stdin=b"", env=None):
    """Runs once more under wait4 to read user + system CPU of the process tree."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    proc.stdin.write(stdin)
    proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, argv
    return usage.ru_utime + usage.ru_stime


def main():
    binary, baseline_python = sys.argv[1], sys.argv[2]
    users = int(sys.argv[3]) if len(sys.argv) > 3 else 200_000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    emulator = subprocess.Popen([binary, "emulator", "--access-key", ACCESS, "--secret-key", SECRET,
                                 "--seed-users", str(users)], stdout=subprocess.PIPE, text=True)
    try:
        url = emulator.stdout.readline().split()[-1]
        header = f"X-ApiKeys: accessKey={ACCESS}; secretKey={SECRET};"
        # Warm-up: the emulator builds and compresses the answer once.
        req = urllib.request.Request(f"{url}/users", headers={"X-ApiKeys": header.split(": ", 1)[1],
                                                              "Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req) as reply:
            size_gz = len(reply.read())
        env = {**os.environ, "TENABLE_ACCESS_KEY": ACCESS, "TENABLE_SECRET_KEY": SECRET}
        last = f"user{users - 1}@example.com"
        line = gateway_line(url, "Unused-Passw0rd!1", "Unused-Passw0rd!0")
        # The payload's user is the last one in the list.
        payload = json.loads(base64.b64decode(line))
        payload["user"] = last
        stdin = (base64.b64encode(json.dumps(payload).encode()).decode() + "\n").encode()
        programs = {
            "curl --compressed (floor)": (["curl", "-s", "--compressed", "-o", "/dev/null", "-H", header,
                                            f"{url}/users"], b""),
            "tenable-rotate check": ([binary, "check"], stdin),
            DISCOVER: ([binary, "discover", "--url", url, "--output", "json"], b""),
            DISCOVER_TABLE: ([binary, "discover", "--url", url], b""),
            DISCOVER_CSV: ([binary, "discover", "--url", url, "--output", "csv"], b""),
            "pyTenable users.list()": ([baseline_python, "-c", PYTENABLE_LIST, ACCESS, SECRET, url], b""),
        }
        samples = {name: [] for name in programs}
        inner = []
        probed = {name: [] for name in programs}
        names = list(programs)
        # Once, read whole: discover lists every user, then the timed runs write to /dev/null.
        _, _, out = measured(programs[DISCOVER][0], b"", env)
        assert json.loads(out)["counts"]["users"] == users + 1  # and the API user
        for i in range(rounds):
            for name in names if i % 2 == 0 else reversed(names):
                argv, data = programs[name]
                if name in (names[0], DISCOVER):
                    probed[name].append(cores_now())
                wall, rss, out = measured(argv, data, env, keep_output=name.startswith("pyTenable"))
                samples[name].append((wall, rss))
                if name.startswith("pyTenable"):
                    count, seconds = out.decode().split()
                    assert int(count) == users + 1, count  # and the API user
                    inner.append(float(seconds))
        cpu = {name: statistics.median(cpu_of(argv, data, env) for _ in range(3))
               for name, (argv, data) in programs.items()}
        one_core = on_one_core(emulator.pid, [programs[n] for n in (names[0], DISCOVER, DISCOVER_TABLE)],
                               env, rounds)
    finally:
        emulator.kill()
        emulator.wait()
    floor = statistics.median(s[0] for s in samples[names[0]])
    results = {"users": users, "rounds": rounds, "gzip_bytes": size_gz, "programs": {}}
    rows = ["| program | wall ms (median) | x curl floor | CPU ms | peak RSS MiB |",
            "| --- | ---: | ---: | ---: | ---: |"]
    for name in names:
        wall = statistics.median(s[0] for s in samples[name])
        rss = statistics.median(s[1] for s in samples[name]) / 1024
        results["programs"][name] = {"wall_ms": wall * 1000, "cpu_ms": cpu[name] * 1000,
                                     "rss_mib": rss, "x_floor": wall / floor}
        rows.append(f"| {name} | {wall * 1000:.0f} | {wall / floor:.2f}x | {cpu[name] * 1000:.0f} | {rss:.1f} |")
    results["pytenable_list_call_ms"] = statistics.median(inner) * 1000
    results["rounds_by_cores"] = by_cores(samples, probed, names[0], DISCOVER)
    results["one_core"] = one_core
    rows.append(f"| pyTenable users.list() call alone (in process) | {results['pytenable_list_call_ms']:.0f} | "
                f"{statistics.median(inner) / floor:.2f}x | | |")
    credentials = int(sys.argv[5]) if len(sys.argv) > 5 else 50_000
    results["credentials"] = credential_scale(binary, credentials)
    (HERE / "client_only.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(rows))
    print("\n| round | cores before curl | cores before discover | discover / curl |\n| ---: | ---: | ---: | ---: |")
    for i, r in enumerate(results["rounds_by_cores"]["rounds"]):
        print(f"| {i + 1} | {r['cores_curl']:.2f} | {r['cores_discover']:.2f} | {r['ratio']:.2f}x |")
    for regime in ("two_cores", "one_core"):
        got = results["rounds_by_cores"][regime]
        ratio = f"{got['median_ratio']:.2f}x" if got["rounds"] else "-"
        print(f"rounds with {regime.replace('_', ' ')} (both probes): {got['rounds']}, median ratio {ratio}")
    print(f"on one CPU (taskset), {rounds} rounds: curl {one_core['curl_ms']:.0f} ms, "
          f"discover json {one_core['discover_ms']:.0f} ms ({one_core['ratio']:.2f}x), "
          f"table {one_core['table_ms']:.0f} ms ({one_core['table_ratio']:.2f}x)")
    c = results["credentials"]
    print(f"\n| discover, {credentials} credentials | wall s | peak RSS MiB |\n| --- | ---: | ---: |\n"
          f"| tenable-rotate discover --output json | {c['wall_s']:.1f} | {c['rss_mib']:.1f} |")


def on_one_core(emulator_pid, programs, env, rounds):
    """Medians of `rounds` interleaved runs of curl, discover's JSON and its table, each held to
    one CPU (the first this script may use), with the emulator moved to the other CPUs for the
    while."""
    one = min(os.sched_getaffinity(0))
    cpus = os.sched_getaffinity(emulator_pid)
    others = cpus - {one} or cpus
    tasks = [int(t) for t in os.listdir(f"/proc/{emulator_pid}/task")]
    for task in tasks:
        os.sched_setaffinity(task, others)
    try:
        walls = [[] for _ in programs]
        for i in range(rounds):
            order = range(len(programs)) if i % 2 == 0 else reversed(range(len(programs)))
            for k in order:
                argv, data = programs[k]
                walls[k].append(measured(["taskset", "-c", str(one), *argv], data, env, keep_output=False)[0])
    finally:
        for task in tasks:
            os.sched_setaffinity(task, cpus)
    curl, discover, table = (statistics.median(w) * 1000 for w in walls)
    return {"curl_ms": curl, "discover_ms": discover, "ratio": discover / curl,
            "table_ms": table, "table_ratio": table / curl}


def by_cores(samples, probed, floor_name, name):
    """Each round's ratio of `name` to the floor, with the probes before each; the median
    ratio of the rounds both probes saw as two cores (at least 1.7) and as one (at most 1.3)."""
    rounds = [{"cores_curl": pc, "cores_discover": pd, "ratio": s[0] / f[0]}
              for pc, pd, s, f in zip(probed[floor_name], probed[name], samples[name], samples[floor_name])]
    result = {"rounds": rounds}
    for regime, inside in (("two_cores", lambda c: c >= 1.7), ("one_core", lambda c: c <= 1.3)):
        picked = [r["ratio"] for r in rounds if inside(r["cores_curl"]) and inside(r["cores_discover"])]
        result[regime] = {"rounds": len(picked),
                          "median_ratio": statistics.median(picked) if picked else None}
    return result


def credential_scale(binary, count):
    """One discover over COUNT seeded TVM credentials: (wall s, peak RSS MiB)."""
    emulator = subprocess.Popen([binary, "emulator", "--access-key", ACCESS, "--secret-key", SECRET,
                                 "--seed-credentials", str(count)], stdout=subprocess.PIPE, text=True)
    try:
        url = emulator.stdout.readline().split()[-1]
        env = {**os.environ, "TENABLE_ACCESS_KEY": ACCESS, "TENABLE_SECRET_KEY": SECRET,
               "TENABLE_ROTATE_TIMEOUT": "900"}
        wall, rss, out = measured([binary, "discover", "--url", url, "--output", "json"], b"", env)
        listed = json.loads(out)["counts"]["credentials"]
        assert listed == count, listed
    finally:
        emulator.kill()
        emulator.wait()
    return {"count": count, "wall_s": wall, "rss_mib": rss / 1024}


if __name__ == "__main__":
    main()
