"""Reads a `tenable-rotate discover --keeper-import` file with Keeper Commander's own JSON
importer, offline (no vault, no login), and checks the records it would create.

Usage: python keeper_import.py FILE FOLDER SECRET...
Each SECRET must appear nowhere in the file, in plain, JSON-escaped or base64 form.
"""
import base64
import json
import sys

from keepercommander.importer.importer import Record
from keepercommander.importer.json.json import KeeperJsonImporter

path, folder, secrets = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path, encoding="utf-8").read()
for secret in secrets:
    for form in (secret, json.dumps(secret)[1:-1], base64.b64encode(secret.encode()).decode()):
        assert form not in text, f"a secret is in the import file ({len(secret)} characters)"

records = [r for r in KeeperJsonImporter().do_import(path) if isinstance(r, Record)]
assert records, "Commander read no record"
by_title = {r.title: r for r in records}
pam_users = [r for r in records if r.type == "pamUser"]
key_records = [r for r in records if r.type == "login"]
assert pam_users and key_records, [(r.type, r.title) for r in records]
for r in records:
    assert r.title, "a record without a title"
    assert not r.password, f"{r.title}: a password"
    assert [f.path for f in r.folders] == [folder], f"{r.title}: folders {[f.path for f in r.folders]}"
for r in pam_users:
    assert r.login, f"{r.title}: no login"
    assert "tenable-rotate" in r.notes, r.notes

# The users' key record: the settings this binary reads, with empty keys to fill in.
users_keys = by_title["Tenable keys (users)"]
fields = {(f.type, f.label): f.value for f in users_keys.fields}
assert fields[("text", "tenable_target")] == "user", fields
assert fields[("secret", "tenable_access_key")] == "", fields
assert fields[("secret", "tenable_secret_key")] == "", fields
assert ("text", "tenable_url") in fields or ("text", "tenable_sc_host") in fields, fields
cred_keys = by_title["Tenable keys (credentials)"]
fields = {(f.type, f.label): f.value for f in cred_keys.fields}
assert fields[("text", "tenable_target")] == "credential", fields
assert fields[("text", "tenable_credential_match")] == "username", fields

# A Tenable user: scripts-only rotation (Keeper's NOOP field), login = the Tenable username.
alice = by_title["Tenable user alice@example.com (Vulnerability Management)"]
assert alice.type == "pamUser" and alice.login == "alice@example.com"
assert {(f.type, f.label): f.value for f in alice.fields} == {("text", "NOOP"): "True"}
# One record for an account that two credentials hold.
svc = [r for r in pam_users if r.login == "CORP\\svc-scan"]
assert len(svc) == 1 and "AD scan, PG scan" in svc[0].title, [r.title for r in svc]
print(f"Keeper Commander read {len(records)} records: {len(pam_users)} PAM Users, "
      f"{len(key_records)} key records, folder '{folder}'")
