"""The baseline: what Keeper's Tenable VM user sample does, on today's pyTenable.

Keeper's sample (Keeper-Security/pam-scripts, tenable/tenable_io_user/update_tenable_user.py)
reads the gateway's line from stdin, decodes it and the records inside, takes the keys from
the record titled "Tenable Authentication Record", lists the users with pyTenable, matches the
username and changes the password. It imports `restfly.errors`, which pyTenable 26 no longer
pulls in, so as published it needs `restfly<2` beside pyTenable; this copy catches pyTenable's
own errors instead and is otherwise the same work. One addition, so it can be pointed at the
emulator: the record's `tenable_url` field, as tenable-rotate reads it.

Used only by bench/bench.py, never by the product.
"""

import base64
import json
import sys

from tenable.io import TenableIO

for line in sys.stdin:
    params = json.loads(base64.b64decode(line).decode())
    break
else:
    sys.exit("no input")

records = json.loads(base64.b64decode(params["records"]).decode())
auth = next(r for r in records if r["title"] == "Tenable Authentication Record")

tio = TenableIO(
    access_key=auth["tenable_access_key"],
    secret_key=auth["tenable_secret_key"],
    url=auth.get("tenable_url", "https://cloud.tenable.com"),
)
user = next(u for u in tio.users.list() if u["username"] == params["user"])
tio.users.change_password(user["id"], params["oldPassword"], params["newPassword"])
print(f"password changed for {params['user']}")
