#!/usr/bin/env python3
"""Fails if Cargo.lock pins a crates.io version that has been yanked.

cargo-deny's `yanked` check runs inside its advisories check, which needs the RustSec database
from GitHub; this reads the same fact from cargo's own copy of the crates.io index instead
(~/.cargo/registry/index/*/.cache, refreshed by `cargo update --dry-run`), so it works wherever
crates.io does. Usage: scripts/check-yanked.py [Cargo.lock]
"""
import glob
import json
import os
import sys
import tomllib

CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index"


def cache_path(name: str) -> str:
    """The index's path for a crate name (cargo's layout: 1/, 2/, 3/a/, ab/cd/)."""
    n = name.lower()
    if len(n) <= 2:
        return f"{len(n)}/{n}"
    if len(n) == 3:
        return f"3/{n[0]}/{n}"
    return f"{n[:2]}/{n[2:4]}/{n}"


def entries(path: str):
    """The JSON entries of one cache file: a header, then `version NUL json NUL` pairs."""
    with open(path, "rb") as f:
        data = f.read()
    for chunk in data.split(b"\0"):
        if chunk.startswith(b"{"):
            try:
                yield json.loads(chunk)
            except ValueError:
                continue


def main() -> int:
    lock = sys.argv[1] if len(sys.argv) > 1 else "Cargo.lock"
    with open(lock, "rb") as f:
        packages = tomllib.load(f).get("package", [])
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    roots = glob.glob(os.path.join(home, "registry", "index", "*", ".cache"))
    yanked, unknown, checked = [], [], 0
    for p in packages:
        if p.get("source") != CRATES_IO:
            continue
        found = None
        for root in roots:
            path = os.path.join(root, cache_path(p["name"]))
            if os.path.exists(path):
                for e in entries(path):
                    if e.get("name", "").lower() == p["name"].lower() and e.get("vers") == p["version"]:
                        found = e
                        break
            if found:
                break
        if found is None:
            unknown.append(f"{p['name']} {p['version']}")
        elif found.get("yanked"):
            yanked.append(f"{p['name']} {p['version']}")
        else:
            checked += 1
    for crate in yanked:
        print(f"yanked: {crate} (run `cargo update -p {crate.split()[0]}`)")
    for crate in unknown:
        print(f"not in the local crates.io index, so not checked: {crate} (run `cargo update --dry-run` first)")
    print(f"yanked check: {checked} crates.io packages checked, {len(yanked)} yanked, {len(unknown)} not found")
    return 1 if yanked or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
