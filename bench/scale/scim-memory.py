"""scim2-server (python-scim's reference SCIM 2.0 server) kept in memory, for the scale benchmark.

test/servers/scim2-server-persistent.py rewrites every resource to a JSON file after each write, so
the conformance tests can restart it. At 10,000 users that rewrite, not the protocol, would be what
the benchmark measures (O(N) per write), so this launcher serves the same application with the
package's plain in-memory storage. Routing, filters, PATCH and paging are scim2-server's own code.

Usage: python scim-memory.py --port PORT --bearer-token TOKEN
"""

import argparse
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import load_default_provider


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    # No access log line per request (wsgiref answers HTTP/1.0: one connection per request).
    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bearer-token", required=True)
    args = parser.parse_args()

    provider = load_default_provider()
    provider.config.authentication_schemes = [BEARER_TOKEN_SCHEME]
    app = BearerTokenApplication(InMemoryStorage(), provider, bearer_tokens=[args.bearer_token])
    with make_server("127.0.0.1", args.port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler) as server:
        print(f"Serving SCIM on http://127.0.0.1:{args.port}/v2", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
