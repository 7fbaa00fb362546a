# Drives Rollcall's inbound SCIM service with python-scim's scim2-client (a client that is not ours):
# create, read, filter, replace, patch, delete, and a re-create of the deleted user; a group. Prints one JSON
# object with what the client saw; the test asserts the Users Rollcall holds afterwards.
import json
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Email, Group, GroupMember, Name, PatchOp, PatchOperation, SearchRequest, User

base, token = sys.argv[1], sys.argv[2]
http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
scim = SyncSCIMClient(http, resource_models=[User, Group])
out = {}

created = scim.create(
    User(
        user_name="Alice.Smith@example.org",
        name=Name(given_name="Alice", family_name="Smith"),
        emails=[Email(value="alice.smith@example.org", primary=True)],
        active=True,
    )
)
out["created"] = {"id": created.id, "userName": created.user_name}
bob = scim.create(User(user_name="bob", name=Name(given_name="Bob", family_name="Jones"), active=True))

group = scim.create(Group(display_name="Sales Team", members=[GroupMember(value=bob.id)]))
read_group = scim.query(Group, group.id)
out["group"] = {"id": group.id, "displayName": read_group.display_name, "members": [m.value for m in read_group.members or []]}

got = scim.query(User, created.id)
out["got"] = {"userName": got.user_name, "givenName": got.name.given_name, "active": got.active}

found = scim.query(User, query_parameters=SearchRequest(filter='name.givenName eq "Bob"'))
out["filtered"] = sorted(r.user_name for r in (found.resources or []))

got.title = "Sales Manager"
got.meta = None
replaced = scim.replace(got)
out["replaced"] = {"title": replaced.title}

scim.modify(User, created.id, PatchOp[User](operations=[PatchOperation(op="replace", path="active", value=False)]))
out["patched"] = {"active": scim.query(User, created.id).active}

try:
    scim.create(User(user_name="bob", active=True))
    out["duplicate"] = "accepted"
except Exception as error:  # noqa: BLE001 - what matters is the status the server gave
    out["duplicate"] = getattr(error, "status", None) or str(error)

scim.delete(User, created.id)
try:
    scim.query(User, created.id)
    out["after_delete"] = "still there"
except Exception as error:  # noqa: BLE001
    out["after_delete"] = getattr(error, "status", None) or type(error).__name__

rehired = scim.create(User(user_name="alice.smith@example.org", name=Name(given_name="Alice", family_name="Smith"), active=True))
out["rehired"] = {"id": rehired.id, "active": rehired.active}

print(json.dumps(out))
