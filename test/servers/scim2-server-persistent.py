"""Serves python-scim's scim2-server (the reference SCIM 2.0 server) for the scim conformance tests.

Why not the stock `scim2-server` command: it keeps resources only in memory (its --dump-resources
writes them on exit but never reads them back), and the conformance suite stops and starts the
server and expects accounts to survive, as they would on any real SCIM service. So this launcher
builds the same application from the package's public API (default schemas and resource types,
the bearer-token application of the `scim2-server` command, its in-memory storage) and makes the
storage durable: it saves every resource to a JSON file after each write and loads them at start.
All of the protocol (routing, filters, PATCH, paging, errors) is still scim2-server's own code.

Usage: python scim2-server-persistent.py --port PORT --bearer-token TOKEN [--state FILE]
Without --state the resources stay in memory only, as with the stock command: saving the whole file
after each write costs O(resources), which a suite of a thousand accounts that never restarts the
server does not need to pay a thousand times over.
"""

import argparse
import json
import os
import re
import tempfile
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server

from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import load_default_provider


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class DurableStorage(InMemoryStorage):
    """The in-memory storage, written through to a JSON file so a restart keeps every resource."""

    def __init__(self, provider, path):
        super().__init__()
        self.path = path
        if os.path.exists(path):
            with open(path) as f:
                saved = json.load(f)
            self.resources = [provider.model_for(r["meta"]["resourceType"]).model_validate(r) for r in saved]
            # Versions keep growing across restarts, so a version never names two states.
            versions = [int(re.sub(r"\D", "", r["meta"]["version"]) or 0) for r in saved]
            for _ in range(max(versions, default=0)):
                next(self.versions)

    def save(self):
        data = [r.model_dump() for r in self.resources]
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(self.path))
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)

    def create(self, *args, **kwargs):
        with self.lock:
            created = super().create(*args, **kwargs)
            self.save()
            return created

    def update(self, *args, **kwargs):
        with self.lock:
            updated = super().update(*args, **kwargs)
            self.save()
            return updated

    def delete(self, *args, **kwargs):
        with self.lock:
            super().delete(*args, **kwargs)
            self.save()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bearer-token", required=True)
    parser.add_argument("--state", help="JSON file holding the resources (default: memory only)")
    args = parser.parse_args()

    provider = load_default_provider()
    provider.config.authentication_schemes = [BEARER_TOKEN_SCHEME]
    storage = DurableStorage(provider, os.path.abspath(args.state)) if args.state else InMemoryStorage()
    app = BearerTokenApplication(storage, provider, bearer_tokens=[args.bearer_token])
    with make_server("127.0.0.1", args.port, app, server_class=ThreadingWSGIServer) as server:
        print(f"Serving SCIM on http://127.0.0.1:{args.port}/v2", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
