"""SNS sink for capture.sh: stores each POST body verbatim as <dir>/<n>.body and its request line and headers as
<n>.headers, and answers with a successful Publish response so the SDK does not retry."""
import http.server
import os
import sys

OUT = sys.argv[2]
COUNT = [0]
ANSWER = (b'<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
          b'<MessageId>567910cd-659e-55d4-8ccb-5aaf14679dc0</MessageId></PublishResult><ResponseMetadata>'
          b'<RequestId>d74b8436-ae13-5ab4-a9ff-ce54dfea72a0</RequestId></ResponseMetadata></PublishResponse>')


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
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
