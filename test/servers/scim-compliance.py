# Runs python-scim's scim2-tester (a SCIM 2.0 compliance checker that is not ours) against a SCIM
# service provider and prints one JSON object: each check's resource type, title, status and reason.
# test/conformance/scim-inbound-compliance.conformance.test.ts runs it against Rollcall's inbound endpoint.
import json
import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server

base, token = sys.argv[1], sys.argv[2]
http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
scim = SyncSCIMClient(http)
results = check_server(scim)
print(
    json.dumps(
        [
            {"resourceType": r.resource_type, "title": r.title, "status": r.status.name, "reason": r.reason}
            for r in results
        ]
    )
)
