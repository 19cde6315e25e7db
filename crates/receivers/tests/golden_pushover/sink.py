"""Capture sink for the messaging goldens (telegram, pushover, webex, wechat); see README.md.

Usage: sink.py <port> <out dir> [cert.pem key.pem]

Records every request as <out>/<n>.headers ("METHOD target" line, then the headers) and <n>.body (verbatim),
and answers what each API answers on success. CONNECT (Alertmanager's pushover API URL is fixed to
https://api.pushover.net, so the capture reaches it through http_config.proxy_url) is accepted, and the tunnel
is served with TLS using the given self-signed certificate (the config sets insecure_skip_verify).
"""
import http.server
import os
import ssl
import sys
import threading

OUT = sys.argv[2]
COUNT = [0]
LOCK = threading.Lock()
TLS = None
if len(sys.argv) > 4:
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(sys.argv[3], sys.argv[4])


def answer(path):
    if "/sendMessage" in path:
        return b'{"ok":true,"result":{"message_id":1,"chat":{"id":-1001234567890}}}'
    if "/gettoken" in path:
        return b'{"errcode":0,"errmsg":"ok","access_token":"ACCESS-TOKEN-1","expires_in":7200}'
    if "/message/send" in path:
        return b'{"errcode":0,"errmsg":"ok"}'
    if "/1/messages.json" in path:
        return b'{"status":1,"request":"647d2300-702c-4b38-8b2f-d56326ae460b"}'
    return b'{"id":"m1"}'


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def record(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with LOCK:
            COUNT[0] += 1
            base = os.path.join(OUT, str(COUNT[0]))
        with open(base + ".body", "wb") as f:
            f.write(body)
        with open(base + ".headers", "w") as f:
            f.write(self.command + " " + self.path + "\n")
            for k, v in self.headers.items():
                f.write(f"{k}: {v}\n")
        out = answer(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = record
    do_POST = record

    def do_CONNECT(self):
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        tls = TLS.wrap_socket(self.connection, server_side=True)
        Handler(tls, self.client_address, self.server)
        self.close_connection = True

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
