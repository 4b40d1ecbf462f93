"""Drives the tenable-rotate emulator with pyTenable itself.

If pyTenable cannot talk to the emulator, the emulator is wrong: this is the check that its
shapes and status codes match what the real client expects. Run by conformance/run.sh, which
starts the emulator with the seeds below and passes its URL as the only argument.

Every step asserts what pyTenable returned and, through the emulator's own view
(`POST /session`, `POST /rest/token`, `GET /_emulator/stats`), what changed.
"""

import sys
import warnings

import requests
from tenable.errors import APIError, UnauthorizedError
from tenable.io import TenableIO
from tenable.sc import TenableSC

# The same seeds as conformance/run.sh passes to the emulator.
ACCESS, SECRET = "conformance-access", "conformance-secret"
TVM_USER, SC_USER = "alice@example.com", "bob"
OLD, NEW = "Old-Passw0rd!xx", "New-Passw0rd!yy"
WIN_CRED, SSH_CRED = "Windows service", "Linux root"

warnings.simplefilter("ignore", DeprecationWarning)
failures = []


def step(name, check):
    """Runs one named check; records a failure instead of stopping at the first."""
    try:
        check()
        print(f"ok    {name}")
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none hidden
        failures.append(name)
        print(f"FAIL  {name}: {type(exc).__name__}: {exc}")


def tvm_login(url, username, password):
    return requests.post(
        f"{url}/session", json={"username": username, "password": password}, timeout=10
    ).status_code


def sc_login(url, username, password):
    return requests.post(
        f"{url}/rest/token", json={"username": username, "password": password}, timeout=10
    ).status_code


def stats(url):
    return requests.get(f"{url}/_emulator/stats", timeout=10).json()


def main(url):
    tio = TenableIO(access_key=ACCESS, secret_key=SECRET, url=url)
    state = {}

    def tvm_users_list():
        users = tio.users.list()
        names = [u["username"] for u in users]
        assert TVM_USER in names, names
        user = next(u for u in users if u["username"] == TVM_USER)
        assert isinstance(user["id"], int), user
        state["tvm_id"] = user["id"]

    def tvm_users_details():
        user = tio.users.details(state["tvm_id"])
        assert user["username"] == TVM_USER and user["id"] == state["tvm_id"], user

    def tvm_change_password_wrong_current():
        try:
            tio.users.change_password(state["tvm_id"], "Not-The-Passw0rd!", NEW)
        except APIError as exc:
            assert exc.code in (400, 403), exc.code
        else:
            raise AssertionError("a wrong current password was accepted")
        assert tvm_login(url, TVM_USER, OLD) == 200

    def tvm_change_password():
        assert tio.users.change_password(state["tvm_id"], OLD, NEW) is None
        assert tvm_login(url, TVM_USER, NEW) == 200
        assert tvm_login(url, TVM_USER, OLD) == 401

    def tvm_credentials_list():
        creds = list(tio.credentials.list(("name", "eq", WIN_CRED)))
        assert [c["name"] for c in creds] == [WIN_CRED], creds
        assert creds[0]["type"]["id"] == "Windows", creds[0]
        state["win_uuid"] = creds[0]["uuid"]
        everything = list(tio.credentials.list())
        assert len(everything) == 2, everything

    def tvm_credentials_details():
        cred = tio.credentials.details(state["win_uuid"])
        assert cred["name"] == WIN_CRED, cred
        assert cred["settings"]["username"] == "svc-scan", cred
        assert cred["settings"]["password"] == "********", "secrets are masked"

    def tvm_credentials_edit():
        before = stats(url)["applied"].get("PUT /credentials/{uuid}", 0)
        assert tio.credentials.edit(state["win_uuid"], password=NEW) is True
        after = stats(url)["applied"].get("PUT /credentials/{uuid}", 0)
        assert after == before + 1, (before, after)
        cred = tio.credentials.details(state["win_uuid"])
        assert cred["settings"]["username"] == "svc-scan", "other settings kept"

    def tvm_bad_keys():
        bad = TenableIO(access_key=ACCESS, secret_key="wrong", url=url)
        try:
            bad.users.list()
        except UnauthorizedError:
            pass
        else:
            raise AssertionError("wrong keys were accepted")

    for name, check in [
        ("TenableIO users.list", tvm_users_list),
        ("TenableIO users.details", tvm_users_details),
        ("TenableIO users.change_password, wrong current password", tvm_change_password_wrong_current),
        ("TenableIO users.change_password", tvm_change_password),
        ("TenableIO credentials.list", tvm_credentials_list),
        ("TenableIO credentials.details", tvm_credentials_details),
        ("TenableIO credentials.edit", tvm_credentials_edit),
        ("TenableIO wrong keys", tvm_bad_keys),
    ]:
        step(name, check)

    sc = TenableSC(url=url, access_key=ACCESS, secret_key=SECRET)

    def sc_version():
        assert sc.version and sc.version.split(".")[0].isdigit(), sc.version

    def sc_users_list():
        users = sc.users.list(fields=["id", "username"])
        user = next(u for u in users if u["username"] == SC_USER)
        assert isinstance(user["id"], str), "SC ids are strings"
        state["sc_id"] = int(user["id"])

    def sc_users_details():
        user = sc.users.details(state["sc_id"])
        assert user["username"] == SC_USER, user

    def sc_users_edit():
        user = sc.users.edit(state["sc_id"], password=NEW)
        assert user["username"] == SC_USER, user
        assert sc_login(url, SC_USER, NEW) == 200
        assert sc_login(url, SC_USER, OLD) != 200

    def sc_credentials_list():
        creds = sc.credentials.list(fields=["id", "name", "type"])
        manageable = {c["name"]: c for c in creds["manageable"]}
        assert SSH_CRED in manageable, creds
        assert manageable[SSH_CRED]["type"] == "ssh"
        state["ssh_id"] = int(manageable[SSH_CRED]["id"])

    def sc_credentials_details():
        cred = sc.credentials.details(state["ssh_id"])
        assert cred["name"] == SSH_CRED and cred["typeFields"]["username"] == "root", cred
        assert cred["typeFields"]["password"] != OLD, "secrets are not returned"

    def sc_credentials_edit():
        before = stats(url)["applied"].get("PATCH /rest/credential/{id}", 0)
        cred = sc.credentials.edit(state["ssh_id"], password=NEW)
        assert cred["name"] == SSH_CRED, cred
        after = stats(url)["applied"].get("PATCH /rest/credential/{id}", 0)
        assert after == before + 1, (before, after)

    def sc_bad_keys():
        bad = TenableSC(url=url, access_key=ACCESS, secret_key="wrong")
        try:
            bad.users.list()
        except APIError as exc:
            assert exc.code in (401, 403), exc.code
        else:
            raise AssertionError("wrong keys were accepted")

    for name, check in [
        ("TenableSC version (GET /rest/system)", sc_version),
        ("TenableSC users.list", sc_users_list),
        ("TenableSC users.details", sc_users_details),
        ("TenableSC users.edit password", sc_users_edit),
        ("TenableSC credentials.list", sc_credentials_list),
        ("TenableSC credentials.details", sc_credentials_details),
        ("TenableSC credentials.edit", sc_credentials_edit),
        ("TenableSC wrong keys", sc_bad_keys),
    ]:
        step(name, check)

    if failures:
        print(f"{len(failures)} pyTenable check(s) failed: {', '.join(failures)}")
        return 1
    print("pyTenable talks to the emulator: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
