"""Keeper PAM SaaS rotation plugin for Tenable, with tenable-rotate as the engine.

Sets the PAM User's new password in Tenable Vulnerability Management (cloud) or Tenable
Security Center: the Tenable user's own password, or the password in the managed scan
credentials that use the account. The work is done by the `tenable-rotate` binary (installed
by the `tenable-rotate` wheel this plugin requires) through its machine interface:
`tenable-rotate request` reads one JSON object on stdin and prints one JSON object on stdout.
Secrets go through that pipe only: never in argv, never in the child's environment.

Every outcome is mapped to a SaasException that says what happened, what to do, and where
the Tenable password stands. An outcome the binary could not prove (exit 7, or anything this
plugin cannot read) is never reported as success.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from typing import Any, Dict, List, Optional, TYPE_CHECKING

from kdnrm.exceptions import SaasException
from kdnrm.log import Log
from kdnrm.saas_plugins import SaasPluginBase
from kdnrm.saas_type import SaasConfigEnum, SaasConfigItem
from kdnrm.secret import Secret

# The binary comes from the wheel named in requirements(); importing its small helper module
# is optional (the plugin has its own lookup), as Keeper's catalog plugins do for their SDKs.
try:  # pragma: no cover
    import tenable_rotate  # noqa: F401
except ImportError:  # pragma: no cover
    pass

if TYPE_CHECKING:  # pragma: no cover
    from kdnrm.saas_type import SaasUser
    from keeper_secrets_manager_core.dto.dtos import Record

BINARY_NAME = "tenable-rotate" + (".exe" if os.name == "nt" else "")

# What the child process may see of ours: the search path and the proxy and CA settings the
# gateway itself runs with. Nothing else: no TENABLE_* variable (the request carries every
# setting) and never a secret.
PASSED_ENVIRONMENT = (
    "PATH",
    "SYSTEMROOT",  # Windows needs it to start a process
    "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
    "NO_PROXY", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
)

# Exit codes of tenable-rotate (README: exit codes).
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_CONFIG = 2
EXIT_KEYS = 3
EXIT_NOT_FOUND = 4
EXIT_REJECTED = 5
EXIT_NETWORK = 6
EXIT_UNKNOWN = 7
EXIT_PARTIAL = 8

PROVEN_SUCCESS = ("changed", "in-sync")


def installed_binary() -> Optional[str]:
    """The binary the tenable-rotate wheel installed next to this Python (its scripts
    directory, then the user's), else the first on PATH; None when there is none."""
    directories = [sysconfig.get_path("scripts")]
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    try:
        directories.append(sysconfig.get_path("scripts", scheme=user_scheme))
    except KeyError:  # pragma: no cover - a Python without user schemes
        pass
    for directory in directories:
        path = os.path.join(directory, BINARY_NAME) if directory else None
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which(BINARY_NAME)


class SaasPlugin(SaasPluginBase):
    """Tenable user or scan-credential password rotation through tenable-rotate."""

    name = "Tenable Passwords"
    summary = ("Change a user's password, or the password in managed scan credentials, in "
               "Tenable Vulnerability Management or Tenable Security Center.")
    readme = "README.md"
    author = "tenable-rotate"
    email = None

    # The binary's own deadline is 60 s (every retry included); this is the hard stop for
    # a binary that does not exit (then the outcome is unknown).
    PROCESS_TIMEOUT = 120
    # Pause before the one re-run after a transient failure.
    RETRY_PAUSE = 2.0

    def __init__(self, user: SaasUser, config_record: Record, provider_config: Any = None,
                 force_fail: bool = False):
        super().__init__(user, config_record, provider_config, force_fail)
        # password_state of the last rotation this instance ran, for rollback_password().
        self.last_state: Optional[str] = None
        self.last_result: Optional[Dict[str, Any]] = None

    @classmethod
    def requirements(cls) -> List[str]:
        return ["tenable-rotate"]

    @classmethod
    def config_schema(cls) -> List[SaasConfigItem]:
        return [
            SaasConfigItem(
                id="tenable_access_key",
                label="Tenable Access Key",
                desc="API access key of the Tenable user that changes passwords "
                     "(Vulnerability Management: Administrator; Security Center: Security "
                     "Manager, or Administrator for credentials it owns).",
                type="secret",
                is_secret=True,
                required=True,
            ),
            SaasConfigItem(
                id="tenable_secret_key",
                label="Tenable Secret Key",
                desc="API secret key paired with the access key.",
                type="secret",
                is_secret=True,
                required=True,
            ),
            SaasConfigItem(
                id="tenable_url",
                label="Tenable URL",
                desc="Tenable Vulnerability Management base URL. Leave empty for "
                     "https://cloud.tenable.com; FedRAMP: https://fedcloud.tenable.com. "
                     "Do not set it together with Tenable SC Host.",
                type="url",
                required=False,
            ),
            SaasConfigItem(
                id="tenable_sc_host",
                label="Tenable SC Host",
                desc="Tenable Security Center host or URL (sc.example.com or "
                     "https://sc.example.com:8443). Setting it selects Security Center.",
                required=False,
            ),
            SaasConfigItem(
                id="tenable_target",
                label="Tenable Target",
                desc="What to change: 'user', the Tenable user's own password; or "
                     "'credential', the password in managed scan credentials.",
                type="enum",
                required=False,
                default_value="user",
                enum_values=[
                    SaasConfigEnum(value="user",
                                   desc="The Tenable user whose username is the PAM User's login."),
                    SaasConfigEnum(value="credential",
                                   desc="Managed scan credentials that use the PAM User's account."),
                ],
            ),
            SaasConfigItem(
                id="tenable_credential_name",
                label="Tenable Credential Name",
                desc="With target 'credential': the credential's exact name. Default: the "
                     "PAM User's login.",
                required=False,
            ),
            SaasConfigItem(
                id="tenable_credential_match",
                label="Tenable Credential Match",
                desc="With target 'credential': 'name' to update the credential with that "
                     "name, or 'username' to update every credential whose username setting "
                     "is the PAM User's account (DOM\\user and user@dom forms match).",
                type="enum",
                required=False,
                default_value="name",
                enum_values=[
                    SaasConfigEnum(value="name", desc="The credential named above."),
                    SaasConfigEnum(value="username", desc="Every credential whose username is the account."),
                ],
            ),
            SaasConfigItem(
                id="tenable_verify",
                label="Tenable Verify",
                desc="'login' to log in once with a user's new password after changing it, "
                     "to prove it works; 'none' to trust Tenable's answer.",
                type="enum",
                required=False,
                default_value="none",
                enum_values=[
                    SaasConfigEnum(value="none", desc="Trust Tenable's answer to the change."),
                    SaasConfigEnum(value="login", desc="Log in with the new password once."),
                ],
            ),
            SaasConfigItem(
                id="tenable_on_partial_failure",
                label="Tenable On Partial Failure",
                desc="With several credentials: 'restore' sets those already changed back "
                     "when one fails (all or nothing); 'keep' leaves them changed.",
                type="enum",
                required=False,
                default_value="restore",
                enum_values=[
                    SaasConfigEnum(value="restore", desc="All or nothing."),
                    SaasConfigEnum(value="keep", desc="Leave the credentials already changed."),
                ],
            ),
            SaasConfigItem(
                id="tenable_ca_pem",
                label="Tenable CA Certificate",
                desc="PEM text of the CA certificates to trust besides the system's, for a "
                     "Security Center behind a private CA. Verification is never turned off.",
                type="multiline",
                required=False,
            ),
            SaasConfigItem(
                id="tenable_rotate_path",
                label="tenable-rotate Path",
                desc="Absolute path of the tenable-rotate binary. Default: the one the "
                     "tenable-rotate wheel installed next to the gateway's Python.",
                required=False,
            ),
        ]

    # ----------------------------------------------------------------------------------
    # Configuration

    @property
    def platform(self) -> str:
        """'sc' when an SC host is set, else 'vm'."""
        return "sc" if self.get_config("tenable_sc_host") else "vm"

    @property
    def target(self) -> str:
        return self.get_config("tenable_target") or "user"

    @property
    def can_rollback(self) -> bool:
        """Whether Tenable lets the prior password be set back.

        - Vulnerability Management users: no. Tenable's password rules say a current or
          former password cannot be reused, so setting the prior one back is refused
          whenever the rotation had landed; a rollback could only ever fail.
        - Security Center users: yes. Security Center documents no reuse rule; the
          rollback is proven by a login with the prior password, and a refusal is
          reported with the true state.
        - Managed scan credentials (both platforms): yes. Credentials keep no password
          history; setting the prior password back is an ordinary change.

        And never without a prior password to set back.
        """
        if self._secret_text(self.user.prior_password) is None:
            return False
        return not (self.platform == "vm" and self.target == "user")

    def _config_problem(self, message: str, field: str) -> SaasException:
        title = getattr(self.config_record, "title", None) or "the SaaS configuration record"
        return SaasException(
            f"Tenable: the field '{field}' of '{title}' is not usable: {message}. Fix it in "
            "the SaaS configuration record and rotate again; the Tenable password was not "
            "changed.",
            code="tenable_config")

    def _check_config(self) -> None:
        if self.get_config("tenable_url") and self.get_config("tenable_sc_host"):
            raise self._config_problem(
                "both Tenable URL (Vulnerability Management) and Tenable SC Host (Security "
                "Center) are set; keep only the one for your platform", "Tenable SC Host")
        if self.target != "credential" and self.get_config("tenable_credential_name"):
            raise self._config_problem(
                "a credential name is set but Tenable Target is not 'credential'; set Tenable "
                "Target to 'credential', or clear the name", "Tenable Credential Name")
        ca = self.get_config("tenable_ca_pem")
        if ca and "-----BEGIN CERTIFICATE-----" not in ca:
            raise self._config_problem(
                "it does not hold a PEM certificate (-----BEGIN CERTIFICATE-----)",
                "Tenable CA Certificate")

    # ----------------------------------------------------------------------------------
    # The binary

    def find_binary(self) -> str:
        """The tenable-rotate binary: the configured path, else the one the wheel installed
        next to this Python (its scripts directory, then the user's), else on PATH."""
        configured = self.get_config("tenable_rotate_path")
        if configured:
            if not os.path.isabs(configured):
                raise self._config_problem("it must be an absolute path", "tenable-rotate Path")
            if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
                raise self._config_problem(
                    "no executable file is there", "tenable-rotate Path")
            return configured
        found = installed_binary()
        if found:
            return found
        raise SaasException(
            f"Tenable: the {BINARY_NAME} binary is not installed next to {sys.executable} "
            "nor on PATH. Install the plugin's requirement (pip install tenable-rotate) in the "
            "gateway's Python, or set 'tenable-rotate Path' in the SaaS configuration record; "
            "the Tenable password was not changed.",
            code="tenable_binary_missing")

    @staticmethod
    def _child_environment() -> Dict[str, str]:
        return {k: os.environ[k] for k in PASSED_ENVIRONMENT if k in os.environ}

    @staticmethod
    def _secret_text(value: Any) -> Optional[str]:
        text = Secret.get_value(value)
        # Keeper's plugin_test passes the PAM User's password as a one-element tuple (a
        # trailing comma in plugin_dev/cli.py); take the element rather than fail.
        if isinstance(text, (tuple, list)) and len(text) == 1:
            text = text[0]
        if text is None or text == "":
            return None
        if not isinstance(text, str):
            raise SaasException("Tenable: a password or username from the PAM User record is "
                                "not text; check the record. Nothing was sent to Tenable.",
                                code="tenable_not_text")
        return text

    def _secrets(self) -> List[str]:
        values = [self.get_config("tenable_access_key"), self.get_config("tenable_secret_key"),
                  self._secret_text(self.user.new_password),
                  self._secret_text(self.user.prior_password)]
        return [v for v in values if v]

    def _redact(self, text: str) -> str:
        """The binary already redacts what it prints; this is a second belt."""
        for secret in sorted(self._secrets(), key=len, reverse=True):
            text = text.replace(secret, Secret.redact_text)
        return text

    def _in_our_words(self, text: str) -> str:
        """The binary names its key record's fields (`tenable_target`); the same settings
        are this plugin's fields, so name them by their labels here."""
        for item in self.config_schema():
            text = text.replace(f"`{item.id}`", f"'{item.label}'")
        return text

    def _request(self, operation: str) -> Dict[str, Any]:
        request = {
            "operation": operation,
            "user": self._secret_text(self.user.username),
            "access_key": self.get_config("tenable_access_key"),
            "secret_key": self.get_config("tenable_secret_key"),
            "new_password": self._secret_text(self.user.new_password),
            "old_password": self._secret_text(self.user.prior_password),
            "url": self.get_config("tenable_url"),
            "sc_host": self.get_config("tenable_sc_host"),
            "target": self.target,
        }
        if self.target == "credential":
            request["credential_name"] = self.get_config("tenable_credential_name")
            request["credential_match"] = self.get_config("tenable_credential_match")
        request.update({
            "verify": self.get_config("tenable_verify"),
            "on_partial_failure": self.get_config("tenable_on_partial_failure"),
            "ca_pem": self.get_config("tenable_ca_pem"),
        })
        return {k: v for k, v in request.items() if v is not None}

    def _run_once(self, binary: str, operation: str) -> Dict[str, Any]:
        """Runs `tenable-rotate request` once. Returns the result object, with
        `exit_code` set to the process's status; a result that cannot be read, or that
        disagrees with the status, becomes an unknown outcome."""
        payload = json.dumps(self._request(operation)).encode("utf-8")
        try:
            process = subprocess.run(
                [binary, "request"], input=payload, capture_output=True,
                env=self._child_environment(), timeout=self.PROCESS_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return self._unreadable(
                f"{BINARY_NAME} did not finish within {self.PROCESS_TIMEOUT} s and was stopped")
        except OSError as err:
            # Not started: nothing was sent.
            return {"exit_code": EXIT_CONFIG, "password_state": "not-changed",
                    "error": f"could not start {binary}: {err.strerror or err}",
                    "_not_started": True}
        finally:
            del payload
        stderr = self._redact(process.stderr.decode("utf-8", "replace")).strip()
        try:
            result = json.loads(process.stdout.decode("utf-8"))
            if not isinstance(result, dict):
                raise ValueError("not an object")
        except ValueError:
            code = process.returncode
            return self._unreadable(
                f"{BINARY_NAME} exited with status {code} without a readable result"
                + (f" ({stderr.splitlines()[-1][:300]})" if stderr else ""))
        if result.get("exit_code") != process.returncode:
            return self._unreadable(
                f"{BINARY_NAME}'s result says exit {result.get('exit_code')!r} but it exited "
                f"with status {process.returncode}")
        if isinstance(result.get("error"), str):
            result["error"] = self._in_our_words(self._redact(result["error"]))
        return result

    @staticmethod
    def _unreadable(why: str) -> Dict[str, Any]:
        return {"exit_code": None, "password_state": "unknown", "error": why}

    def _run(self, operation: str) -> Dict[str, Any]:
        """Runs the operation, and once more after a failure where that is harmless:
        after exit 6 (nothing was changed, proven: a transient network or service failure),
        and after exit 7 on credentials (setting a credential to the same value again is
        harmless and needs no login; a user's unknown outcome is not re-run here, because its
        proof logins count towards Tenable's lockout after 5 failed logins)."""
        self._check_config()
        binary = self.find_binary()
        Log.debug(f"running {binary} request ({operation})")
        result = self._run_once(binary, operation)
        code = result.get("exit_code")
        again = code == EXIT_NETWORK or (code == EXIT_UNKNOWN and self.target == "credential")
        if again and not result.get("_not_started"):
            Log.warning(f"Tenable {operation}: exit {code} ({result.get('password_state')}); "
                        f"running it once more: {result.get('error')}")
            time.sleep(self.RETRY_PAUSE)
            first, result = result, self._run_once(binary, operation)
            if code == EXIT_UNKNOWN and result.get("exit_code") != EXIT_OK:
                # Only a success proves the state after an unknown run: a later refusal or
                # network failure speaks for the second run alone, while the first run's
                # change may have landed.
                result = self._unreadable(
                    f"first run: {first.get('error')}; second run (exit "
                    f"{result.get('exit_code')}): {result.get('error')}")
                result["exit_code"] = EXIT_UNKNOWN
        return result

    # ----------------------------------------------------------------------------------
    # Outcomes

    def _describe(self) -> str:
        platform = "Security Center" if self.platform == "sc" else "Vulnerability Management"
        if self.target == "credential":
            return f"the managed credentials for '{self._secret_text(self.user.username)}' in Tenable {platform}"
        return f"the password of Tenable {platform} user '{self._secret_text(self.user.username)}'"

    def _outcome(self, operation: str, result: Dict[str, Any]) -> None:
        """Returns on proven success; raises a SaasException for everything else."""
        code = result.get("exit_code")
        state = result.get("password_state")
        said = result.get("error") or "no detail"
        what = self._describe()
        if code == EXIT_OK and state in PROVEN_SUCCESS:
            items = ", ".join(f"{i.get('name')} {i.get('result')}" for i in result.get("items") or [])
            Log.info(f"Tenable {operation}: {what}: {state}" + (f" ({items})" if items else ""))
            return
        if operation == "rollback":
            holds = "Tenable still holds the new (rotated) password"
            unknown_do = ("Find out which password Tenable holds (log in as the user, or look at "
                          "the credential's last change in Tenable) and set the vault to match")
        else:
            holds = "the Tenable password was not changed"
            unknown_do = ("Before the vault is rolled back, find out which password Tenable holds "
                          "(log in as the user with the new password, or look at the credential's "
                          "last change in Tenable), then set the vault to match; rotating again is "
                          "safe")
        if code == EXIT_OK:
            # Exit 0 without a proven state: never success.
            code, state = None, "unknown"
            said = f"success was reported without a proven password state ({result.get('password_state')!r})"
        table = {
            EXIT_CONFIG: ("the settings were refused",
                          "Fix the SaaS configuration record (or the PAM User's login) as the "
                          "message says"),
            EXIT_KEYS: ("Tenable refused the API keys, or their user lacks the rights",
                        "Check Tenable Access Key and Tenable Secret Key, and give the API user "
                        "the role the plugin's README names"),
            EXIT_NOT_FOUND: ("the user or credential was not found, or more than one matched",
                             "Check the PAM User's login and, for credentials, Tenable Credential "
                             "Name and Tenable Credential Match"),
            EXIT_REJECTED: ("Tenable rejected the password",
                            "Read Tenable's reason: for a policy or reuse refusal, change the PAM "
                            "User's password complexity in Keeper; for a wrong current password, "
                            "reset the password in Tenable to match the vault; then rotate again"),
            EXIT_NETWORK: ("Tenable could not be reached or gave an unusable answer (tried twice)",
                           "Check the URL or SC host, the network, the proxy and the CA "
                           "certificate, then rotate again"),
            EXIT_PARTIAL: ("one of several credentials for the account failed after others were "
                           "changed, and those kept the new password",
                           "Read the message: it names the cause and each credential's state. Fix "
                           "the cause, then rotate again (credentials already changed are set to "
                           "the same password again)"),
        }
        if code in table and state != "unknown":
            happened, todo = table[code]
            if state == "partial":
                where = "some credentials were changed and others not (see the message)"
            elif state == "not-changed":
                where = holds
            else:
                where = f"password state: {state}"
            raise SaasException(
                f"Tenable {operation} failed for {what}: {happened}. tenable-rotate said: {said}. "
                f"{todo}. Where it stands: {where}.",
                code=f"tenable_exit_{code}")
        exit_text = code if code is not None else "unreadable"
        raise SaasException(
            f"Tenable {operation} for {what}: the outcome is UNKNOWN (exit {exit_text}): "
            f"the change may or may not have landed, and nothing proved either way. "
            f"tenable-rotate said: {said}. {unknown_do}.",
            code="tenable_unknown")

    # ----------------------------------------------------------------------------------
    # Keeper's entry points

    def change_password(self):
        if self._secret_text(self.user.new_password) is None:
            raise SaasException("Tenable: no new password was given; nothing was changed.",
                                code="tenable_no_new_password")
        Log.info(f"Tenable rotate: {self._describe()}")
        result = self._run("rotate")
        self.last_result = result
        self.last_state = result.get("password_state")
        self._outcome("rotate", result)

    def rollback_password(self):
        what = self._describe()
        if self.last_state == "not-changed":
            # The rotation proved Tenable still holds the prior password: nothing to undo.
            Log.info(f"Tenable rollback: {what}: nothing to roll back, the rotation left "
                     "the prior password in place")
            return
        if not self.can_rollback:
            if self._secret_text(self.user.prior_password) is None:
                why = "there is no prior password to set back"
            else:
                why = ("Tenable Vulnerability Management refuses a current or former password, "
                       "so the prior password cannot be set back")
            state = {
                "changed": "Tenable holds the new password",
                "in-sync": "Tenable holds the new password",
                None: "the rotation did not run in this plugin instance",
            }.get(self.last_state, f"the rotation's state was {self.last_state}")
            raise SaasException(
                f"Tenable rollback is not possible for {what}: {why}. Where it stands: {state}. "
                "Keep the new password in the vault (from the record's history) rather than the "
                "prior one.",
                code="tenable_no_rollback")
        Log.info(f"Tenable rollback: {what}")
        result = self._run("rollback")
        self._outcome("rollback", result)
