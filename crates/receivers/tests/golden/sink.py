"""Webhook sink for capture.sh: stores each POST body verbatim as <dir>/<n>.body and its headers as <n>.headers."""
import http.server
import os
import sys

OUT = sys.argv[2]
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        COUNT[0] += 1
        base = os.path.join(OUT, str(COUNT[0]))
        with open(base + ".body", "wb") as f:
            f.write(body)
        with open(base + ".headers", "w") as f:
            f.write("POST " + self.path + "\n")
            for k, v in self.headers.items():
                f.write(f"{k}: {v}\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
