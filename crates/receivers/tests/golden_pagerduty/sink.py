"""Sink for the incident-management captures (pagerduty, opsgenie, victorops).

Stores every request verbatim as <dir>/<n>.body and its request line and headers as <n>.headers
("METHOD /path?query" first). It also answers CONNECT as an HTTP proxy and terminates the tunnelled TLS with the
certificate given as argv[3]/argv[4] (signed by a throwaway CA that Alertmanager is told to trust), so requests
to fixed upstream endpoints (PagerDuty's Events API v1) are captured too. Loopback only.
"""
import http.server
import os
import ssl
import sys

OUT = sys.argv[2]
COUNT = [0]
TLS = None
if len(sys.argv) > 4:
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(sys.argv[3], sys.argv[4])
    TLS.set_alpn_protocols(["http/1.1"])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def store(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        COUNT[0] += 1
        base = os.path.join(OUT, str(COUNT[0]))
        with open(base + ".body", "wb") as f:
            f.write(body)
        with open(base + ".headers", "w") as f:
            f.write(self.command + " " + self.path + "\n")
            for k, v in self.headers.items():
                f.write(f"{k}: {v}\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = store
    do_PUT = store

    def do_CONNECT(self):
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        conn = TLS.wrap_socket(self.connection, server_side=True)
        self.connection = conn
        self.rfile = conn.makefile("rb")
        self.wfile = conn.makefile("wb", buffering=0)
        self.close_connection = False

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
