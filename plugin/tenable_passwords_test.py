"""Tests for the Tenable SaaS plugin, driven through Keeper's own classes (SaasUser,
MockRecord, Secret) against tenable-rotate's built-in Tenable emulator, on both platforms
(Vulnerability Management, Security Center) and both targets (user, managed credential).

The binary is the one the tenable-rotate wheel installed next to this Python (the plugin's
own lookup); with TENABLE_ROTATE_EXPECT_WHEEL=1 (as scripts/plugin-test.sh sets) a test
proves it is the wheel's and not the build tree's. Every test checks the emulator's state
afterwards: which password it holds (through a login, or its password-is control route) and
how many changes it applied.
"""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import unittest
import urllib.error
import urllib.request
from typing import List, Optional

from kdnrm.exceptions import SaasException
from kdnrm.log import Log
from kdnrm.saas_type import SaasUser
from kdnrm.secret import Secret
from plugin_dev.test_base import MockRecord

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tenable_passwords  # noqa: E402
from tenable_passwords import SaasPlugin  # noqa: E402

ACCESS = "a" * 64
SECRET = "b" * 64
OLD = "Old-Passw0rd!2024"
NEW = "New-Passw0rd!2025"
VM_USER = "alice@example.com"
SC_USER = "alice"
ACCOUNT = "CORP\\svc-scan"
CREDENTIAL = "AD scan"

BINARY = tenable_passwords.installed_binary()


class Emulator:
    """`tenable-rotate emulator` as a child process; stopped by stop()."""

    def __init__(self, *args: str, tls: bool = False):
        self.tmp = tempfile.TemporaryDirectory()
        argv = [BINARY, "emulator", "--access-key", ACCESS, "--secret-key", SECRET, *args]
        self.ca_file = None
        if tls:
            self.ca_file = os.path.join(self.tmp.name, "ca.pem")
            argv += ["--tls", "--write-ca", self.ca_file]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line[len("listening on "):]
        self.context = ssl.create_default_context(cafile=self.ca_file) if tls else None

    @property
    def ca_pem(self) -> str:
        with open(self.ca_file, encoding="utf-8") as fh:
            return fh.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()
        self.tmp.cleanup()

    def _call(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.context) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, None

    def password_is(self, platform: str, kind: str, name: str, password: str) -> bool:
        status, body = self._call("POST", "/_emulator/password-is", {
            "platform": platform, "kind": kind, "name": name, "password": password})
        assert status == 200, status
        return body["matches"]

    def login(self, platform: str, user: str, password: str) -> bool:
        """A real login, as a person would: POST /session (VM) or /rest/token (SC)."""
        path = "/rest/token" if platform == "sc" else "/session"
        status, _ = self._call("POST", path, {"username": user, "password": password})
        return status == 200

    def sent(self, route: str) -> int:
        _, body = self._call("GET", "/_emulator/stats")
        return body["requests"].get(route, 0)

    def applied(self, route: str) -> int:
        _, body = self._call("GET", "/_emulator/stats")
        return body["applied"].get(route, 0)

    def requests(self) -> int:
        _, body = self._call("GET", "/_emulator/stats")
        return sum(body["requests"].values())

    def arm(self, *specs: str):
        status, _ = self._call("POST", "/_emulator/faults", list(specs))
        assert status == 200

    def configure(self, **settings):
        status, _ = self._call("POST", "/_emulator/config", settings)
        assert status == 200


def field(label: str, value: str, kind: str = "text") -> dict:
    return {"type": kind, "label": label, "value": [value]}


def make_plugin(fields: List[dict], username: str = VM_USER, new: Optional[str] = NEW,
                prior: Optional[str] = OLD) -> SaasPlugin:
    user = SaasUser(
        username=Secret(username),
        new_password=Secret(new) if new is not None else None,
        prior_password=Secret(prior) if prior is not None else None,
    )
    return SaasPlugin(user=user, config_record=MockRecord(title="Tenable Config", custom=fields))


@unittest.skipIf(BINARY is None, "tenable-rotate is not installed (install the wheel)")
class Case(unittest.TestCase):
    """One platform and target; the four subclasses below run every test on each."""

    platform = "vm"
    target = "user"
    __test__ = False

    def setUp(self):
        Log.init()
        Log.set_log_level("DEBUG")
        SaasPlugin.RETRY_PAUSE = 0.05
        self.emulators = []

    def tearDown(self):
        for e in self.emulators:
            e.stop()

    # The account as the PAM User's login, and the emulator's seed for it.
    @property
    def username(self) -> str:
        if self.target == "credential":
            return ACCOUNT
        return SC_USER if self.platform == "sc" else VM_USER

    @property
    def name(self) -> str:
        """The object to check: the user, or the credential's name."""
        return CREDENTIAL if self.target == "credential" else self.username

    @property
    def change_route(self) -> str:
        return {
            ("vm", "user"): "PUT /users/{id}/chpasswd",
            ("vm", "credential"): "PUT /credentials/{uuid}",
            ("sc", "user"): "PATCH /rest/user/{id}",
            ("sc", "credential"): "PATCH /rest/credential/{id}",
        }[(self.platform, self.target)]

    @property
    def fault_prefix(self) -> str:
        return {
            ("vm", "user"): "PUT /users",
            ("vm", "credential"): "PUT /credentials",
            ("sc", "user"): "PATCH /rest/user",
            ("sc", "credential"): "PATCH /rest/credential",
        }[(self.platform, self.target)]

    def emulator(self, password: str = OLD, *extra: str, tls: bool = False) -> Emulator:
        seed = {
            ("vm", "user"): ["--user", f"{VM_USER}:{password}"],
            ("sc", "user"): ["--sc-user", f"{SC_USER}:{password}"],
            ("vm", "credential"): ["--credential", f"windows:{CREDENTIAL}:{ACCOUNT}:{password}"],
            ("sc", "credential"): ["--sc-credential", f"windows:{CREDENTIAL}:{ACCOUNT}:{password}"],
        }[(self.platform, self.target)]
        e = Emulator(*seed, *extra, tls=tls)
        self.emulators.append(e)
        return e

    def fields(self, e: Emulator, secret_key: str = SECRET, **extra) -> List[dict]:
        values = {"Tenable Target": self.target}
        if self.platform == "sc":
            values["Tenable SC Host"] = e.url
        else:
            values["Tenable URL"] = e.url
        if self.target == "credential":
            values["Tenable Credential Name"] = CREDENTIAL
        values.update(extra)
        return [field("Tenable Access Key", ACCESS, "secret"),
                field("Tenable Secret Key", secret_key, "secret")] + [
            field(label, value) for label, value in values.items()]

    def plugin(self, e: Emulator, new: str = NEW, prior: Optional[str] = OLD,
               username: Optional[str] = None, **kw) -> SaasPlugin:
        return make_plugin(self.fields(e, **kw), username=username or self.username,
                           new=new, prior=prior)

    def holds(self, e: Emulator, password: str, login: bool = True) -> bool:
        """Whether Tenable holds `password`; by a login where faults do not stand in the way."""
        if self.target == "user" and login:
            # Proven the way a person would: a login.
            return e.login(self.platform, self.name, password)
        return e.password_is(self.platform, self.target, self.name, password)

    # ----------------------------------------------------------------------------------

    def test_change(self):
        e = self.emulator()
        p = self.plugin(e)
        p.change_password()
        self.assertEqual("changed", p.last_state)
        self.assertTrue(self.holds(e, NEW))
        self.assertFalse(self.holds(e, OLD))
        self.assertEqual(1, e.applied(self.change_route))

    def test_rerun_is_already_in_sync(self):
        e = self.emulator()
        self.plugin(e).change_password()
        again = self.plugin(e)
        again.change_password()
        self.assertTrue(self.holds(e, NEW))
        if self.target == "user":
            # Tenable refused the same password; a login proved it was already set.
            self.assertEqual("in-sync", again.last_state)
            self.assertEqual(1, e.applied(self.change_route))
        else:
            # A credential is set to the same value again: harmless.
            self.assertEqual("changed", again.last_state)
            self.assertEqual(2, e.sent(self.change_route))

    def test_rollback(self):
        e = self.emulator()
        p = self.plugin(e)
        p.change_password()
        if self.platform == "vm" and self.target == "user":
            self.assertFalse(p.can_rollback)
            before = e.requests()
            with self.assertRaises(SaasException) as ctx:
                p.rollback_password()
            self.assertIn("refuses a current or former password", str(ctx.exception))
            self.assertIn("Tenable holds the new password", str(ctx.exception))
            self.assertEqual(before, e.requests(), "nothing was sent")
            self.assertTrue(self.holds(e, NEW))
            return
        self.assertTrue(p.can_rollback)
        p.rollback_password()
        self.assertTrue(self.holds(e, OLD))
        self.assertFalse(self.holds(e, NEW))
        self.assertEqual(2, e.applied(self.change_route))

    def test_rollback_in_a_new_instance(self):
        """The gateway may build a fresh plugin for the rollback: it must not rely on state."""
        if self.platform == "vm" and self.target == "user":
            self.skipTest("no rollback for Vulnerability Management users")
        e = self.emulator()
        self.plugin(e).change_password()
        self.plugin(e).rollback_password()
        self.assertTrue(self.holds(e, OLD))

    def test_rollback_refused_states_the_truth(self):
        """The prior password cannot be set back: the exception says Tenable holds the new."""
        if self.platform == "vm" and self.target == "user":
            self.skipTest("covered by test_rollback: never attempted")
        if self.target == "user":
            # Security Center refuses the prior password by its policy (too weak now).
            weak = "weakpass"
            e = self.emulator(weak)
            p = self.plugin(e, prior=weak)
            p.change_password()
            with self.assertRaises(SaasException) as ctx:
                p.rollback_password()
            self.assertIn("Tenable rejected the password", str(ctx.exception))
        else:
            # The API user lost the right to edit credentials between the two.
            e = self.emulator()
            p = self.plugin(e)
            p.change_password()
            e.configure(api_role="basic")
            with self.assertRaises(SaasException) as ctx:
                p.rollback_password()
            self.assertIn("lacks the rights", str(ctx.exception))
        self.assertIn("Tenable still holds the new (rotated) password", str(ctx.exception))
        self.assertTrue(self.holds(e, NEW))

    def test_rollback_unknown_is_never_success(self):
        if self.platform == "vm" and self.target == "user":
            self.skipTest("no rollback for Vulnerability Management users")
        e = self.emulator()
        p = self.plugin(e)
        p.change_password()
        # Every change answered 500 (not applied), and every proof login lost.
        e.arm(f"500@{self.fault_prefix}*2", "drop-before@POST /rest/token*20",
              "drop-before@POST /session*20")
        with self.assertRaises(SaasException) as ctx:
            p.rollback_password()
        self.assertIn("UNKNOWN", str(ctx.exception))
        self.assertTrue(self.holds(e, NEW, login=False))

    def test_keys_refused(self):
        e = self.emulator()
        p = self.plugin(e, secret_key="c" * 64)
        with self.assertRaises(SaasException) as ctx:
            p.change_password()
        message = str(ctx.exception)
        self.assertIn("refused the API keys", message)
        self.assertIn("the Tenable password was not changed", message)
        self.assertNotIn("c" * 64, message)
        self.assertTrue(self.holds(e, OLD))
        self.assertEqual(0, e.applied(self.change_route))

    def test_rights_missing(self):
        e = self.emulator("%s" % OLD, "--api-role", "basic")
        with self.assertRaises(SaasException) as ctx:
            self.plugin(e).change_password()
        if self.platform == "sc" and self.target == "user":
            # A Security Center Auditor sees only itself: the user is not found.
            self.assertIn("was not found", str(ctx.exception))
        else:
            self.assertIn("lacks the rights", str(ctx.exception))
        self.assertTrue(self.holds(e, OLD))

    def test_not_found(self):
        e = self.emulator()
        p = self.plugin(e, username="nobody" if self.target == "user" else ACCOUNT,
                        **({"Tenable Credential Name": "No such credential"}
                           if self.target == "credential" else {}))
        with self.assertRaises(SaasException) as ctx:
            p.change_password()
        self.assertIn("was not found", str(ctx.exception))
        self.assertEqual(0, e.applied(self.change_route))
        self.assertTrue(self.holds(e, OLD))

    def test_rejected_then_rollback_has_nothing_to_undo(self):
        if self.target == "credential":
            self.skipTest("credentials have no password policy to reject with")
        e = self.emulator()
        p = self.plugin(e, new="short")
        with self.assertRaises(SaasException) as ctx:
            p.change_password()
        self.assertIn("Tenable rejected the password", str(ctx.exception))
        self.assertEqual("not-changed", p.last_state)
        before = e.requests()
        p.rollback_password()  # proven: the prior password is still there
        self.assertEqual(before, e.requests())
        self.assertTrue(self.holds(e, OLD))

    def test_lost_answer_proven(self):
        """The connection drops after Tenable applied the change."""
        e = self.emulator()
        e.arm(f"drop-after@{self.fault_prefix}")
        p = self.plugin(e)
        p.change_password()
        self.assertTrue(self.holds(e, NEW))
        if self.target == "user":
            # One login with the new password proved it; the change was sent once.
            self.assertEqual(1, e.applied(self.change_route))
        else:
            # A credential cannot be read back: unknown, so the plugin ran it once more,
            # which set the same value and got a clear answer.
            self.assertEqual(2, e.sent(self.change_route))

    def test_lost_answer_unknown_is_never_success(self):
        e = self.emulator()
        # The change is applied but its answer lost, every time; and every login is lost
        # too, so nothing can prove where the password stands.
        e.arm(f"drop-after@{self.fault_prefix}*2", "drop-before@POST /session*20",
              "drop-before@POST /rest/token*20")
        p = self.plugin(e)
        with self.assertRaises(SaasException) as ctx:
            p.change_password()
        message = str(ctx.exception)
        self.assertIn("UNKNOWN", message)
        self.assertIn("rotating again is safe", message)
        self.assertEqual("unknown", p.last_state)
        self.assertTrue(self.holds(e, NEW, login=False), "it had landed, unknown to the plugin")
        # Users are not re-run (proof logins count towards Tenable's lockout); credentials
        # are, once.
        self.assertEqual(1 if self.target == "user" else 2, e.sent(self.change_route))


class VmUserTest(Case):
    __test__ = True
    platform, target = "vm", "user"


class VmCredentialTest(Case):
    __test__ = True
    platform, target = "vm", "credential"


class ScUserTest(Case):
    __test__ = True
    platform, target = "sc", "user"


class ScCredentialTest(Case):
    __test__ = True
    platform, target = "sc", "credential"


@unittest.skipIf(BINARY is None, "tenable-rotate is not installed (install the wheel)")
class ConfigTest(unittest.TestCase):
    """Bad config fields: each a clear SaasException, and nothing sent."""

    def setUp(self):
        Log.init()
        Log.set_log_level("DEBUG")
        self.e = Emulator("--user", f"{VM_USER}:{OLD}", "--sc-user", f"{SC_USER}:{OLD}")

    def tearDown(self):
        self.e.stop()

    def base(self, **extra) -> List[dict]:
        fields = {
            "Tenable Access Key": ACCESS,
            "Tenable Secret Key": SECRET,
            "Tenable URL": self.e.url,
        }
        fields.update(extra)
        return [field(k, v) for k, v in fields.items() if v is not None]

    def refused(self, fields: List[dict], *expected: str, at_start: bool = False) -> str:
        with self.assertRaises(SaasException) as ctx:
            make_plugin(fields).change_password()
        message = str(ctx.exception)
        for text in expected:
            self.assertIn(text, message)
        self.assertTrue(self.e.password_is("vm", "user", VM_USER, OLD), "not changed")
        self.assertEqual(0, self.e.requests(), "nothing was sent to Tenable")
        return message

    def test_requirements_name_the_wheel(self):
        self.assertEqual(["tenable-rotate"], SaasPlugin.requirements())

    def test_schema(self):
        schema = SaasPlugin.config_schema()
        labels = [item.label for item in schema]
        self.assertEqual(len(labels), len(set(labels)))
        secrets = {item.id for item in schema if item.is_secret}
        self.assertEqual({"tenable_access_key", "tenable_secret_key"}, secrets)
        required = {item.id for item in schema if item.required}
        self.assertEqual({"tenable_access_key", "tenable_secret_key"}, required)
        types = {item.id: item.type for item in schema}
        self.assertEqual("multiline", types["tenable_ca_pem"])
        self.assertEqual("enum", types["tenable_target"])

    def test_missing_key(self):
        self.refused(self.base(**{"Tenable Secret Key": None}), "Tenable Secret Key", "required")

    def test_bad_enum(self):
        self.refused(self.base(**{"Tenable Target": "users"}), "Tenable Target", "valid value")

    def test_url_without_scheme(self):
        self.refused(self.base(**{"Tenable URL": "cloud.tenable.com"}), "Tenable URL", "URL")

    def test_plain_http_to_a_real_host(self):
        message = self.refused(self.base(**{"Tenable URL": "http://tenable.example.com"}),
                               "the settings were refused", "use https://")
        self.assertIn("not changed", message)

    def test_both_platforms(self):
        self.refused(self.base(**{"Tenable SC Host": self.e.url}), "both Tenable URL",
                     "Tenable SC Host")

    def test_credential_name_without_credential_target(self):
        self.refused(self.base(**{"Tenable Credential Name": "AD scan"}),
                     "Tenable Credential Name", "not 'credential'")

    def test_ca_that_is_not_pem(self):
        self.refused(self.base(**{"Tenable CA Certificate": "not a certificate"}),
                     "Tenable CA Certificate", "PEM")

    def test_binary_path_relative(self):
        self.refused(self.base(**{"tenable-rotate Path": "bin/tenable-rotate"}),
                     "tenable-rotate Path", "absolute")

    def test_binary_path_missing(self):
        self.refused(self.base(**{"tenable-rotate Path": "/nonexistent/tenable-rotate"}),
                     "tenable-rotate Path", "no executable")

    def test_binary_not_installed(self):
        plugin = make_plugin(self.base())
        original = tenable_passwords.installed_binary
        tenable_passwords.installed_binary = lambda: None
        try:
            with self.assertRaises(SaasException) as ctx:
                plugin.change_password()
        finally:
            tenable_passwords.installed_binary = original
        self.assertIn("pip install tenable-rotate", str(ctx.exception))

    def test_no_new_password(self):
        with self.assertRaises(SaasException) as ctx:
            make_plugin(self.base(), new=None).change_password()
        self.assertIn("no new password", str(ctx.exception))

    def test_no_prior_password_means_no_rollback(self):
        plugin = make_plugin(self.base(**{"Tenable URL": None, "Tenable SC Host": self.e.url}),
                             username=SC_USER, prior=None)
        self.assertFalse(plugin.can_rollback)
        with self.assertRaises(SaasException) as ctx:
            plugin.rollback_password()
        self.assertIn("no prior password", str(ctx.exception))

    def test_error_names_fields_by_label(self):
        # The binary names its key record's fields; the plugin says its labels.
        plugin = make_plugin(self.base())
        self.assertEqual("set 'Tenable Target' or 'Tenable Credential Match'",
                         plugin._in_our_words("set `tenable_target` or `tenable_credential_match`"))


@unittest.skipIf(BINARY is None, "tenable-rotate is not installed (install the wheel)")
class TlsTest(unittest.TestCase):
    """A Security Center behind a private CA: the CA as PEM text in a multiline field."""

    def setUp(self):
        Log.init()
        SaasPlugin.RETRY_PAUSE = 0.05
        self.e = Emulator("--sc-credential", f"ssh:{CREDENTIAL}:{ACCOUNT}:{OLD}", tls=True)

    def tearDown(self):
        self.e.stop()

    def fields(self, ca: Optional[str]) -> List[dict]:
        out = [field("Tenable Access Key", ACCESS, "secret"),
               field("Tenable Secret Key", SECRET, "secret"),
               field("Tenable SC Host", self.e.url),
               field("Tenable Target", "credential"),
               field("Tenable Credential Match", "username")]
        if ca is not None:
            out.append({"type": "multiline", "label": "Tenable CA Certificate", "value": [ca]})
        return out

    def test_trusted_by_the_pem_field(self):
        make_plugin(self.fields(self.e.ca_pem), username=ACCOUNT).change_password()
        self.assertTrue(self.e.password_is("sc", "credential", CREDENTIAL, NEW))

    def test_untrusted_without_it(self):
        with self.assertRaises(SaasException) as ctx:
            make_plugin(self.fields(None), username=ACCOUNT).change_password()
        self.assertIn("could not be reached", str(ctx.exception))
        self.assertIn("the Tenable password was not changed", str(ctx.exception))
        self.assertTrue(self.e.password_is("sc", "credential", CREDENTIAL, OLD))


class FakeBinaryTest(unittest.TestCase):
    """The plugin's reading of the binary, with stand-ins for it: whatever cannot be read is
    unknown, never success; secrets go through stdin only."""

    def setUp(self):
        Log.init()
        SaasPlugin.RETRY_PAUSE = 0.0
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def fake(self, body: str) -> str:
        path = os.path.join(self.tmp.name, "fake-tenable-rotate")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(f"#!{sys.executable}\n" + textwrap.dedent(body))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path

    def plugin(self, binary: str, **extra) -> SaasPlugin:
        fields = [field("Tenable Access Key", ACCESS, "secret"),
                  field("Tenable Secret Key", SECRET, "secret"),
                  field("tenable-rotate Path", binary)]
        fields += [field(k, v) for k, v in extra.items()]
        return make_plugin(fields)

    def unknown(self, body: str) -> str:
        with self.assertRaises(SaasException) as ctx:
            self.plugin(self.fake(body)).change_password()
        self.assertIn("UNKNOWN", str(ctx.exception))
        return str(ctx.exception)

    def test_secrets_only_on_stdin(self):
        record = os.path.join(self.tmp.name, "seen.json")
        binary = self.fake(f"""
            import json, os, sys
            request = json.load(sys.stdin)
            json.dump({{"argv": sys.argv, "env": dict(os.environ), "request": request}},
                      open({record!r}, "w"))
            print(json.dumps({{"exit_code": 0, "password_state": "changed", "items": []}}))
        """)
        os.environ["TENABLE_SECRET_KEY"] = "must-not-pass"
        try:
            self.plugin(binary).change_password()
        finally:
            del os.environ["TENABLE_SECRET_KEY"]
        with open(record, encoding="utf-8") as fh:
            seen = json.load(fh)
        self.assertEqual([binary, "request"], seen["argv"])
        outside = json.dumps([seen["argv"], seen["env"]])
        for secret in (ACCESS, SECRET, NEW, OLD, "must-not-pass"):
            self.assertNotIn(secret, outside)
        self.assertFalse([k for k in seen["env"] if k.startswith("TENABLE")])
        self.assertEqual(
            {"operation": "rotate", "user": VM_USER, "access_key": ACCESS, "secret_key": SECRET,
             "new_password": NEW, "old_password": OLD, "target": "user",
             "verify": "none", "on_partial_failure": "restore"},
            seen["request"])

    def test_success_without_a_result_is_unknown(self):
        self.unknown("import sys; sys.exit(0)\n")

    def test_success_without_a_proven_state_is_unknown(self):
        message = self.unknown("""
            import json
            print(json.dumps({"exit_code": 0, "password_state": "unknown"}))
        """)
        self.assertIn("without a proven password state", message)

    def test_a_result_that_disagrees_with_the_status_is_unknown(self):
        message = self.unknown("""
            import json, sys
            print(json.dumps({"exit_code": 0, "password_state": "changed"}))
            sys.exit(5)
        """)
        self.assertIn("exited with status 5", message)

    def test_internal_error_is_unknown(self):
        self.unknown("""
            import json, sys
            print(json.dumps({"exit_code": 1, "password_state": "unknown", "error": "a bug"}))
            sys.exit(1)
        """)

    def test_a_crash_is_unknown_and_stderr_is_redacted(self):
        message = self.unknown(f"""
            import sys
            sys.stderr.write("panicked near {NEW}\\n")
            sys.exit(101)
        """)
        self.assertIn("panicked near XXXX", message)
        self.assertNotIn(NEW, message)

    def test_a_hung_binary_is_stopped_and_unknown(self):
        old = SaasPlugin.PROCESS_TIMEOUT
        SaasPlugin.PROCESS_TIMEOUT = 1
        try:
            message = self.unknown("import time; time.sleep(30)\n")
        finally:
            SaasPlugin.PROCESS_TIMEOUT = old
        self.assertIn("did not finish", message)

    def test_an_error_line_is_redacted_again(self):
        binary = self.fake(f"""
            import json, sys
            print(json.dumps({{"exit_code": 5, "password_state": "not-changed",
                               "error": "rejected {NEW} for `tenable_target`"}}))
            sys.exit(5)
        """)
        with self.assertRaises(SaasException) as ctx:
            self.plugin(binary).change_password()
        self.assertNotIn(NEW, str(ctx.exception))
        self.assertIn("rejected XXXX for 'Tenable Target'", str(ctx.exception))

    def test_network_failure_is_run_twice(self):
        count = os.path.join(self.tmp.name, "count")
        binary = self.fake(f"""
            import json, sys
            with open({count!r}, "a") as fh:
                fh.write("x")
            print(json.dumps({{"exit_code": 6, "password_state": "not-changed",
                               "error": "cannot connect"}}))
            sys.exit(6)
        """)
        with self.assertRaises(SaasException) as ctx:
            self.plugin(binary).change_password()
        self.assertIn("could not be reached", str(ctx.exception))
        with open(count, encoding="utf-8") as fh:
            self.assertEqual("xx", fh.read())

    def test_unknown_then_a_failure_stays_unknown(self):
        """After an unknown run, only a success proves anything: the second run's 'not
        changed' is about its own sends, while the first run's may have landed."""
        count = os.path.join(self.tmp.name, "count")
        binary = self.fake(f"""
            import json, os, sys
            first = not os.path.exists({count!r})
            open({count!r}, "a").write("x")
            code, state = (7, "unknown") if first else (6, "not-changed")
            print(json.dumps({{"exit_code": code, "password_state": state, "error": "run %d" % code}}))
            sys.exit(code)
        """)
        plugin = self.plugin(binary, **{"Tenable Target": "credential"})
        with self.assertRaises(SaasException) as ctx:
            plugin.change_password()
        message = str(ctx.exception)
        self.assertIn("UNKNOWN (exit 7)", message)
        self.assertIn("first run: run 7; second run (exit 6): run 6", message)
        self.assertEqual("unknown", plugin.last_state)

    def test_partial_is_stated(self):
        binary = self.fake("""
            import json, sys
            print(json.dumps({"exit_code": 8, "password_state": "partial",
                              "error": "changed 'A'; 'B' refused"}))
            sys.exit(8)
        """)
        with self.assertRaises(SaasException) as ctx:
            self.plugin(binary, **{"Tenable Target": "credential"}).change_password()
        message = str(ctx.exception)
        self.assertIn("some credentials were changed", message)
        self.assertIn("failed after others were changed", message)
        self.assertNotIn("UNKNOWN", message)
        self.assertEqual("tenable_exit_8", ctx.exception.codes[0]["code"])

    def test_prior_password_as_plugin_test_passes_it(self):
        """plugin_test run wraps the prior password in a one-element tuple."""
        record = os.path.join(self.tmp.name, "seen.json")
        binary = self.fake(f"""
            import json, sys
            json.dump(json.load(sys.stdin), open({record!r}, "w"))
            print(json.dumps({{"exit_code": 0, "password_state": "changed"}}))
        """)
        plugin = self.plugin(binary)
        plugin.user.prior_password = Secret((OLD,))
        plugin.change_password()
        with open(record, encoding="utf-8") as fh:
            self.assertEqual(OLD, json.load(fh)["old_password"])
        plugin.user.prior_password = Secret(12345)
        with self.assertRaises(SaasException) as ctx:
            plugin.change_password()
        self.assertIn("not text", str(ctx.exception))

    def test_a_binary_that_cannot_start(self):
        binary = os.path.join(self.tmp.name, "not-a-program")
        with open(binary, "w", encoding="utf-8") as fh:
            fh.write("\x7fELF garbage")
        os.chmod(binary, 0o755)
        with self.assertRaises(SaasException) as ctx:
            self.plugin(binary).change_password()
        self.assertIn("could not start", str(ctx.exception))


class InstalledWheelTest(unittest.TestCase):
    """Under scripts/plugin-test.sh the binary must be the wheel's, not the build tree's."""

    @unittest.skipUnless(os.environ.get("TENABLE_ROTATE_EXPECT_WHEEL") == "1",
                         "only where the wheel was installed into a fresh virtualenv")
    def test_the_binary_is_the_wheels(self):
        import tenable_rotate  # the wheel's own module
        scripts = sysconfig.get_path("scripts")
        self.assertEqual(os.path.join(scripts, "tenable-rotate"), BINARY)
        self.assertEqual(BINARY, tenable_rotate.find_binary())
        # In a virtualenv, and a file of its own there (not a link into a cargo build).
        self.assertNotEqual(sys.prefix, sys.base_prefix)
        self.assertTrue(BINARY.startswith(sys.prefix + os.sep))
        self.assertEqual(os.path.realpath(BINARY), BINARY)
        version = subprocess.run([sys.executable, "-m", "tenable_rotate", "--version"],
                                 capture_output=True, text=True, check=True).stdout
        self.assertTrue(version.startswith("tenable-rotate "), version)


if __name__ == "__main__":
    unittest.main()
