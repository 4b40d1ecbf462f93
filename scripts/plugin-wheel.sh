#!/usr/bin/env bash
# Builds the tenable-rotate Python wheel (plugin/pyproject.toml: maturin, bindings = "bin") with
# the static musl binary inside, installs it into a FRESH virtualenv together with Keeper's
# SaaS plugin framework (the kdnrm wheel in ../shared/vendor/keeper-saas-dev/dist), and runs
# the Keeper SaaS plugin's tests (plugin/tenable_passwords_test.py) there with coverage: the
# binary under test is the one the wheel put in the virtualenv, not the build tree's.
#
# Usage: scripts/plugin-wheel.sh [--build-only]
# Output: target/wheels/tenable_rotate-VERSION-py3-none-manylinux...musllinux...whl
# Needs: Python 3.8+ with venv; installs maturin and pytest from PyPI into virtualenvs under
# target/, musl-tools from Debian (as scripts/release.sh does), and the musl rustup target.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
keeper_wheel="$root/../shared/vendor/keeper-saas-dev/dist/keeper_pam_saas_plugin_dev-1.0.0-py3-none-any.whl"
target=x86_64-unknown-linux-musl
python="${PYTHON:-python3}"
export PYTHONDONTWRITEBYTECODE=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v musl-gcc >/dev/null; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi
rustup target add "$target" >/dev/null
export CC_x86_64_unknown_linux_musl=musl-gcc

# maturin, pinned, in a build virtualenv of its own.
build_venv="target/plugin-build-venv"
[ -x "$build_venv/bin/maturin" ] || {
    "$python" -m venv "$build_venv"
    "$build_venv/bin/pip" install --quiet "maturin==1.16.0"
}
rm -f target/wheels/tenable_rotate-*.whl
# One wheel for glibc and musl Linux alike: the binary is static, so both tags are true.
(cd plugin && "../$build_venv/bin/maturin" build --profile dist --locked --quiet \
    --target "$target" --compatibility manylinux2014 musllinux_1_2 --out ../target/wheels)
wheel="$(ls target/wheels/tenable_rotate-*.whl)"
echo "built $wheel"
[ "${1:-}" = "--build-only" ] && exit 0

# A fresh virtualenv: the wheel, Keeper's framework, the test tools.
venv="target/plugin-test-venv"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet "$wheel" "$keeper_wheel" -r plugin/requirements_test.txt
echo "installed: $("$venv/bin/tenable-rotate" --version)"

# The tests run from a copy of the plugin's files, so that nothing from the build tree
# (target/, the source) is on the path, and the tree is left as it was.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp plugin/tenable_passwords.py plugin/tenable_passwords_test.py "$work/"
(
    cd "$work"
    PATH="$root/$venv/bin:/usr/bin:/bin" TENABLE_ROTATE_EXPECT_WHEEL=1 COVERAGE_FILE="$work/.coverage" \
        "$root/$venv/bin/python" -m pytest -p no:cacheprovider -q tenable_passwords_test.py \
        --cov=tenable_passwords --cov-report=term --cov-fail-under=70
)
