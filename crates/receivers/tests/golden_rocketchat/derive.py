#!/usr/bin/env python3
"""Writes default.json and full.json: the bodies Alertmanager 0.28's Rocket.Chat notifier sends for am.yml.in.

Alertmanager 0.25 (the one installed) has no Rocket.Chat receiver, so nothing can be captured. Instead every
rendered string is taken from ../golden_slack/*.json, which the real Alertmanager rendered from the same templates
and alerts, and laid out as upstream's structs (notify/rocketchat/rocketchat.go, config/notifiers.go at v0.28.0)
encode them: struct field order, `omitempty`, Go 1.22+ escaping (HTML-safe, `\\b`, `\\f`), trailing newline.
"""
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
SLACK = HERE.parent / "golden_slack"


def go_json(value, go122=True):
    """json.NewEncoder(w).Encode(value) for dicts built in struct order."""
    s = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(raw, esc)
    if not go122:  # Go 1.19 (Alertmanager 0.25): no \b, \f shorthands
        s = s.replace("\\b", "\\u0008").replace("\\f", "\\u000c")
    return (s + "\n").encode()


def omit_empty(d):
    return {k: v for k, v in d.items() if v not in ("", None, [], False)}


def slack(name):
    raw = (SLACK / name).read_bytes()
    parsed = json.loads(raw)
    # The encoder above must reproduce Alertmanager's own bytes, or what it writes below proves nothing.
    # (The \\b replacement in go_json is naive about a literal backslash before "b"; this check would catch it.)
    assert go_json(parsed, go122=False) == raw, f"encoder does not reproduce {name}"
    return parsed, parsed["attachments"][0]


def action(text, url="", msg=""):
    # Upstream rebuilds every action as {Type: "button", Text, URL, Msg}; the two bools have no omitempty.
    return {**omit_empty({"type": "button", "text": text, "url": url}), "is_webview": False,
            **omit_empty({"msg": msg}), "msg_in_chat_window": False}


def main():
    _, d = slack("default.json")
    default = {"attachments": [omit_empty({
        "title": d["title"],  # slack.default.title and rocketchat.default.title are both __subject
        "title_link": d["title_link"].replace("receiver=slack-default", "receiver=rc-default"),
        "color": "red",  # the default colour template, firing
    })]}
    (HERE / "default.json").write_bytes(go_json(default))

    full_msg, f = slack("full.json")
    fields = [omit_empty({"title": x["title"], "value": x["value"]}) for x in f["fields"]]
    fields = [{"short": x["short"], **y} for x, y in zip(f["fields"], fields)]
    fields[0].pop("value")  # "{{ .CommonLabels.severity }}x" rendered "x" there: severity is not common
    runbook, ack = f["actions"]
    full = omit_empty({
        "channel": full_msg["channel"],
        "emoji": full_msg["icon_emoji"],
        "avatar": full_msg["icon_url"],
        "attachments": [omit_empty({
            "title": f["title"],
            "title_link": f["title_link"],
            "text": f["text"],
            "image_url": f["image_url"],
            "thumb_url": f["thumb_url"],
            "color": f["color"],
            "fields": fields,
            "actions": [action(runbook["text"], url=runbook["url"]), action("Ack", msg="ack " + ack["value"])],
        })],
    })
    (HERE / "full.json").write_bytes(go_json(full))


main()
