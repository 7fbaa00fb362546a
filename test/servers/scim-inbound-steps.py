# One step of an IdP's life against Rollcall's inbound SCIM service, made with python-scim's
# scim2-client (a client that is not ours), so a test can check the connected systems between steps.
#   scim-inbound-steps.py BASE TOKEN create USERNAME GIVEN FAMILY EMAIL
#   scim-inbound-steps.py BASE TOKEN patch ID PATH VALUE
#   scim-inbound-steps.py BASE TOKEN active ID true|false
#   scim-inbound-steps.py BASE TOKEN delete ID
# Prints one JSON object: what the client saw after the step.
import json
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Email, Name, PatchOp, PatchOperation, User

base, token, step, *args = sys.argv[1:]
http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
scim = SyncSCIMClient(http, resource_models=[User])


def seen(user):
    return {"id": user.id, "userName": user.user_name, "familyName": user.name.family_name if user.name else None, "active": user.active}


if step == "create":
    user_name, given, family, email = args
    created = scim.create(User(user_name=user_name, name=Name(given_name=given, family_name=family), emails=[Email(value=email, primary=True)], active=True))
    print(json.dumps(seen(created)))
elif step in ("patch", "active"):
    user_id, path, value = (args[0], "active", args[1] == "true") if step == "active" else args
    scim.modify(User, user_id, PatchOp[User](operations=[PatchOperation(op="replace", path=path, value=value)]))
    print(json.dumps(seen(scim.query(User, user_id))))
elif step == "delete":
    (user_id,) = args
    scim.delete(User, user_id)
    try:
        scim.query(User, user_id)
        print(json.dumps({"after_delete": "still there"}))
    except Exception as error:  # noqa: BLE001 - what matters is the status the server gave
        print(json.dumps({"after_delete": getattr(error, "status", None) or type(error).__name__}))
else:
    sys.exit(f"unknown step {step}")
