"""Runs Keeper's own three Tenable samples and tenable-rotate on the same gateway payloads.

For each sample (run verbatim from shared/vendor/keeper-pam-scripts, never copied): start a
fresh emulator, run the sample with the gateway's base64 line on stdin, check the state through
the emulator (the password changed, nothing else did), run it again; then the same with our
binary through the drop-in that replaces that sample (deploy/<sample>.sh), on a fresh emulator.
Any difference between the two is a bug in the emulator or the binary, and fails the run.

Usage (conformance/keeper_samples.sh sets it up):
    keeper_samples.py BINARY SAMPLES_DIR
The Python running this must have pyTenable and restfly<2, as the samples need.
"""

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import ssl

ACCESS, SECRET = "keeper-samples-access", "keeper-samples-secret"
OLD, NEW = "Old-Passw0rd!2024", "N3w-Passw0rd!2025"
VM_USER = "alice@example.com"
SC_USER = "bob"
CREDENTIAL = "svc-scan"  # the credential sample uses the payload's user as the credential NAME
OTHER = "Other-Passw0rd!2024"

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
failures = []


def check(name, condition, detail=""):
    print(f"{'ok  ' if condition else 'FAIL'}  {name}{'' if condition else ': ' + detail}")
    if not condition:
        failures.append(name)


def gateway_line(user, records):
    """The base64 line the Keeper Gateway pipes to a PAM script."""
    params = {
        "user": user,
        "newPassword": NEW,
        "oldPassword": OLD,
        "privatePEMKey": "",
        "recordUid": "UsrRecord0000000000000",
        "userRecordUid": "UsrRecord0000000000000",
        "records": base64.b64encode(json.dumps(records).encode()).decode(),
    }
    return base64.b64encode(json.dumps(params).encode()).decode() + "\n"


def key_record(extra):
    record = {
        "uid": "TnbKeysRecord000000000",
        "title": "Tenable Authentication Record",
        "tenable_access_key": ACCESS,
        "tenable_secret_key": SECRET,
    }
    record.update(extra)
    return record


class Emulator:
    """`tenable-rotate emulator` in the background; stopped on exit."""

    def __init__(self, binary, args):
        self.ca = None
        out = tempfile.NamedTemporaryFile("w+", delete=False)
        if "--tls" in args:
            self.ca = out.name + ".ca.pem"
            args = args + ["--write-ca", self.ca]
        self.proc = subprocess.Popen(
            [binary, "emulator", "--access-key", ACCESS, "--secret-key", SECRET] + args,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = None
        for _ in range(200):
            text = open(out.name).read()
            if text.startswith("listening on "):
                self.url = text.split()[2]
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        os.unlink(out.name)
        if self.url is None:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {self.proc.stderr.read().strip()}")

    def post(self, route, body):
        context = ssl.create_default_context(cafile=self.ca) if self.ca else None
        request = urllib.request.Request(
            f"{self.url}/_emulator/{route}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return json.load(answer)

    def stats(self):
        context = ssl.create_default_context(cafile=self.ca) if self.ca else None
        with urllib.request.urlopen(f"{self.url}/_emulator/stats", timeout=10, context=context) as a:
            return json.load(a)

    def password_is(self, platform, kind, name, password):
        body = {"platform": platform, "kind": kind, "name": name, "password": password}
        return self.post("password-is", body)["matches"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.ca and os.path.exists(self.ca):
            os.unlink(self.ca)


def run(command, line, env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TENABLE_", "TIO_"))}
    full.update(env)
    done = subprocess.run(command, input=line, capture_output=True, text=True, env=full, timeout=120)
    return done.returncode, done.stdout + done.stderr


def leaks(output):
    """The secrets that appear in a run's output (ours must print none)."""
    return [s for s in (NEW, OLD, OTHER, ACCESS, SECRET) if s in output]


# Each case: the sample, the emulator's seeds, the payload, how the sample is reached, and the
# state that must follow (platform, kind, name).
CASES = [
    {
        "sample": "tenable_io_user",
        "script": "update_tenable_user.py",
        "seeds": ["--user", f"{VM_USER}:{OLD}", "--credential", f"windows:{VM_USER}:svc:{OTHER}"],
        "user": VM_USER,
        "record": {},
        "changed": ("vm", "user", VM_USER),
        "untouched": ("vm", "credential", VM_USER, OTHER),
        "route": "PUT /users/{id}/chpasswd",
        "tls": False,
    },
    {
        "sample": "tenable_sc_user",
        "script": "update_tenablesc_user.py",
        "seeds": ["--sc-user", f"{SC_USER}:{OLD}", "--sc-credential", f"ssh:{SC_USER}:root:{OTHER}"],
        "user": SC_USER,
        "record": {"tenable_sc_host": "localhost"},
        "changed": ("sc", "user", SC_USER),
        "untouched": ("sc", "credential", SC_USER, OTHER),
        "route": "PATCH /rest/user/{id}",
        "tls": True,
    },
    {
        "sample": "tenable_credential_record",
        "script": "update_tenable_credential.py",
        "seeds": ["--user", f"{CREDENTIAL}:{OTHER}", "--credential", f"windows:{CREDENTIAL}:CORP\\svc-scan:{OLD}"],
        "user": CREDENTIAL,
        "record": {},
        "changed": ("vm", "credential", CREDENTIAL),
        "untouched": ("vm", "user", CREDENTIAL, OTHER),
        "route": "PUT /credentials/{uuid}",
        "tls": False,
    },
]


def one_side(case, command, binary, ours):
    """Runs `command` twice on a fresh emulator; returns (first, second, state) for comparison."""
    args = list(case["seeds"])
    if case["tls"]:
        args += ["--tls", "--listen", "127.0.0.1:443"]
    emulator = Emulator(binary, args)
    try:
        env = {"TIO_URL": emulator.url}
        if ours:
            env["TENABLE_ROTATE_BIN"] = binary
        if emulator.ca:
            env["REQUESTS_CA_BUNDLE"] = emulator.ca  # the sample (requests)
            env["TENABLE_CA_FILE"] = emulator.ca  # ours
        line = gateway_line(case["user"], [key_record(case["record"])])
        first = run(command, line, env)
        platform, kind, name = case["changed"]
        state = {
            "new password set": emulator.password_is(platform, kind, name, NEW),
            "old password gone": not emulator.password_is(platform, kind, name, OLD),
            "other object untouched": emulator.password_is(*case["untouched"]),
            "changes applied": emulator.stats()["applied"].get(case["route"], 0),
        }
        second = run(command, line, env)
        state["changes applied after re-run"] = emulator.stats()["applied"].get(case["route"], 0)
        state["still the new password"] = emulator.password_is(platform, kind, name, NEW)
        return first, second, state
    finally:
        emulator.stop()


def main(binary, samples_dir):
    python = sys.executable
    for case in CASES:
        name = case["sample"]
        sample = os.path.join(samples_dir, name, case["script"])
        drop_in = os.path.join(ROOT, "deploy", f"{name}.sh")
        try:
            theirs = one_side(case, [python, sample], binary, ours=False)
            ours = one_side(case, ["sh", drop_in], binary, ours=True)
        except RuntimeError as exc:
            if case["tls"] and "443" in str(exc):
                print(f"NOT CHECKED  {name}: cannot listen on 127.0.0.1:443 ({exc}); run as root or with CAP_NET_BIND_SERVICE")
                continue
            raise
        (s_code, s_out), (s2_code, s2_out), s_state = theirs
        (o_code, o_out), (o2_code, o2_out), o_state = ours
        check(f"{name}: the sample succeeds", s_code == 0, s_out.strip()[-500:])
        check(f"{name}: the sample changes the password and nothing else",
              s_state["new password set"] and s_state["old password gone"]
              and s_state["other object untouched"] and s_state["changes applied"] == 1,
              json.dumps(s_state))
        check(f"{name}: tenable-rotate (deploy/{name}.sh) succeeds", o_code == 0, o_out.strip())
        check(f"{name}: tenable-rotate leaves the same state as the sample",
              {k: v for k, v in o_state.items() if "re-run" not in k}
              == {k: v for k, v in s_state.items() if "re-run" not in k},
              f"sample {json.dumps(s_state)}, ours {json.dumps(o_state)}")
        check(f"{name}: tenable-rotate prints no secret", not leaks(o_out + o2_out), str(leaks(o_out + o2_out)))
        if case["changed"][1] == "user":
            # A user change is not idempotent in the sample: the re-run sends the old password,
            # which no longer matches (or the new one equals the current one), and fails.
            check(f"{name}: the sample's re-run fails", s2_code != 0, s2_out.strip()[-300:])
            check(f"{name}: tenable-rotate's re-run is already in sync (exit 0), nothing resent",
                  o2_code == 0 and "already in sync" in o2_out
                  and o_state["changes applied after re-run"] == 1,
                  f"exit {o2_code}: {o2_out.strip()} {json.dumps(o_state)}")
        else:
            # A credential has no password history: setting it again is harmless, for both.
            check(f"{name}: the sample's re-run sets the same password again", s2_code == 0, s2_out.strip()[-300:])
            check(f"{name}: tenable-rotate's re-run succeeds and keeps the new password",
                  o2_code == 0 and o_state["still the new password"], f"exit {o2_code}: {o2_out.strip()}")
        print(f"      sample re-run: exit {s2_code}; tenable-rotate re-run: exit {o2_code}: {o2_out.strip()}")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("Keeper's samples and tenable-rotate agree")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
