"""A real SMTP server for tocsin's email receiver tests (aiosmtpd on 127.0.0.1).

Prints "READY <port>" once listening. Every accepted message is saved to <maildir>/<n>.eml (raw bytes) and
<n>.json (envelope, session facts and the message parsed by Python's email package) before the 250 reply.
Recipients starting with "reject550" or "defer451" are refused with those codes.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

p = argparse.ArgumentParser()
p.add_argument("--maildir", required=True)
p.add_argument("--port", type=int, default=0)
p.add_argument("--mode", choices=["plain", "starttls", "implicit"], default="plain")
p.add_argument("--cert")
p.add_argument("--key")
p.add_argument("--user")
p.add_argument("--password")
p.add_argument("--mechanism", action="append", default=[], help="offer only these AUTH mechanisms")
args = p.parse_args()


class Handler:
    def __init__(self):
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject550"):
            return "550 5.1.1 no such user"
        if address.startswith("defer451"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(args.maildir, "%04d" % self.n)
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in (msg.iter_parts() if msg.is_multipart() else [msg]):
            parts.append({
                "content_type": part.get_content_type(),
                "charset": part.get_content_charset(),
                "transfer_encoding": part.get("Content-Transfer-Encoding"),
                "body": part.get_content(),
            })
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
            "headers": [[k, str(v)] for k, v in msg.items()],
            "content_type": msg.get_content_type(),
            "parts": parts,
        }
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        return "250 2.0.0 queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == args.user
        and auth_data.password.decode() == args.password
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    handler = Handler()
    kwargs = {"hostname": "mx.test", "decode_data": False}
    if args.mode == "starttls":
        kwargs["tls_context"] = tls_context()
        kwargs["require_starttls"] = True
    if args.user:
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = False
        all_mechs = ["LOGIN", "PLAIN"]
        if args.mechanism:
            kwargs["auth_exclude_mechanism"] = [m for m in all_mechs if m not in args.mechanism]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **kwargs),
        sock=sock,
        ssl=tls_context() if args.mode == "implicit" else None,
    )
    print("READY %d" % sock.getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
