"""Plots bench/client_only.json as bench/client_only.png: each program's wall time at the
tenant size measured, against the curl floor and the 1.5x target (issue 13).

Usage: python bench/plot_client_only.py   (with matplotlib; bench/run.sh --client-only runs it)
"""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent


def main():
    results = json.loads((HERE / "client_only.json").read_text())
    programs = results["programs"]
    names = list(programs)
    walls = [programs[n]["wall_ms"] for n in names]
    floor = programs[names[0]]["wall_ms"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bars = ax.barh(names[::-1], walls[::-1], color="#4c72b0")
    for bar, wall in zip(bars, walls[::-1]):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {wall:.0f} ms ({wall / floor:.2f}x)",
                va="center", fontsize=8)
    ax.axvline(floor * 1.5, color="#c44e52", linestyle="--", label="1.5x the curl floor (target)")
    ax.set_xscale("log")
    ax.set_xlabel("wall time, ms (median, log scale)")
    title = f"GET /users at {results['users']:,} users, client work only"
    one = results.get("one_core")
    if one:
        # curl runs on one thread and discover on three: held to one CPU, the ratio is the
        # two programs' work (BENCHMARKS.md).
        title += (f"\neach held to one CPU: curl {one['curl_ms']:.0f} ms, "
                  f"discover json {one['discover_ms']:.0f} ms ({one['ratio']:.2f}x)")
        if "table_ms" in one:
            title += f", table {one['table_ms']:.0f} ms ({one['table_ratio']:.2f}x)"
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "client_only.png", dpi=110)


if __name__ == "__main__":
    main()
