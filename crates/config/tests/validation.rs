//! Every validation error, with upstream's wording.
mod common;
use common::err;

struct Case {
    name: &'static str,
    input: &'static str,
    want: &'static str,
}

/// A receiver named `r` with the given integration block.
fn with_receiver(block: &str) -> String {
    format!("route: {{receiver: r}}\nreceivers:\n- name: r\n{block}")
}

#[test]
fn top_level_and_route_errors() {
    let cases = [
        Case { name: "empty file", input: "", want: "no route provided in config" },
        Case { name: "comment only", input: "# nothing\n", want: "no route provided in config" },
        Case { name: "no route", input: "receivers: [{name: r}]\n", want: "no routes provided" },
        Case { name: "root continue", input: "route: {receiver: r, continue: true}\nreceivers: [{name: r}]\n", want: "cannot have continue in root route" },
        Case { name: "root receiver", input: "route: {group_wait: 1s}\nreceivers: [{name: r}]\n", want: "root route must specify a default receiver" },
        Case { name: "root matchers", input: "route: {receiver: r, matchers: ['a=\"b\"']}\nreceivers: [{name: r}]\n", want: "root route must not have any matchers" },
        Case { name: "root match", input: "route: {receiver: r, match: {a: b}}\nreceivers: [{name: r}]\n", want: "root route must not have any matchers" },
        Case { name: "root mute", input: "route: {receiver: r, mute_time_intervals: [x]}\nreceivers: [{name: r}]\ntime_intervals: [{name: x}]\n", want: "root route must not have any mute time intervals" },
        Case { name: "root active", input: "route: {receiver: r, active_time_intervals: [x]}\nreceivers: [{name: r}]\ntime_intervals: [{name: x}]\n", want: "root route must not have any active time intervals" },
        Case { name: "undefined receiver", input: "route: {receiver: r, routes: [{receiver: nope}]}\nreceivers: [{name: r}]\n", want: "undefined receiver \"nope\" used in route" },
        Case { name: "undefined interval", input: "route: {receiver: r, routes: [{mute_time_intervals: [nope]}]}\nreceivers: [{name: r}]\n", want: "undefined time interval \"nope\" used in route" },
        Case { name: "duplicate receiver", input: "route: {receiver: r}\nreceivers: [{name: r}, {name: r}]\n", want: "notification config name \"r\" is not unique" },
        Case { name: "missing receiver name", input: "route: {receiver: r}\nreceivers: [{name: r}, {}]\n", want: "missing name in receiver" },
        Case { name: "duplicate time interval", input: "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{name: x}, {name: x}]\n", want: "time interval \"x\" is not unique" },
        Case { name: "duplicate across lists", input: "route: {receiver: r}\nreceivers: [{name: r}]\nmute_time_intervals: [{name: x}]\ntime_intervals: [{name: x}]\n", want: "time interval \"x\" is not unique" },
        Case { name: "duplicate mute interval", input: "route: {receiver: r}\nreceivers: [{name: r}]\nmute_time_intervals: [{name: x}, {name: x}]\n", want: "mute time interval \"x\" is not unique" },
        Case { name: "time interval name", input: "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals: [{time_intervals: []}]\n", want: "missing name in time interval" },
        Case { name: "group_by wildcard mix", input: "route: {receiver: r, group_by: ['...', a]}\nreceivers: [{name: r}]\n", want: "cannot have wildcard group_by (`...`) and other other labels at the same time" },
        Case { name: "group_by duplicate", input: "route: {receiver: r, group_by: [a, a]}\nreceivers: [{name: r}]\n", want: "duplicated label \"a\" in group_by" },
        Case { name: "group_interval zero", input: "route: {receiver: r, group_interval: 0s}\nreceivers: [{name: r}]\n", want: "group_interval cannot be zero" },
        Case { name: "repeat_interval zero", input: "route: {receiver: r, repeat_interval: 0}\nreceivers: [{name: r}]\n", want: "repeat_interval cannot be zero" },
        Case { name: "bad duration", input: "route: {receiver: r, group_wait: 5x}\nreceivers: [{name: r}]\n", want: "not a valid duration string: \"5x\"" },
        Case { name: "match label name", input: "route: {receiver: r, routes: [{match: {'bad-name': x}}]}\nreceivers: [{name: r}]\n", want: "invalid label name \"bad-name\"" },
        Case { name: "match_re bad regex", input: "route: {receiver: r, routes: [{match_re: {a: '('}}]}\nreceivers: [{name: r}]\n", want: "error parsing regexp" },
        Case { name: "match_re null", input: "route: {receiver: r, routes: [{match_re: {env: }}]}\nreceivers: [{name: r}]\n", want: "invalid regexp value for \"env\"" },
        Case { name: "unknown key", input: "route: {receiver: r}\nreceivers: [{name: r}]\nfoo: 1\n", want: "unknown field `foo`" },
        Case { name: "unknown nested key", input: "route:\n  receiver: r\n  foo: 1\nreceivers: [{name: r}]\n", want: "yaml: line 3 column 3: route: unknown field `foo`, expected one of" },
        Case { name: "inhibit equal", input: "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{equal: ['']}]\n", want: "invalid label name \"\" in equal list" },
        Case { name: "inhibit source_match name", input: "route: {receiver: r}\nreceivers: [{name: r}]\ninhibit_rules: [{source_match: {'a b': c}}]\n", want: "invalid label name \"a b\"" },
        Case { name: "global slack pair", input: "global: {slack_api_url: 'http://x', slack_api_url_file: f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "at most one of slack_api_url & slack_api_url_file must be configured" },
        Case { name: "global opsgenie pair", input: "global: {opsgenie_api_key: k, opsgenie_api_key_file: f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured" },
        Case { name: "global victorops pair", input: "global: {victorops_api_key: k, victorops_api_key_file: f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "at most one of victorops_api_key & victorops_api_key_file must be configured" },
        Case { name: "global smtp pair", input: "global: {smtp_auth_password: k, smtp_auth_password_file: f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "at most one of smtp_auth_password & smtp_auth_password_file must be configured" },
        Case { name: "global rocketchat pair", input: "global: {rocketchat_token: k, rocketchat_token_file: f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "at most one of rocketchat_token & rocketchat_token_file must be configured" },
        Case { name: "global rocketchat id pair", input: "global: {rocketchat_token_id: k, rocketchat_token_id_file: f}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "at most one of rocketchat_token_id & rocketchat_token_id_file must be configured" },
        Case { name: "url scheme", input: "global: {pagerduty_url: 'ftp://x'}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "unsupported scheme \"ftp\" for URL" },
        Case { name: "url host", input: "global: {pagerduty_url: 'http://'}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "missing host for URL" },
        Case { name: "smarthost port", input: "global: {smtp_smarthost: 'h'}\nroute: {receiver: r}\nreceivers: [{name: r}]\n", want: "address h: missing port in address" },
    ];
    for c in cases {
        let got = err(c.input);
        assert!(got.contains(c.want), "{}: got {got:?}, want substring {:?}", c.name, c.want);
    }
}

#[test]
fn receiver_errors() {
    let cases = [
        Case { name: "webhook none", input: "  webhook_configs: [{}]\n", want: "one of url or url_file must be configured" },
        Case { name: "webhook both", input: "  webhook_configs: [{url: 'http://x', url_file: f}]\n", want: "at most one of url & url_file must be configured" },
        Case { name: "email to", input: "  email_configs: [{from: a@b, smarthost: 'h:25'}]\n", want: "missing to address in email config" },
        Case { name: "email header dup", input: "  email_configs: [{to: a@b, from: a@b, smarthost: 'h:25', headers: {subject: a, Subject: b}}]\n", want: "duplicate header \"Subject\" in email config" },
        Case { name: "email smarthost", input: "  email_configs: [{to: a@b, from: a@b}]\n", want: "no global SMTP smarthost set" },
        Case { name: "email from", input: "  email_configs: [{to: a@b, smarthost: 'h:25'}]\n", want: "no global SMTP from set" },
        Case { name: "pagerduty key", input: "  pagerduty_configs: [{}]\n", want: "missing service or routing key in PagerDuty config" },
        Case { name: "pagerduty pair", input: "  pagerduty_configs: [{routing_key: a, routing_key_file: b}]\n", want: "at most one of routing_key & routing_key_file must be configured" },
        Case { name: "slack global", input: "  slack_configs: [{channel: x}]\n", want: "no global Slack API URL set either inline or in a file" },
        Case { name: "slack pair", input: "  slack_configs: [{api_url: 'http://x', api_url_file: f}]\n", want: "at most one of api_url & api_url_file must be configured" },
        Case { name: "slack field", input: "  slack_configs: [{api_url: 'http://x', fields: [{title: t}]}]\n", want: "missing value in Slack field configuration" },
        Case { name: "slack action", input: "  slack_configs: [{api_url: 'http://x', actions: [{type: button, text: t}]}]\n", want: "missing name or url in Slack action configuration" },
        Case { name: "opsgenie key", input: "  opsgenie_configs: [{}]\n", want: "no global OpsGenie API Key set either inline or in a file" },
        Case { name: "opsgenie responder", input: "  opsgenie_configs: [{api_key: k, responders: [{type: team}]}]\n", want: "has to have at least one of id, username or name specified" },
        Case { name: "opsgenie responder type", input: "  opsgenie_configs: [{api_key: k, responders: [{name: n, type: robot}]}]\n", want: "type does not match valid options ^(team|teams|user|escalation|schedule)$" },
        Case { name: "wechat secret", input: "  wechat_configs: [{}]\n", want: "no global Wechat ApiSecret set" },
        Case { name: "wechat corp", input: "  wechat_configs: [{api_secret: s}]\n", want: "no global Wechat CorpID set" },
        Case { name: "wechat type", input: "  wechat_configs: [{api_secret: s, corp_id: c, message_type: html}]\n", want: "weChat message type \"html\" does not match valid options ^(text|markdown)$" },
        Case { name: "victorops routing", input: "  victorops_configs: [{api_key: k}]\n", want: "missing Routing key in VictorOps config" },
        Case { name: "victorops key", input: "  victorops_configs: [{routing_key: r}]\n", want: "no global VictorOps API Key set" },
        Case { name: "victorops custom", input: "  victorops_configs: [{api_key: k, routing_key: r, custom_fields: {entity_id: x}}]\n", want: "victorOps config contains custom field entity_id which cannot be used" },
        Case { name: "pushover user", input: "  pushover_configs: [{token: t}]\n", want: "one of user_key or user_key_file must be configured" },
        Case { name: "pushover token", input: "  pushover_configs: [{user_key: u}]\n", want: "one of token or token_file must be configured" },
        Case { name: "pushover retry", input: "  pushover_configs: [{user_key: u, token: t, retry: 1d}]\n", want: "time: unknown unit" },
        Case { name: "sns target", input: "  sns_configs: [{}]\n", want: "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config" },
        Case { name: "telegram token", input: "  telegram_configs: [{chat_id: 1}]\n", want: "missing bot_token or bot_token_file on telegram_config" },
        Case { name: "telegram chat", input: "  telegram_configs: [{bot_token: t}]\n", want: "missing chat_id on telegram_config" },
        Case { name: "telegram parse mode", input: "  telegram_configs: [{bot_token: t, chat_id: 1, parse_mode: md}]\n", want: "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string" },
        Case { name: "discord url", input: "  discord_configs: [{}]\n", want: "one of webhook_url or webhook_url_file must be configured" },
        Case { name: "webex room", input: "  webex_configs: [{http_config: {authorization: {credentials: c}}}]\n", want: "missing room_id on webex_config" },
        Case { name: "webex auth", input: "  webex_configs: [{room_id: r}]\n", want: "missing webex_configs.http_config.authorization" },
        Case { name: "msteams url", input: "  msteams_configs: [{}]\n", want: "one of webhook_url or webhook_url_file must be configured" },
        Case { name: "msteamsv2 both", input: "  msteamsv2_configs: [{webhook_url: 'http://x', webhook_url_file: f}]\n", want: "at most one of webhook_url & webhook_url_file must be configured" },
        Case { name: "jira project", input: "  jira_configs: [{issue_type: Bug}]\n", want: "missing project in jira_config" },
        Case { name: "jira issue type", input: "  jira_configs: [{project: P}]\n", want: "missing issue_type in jira_config" },
        Case { name: "jira global", input: "  jira_configs: [{project: P, issue_type: Bug}]\n", want: "no global Jira Cloud URL set" },
        Case { name: "rocketchat id", input: "  rocketchat_configs: [{token: t}]\n", want: "no global Rocketchat TokenID set either inline or in a file" },
        Case { name: "rocketchat token", input: "  rocketchat_configs: [{token_id: t}]\n", want: "no global Rocketchat Token set either inline or in a file" },
        Case { name: "http basic type", input: "  webhook_configs: [{url: 'http://x', http_config: {authorization: {type: basic}}}]\n", want: "authorization type cannot be set to \"basic\", use \"basic_auth\" instead" },
        Case { name: "http exclusive", input: "  webhook_configs: [{url: 'http://x', http_config: {basic_auth: {username: u}, oauth2: {client_id: i, client_secret: s, token_url: t}}}]\n", want: "at most one of basic_auth, oauth2 & authorization must be configured" },
        Case { name: "unknown integration key", input: "  webhook_configs: [{url: 'http://x', bogus: 1}]\n", want: "unknown field `bogus`" },
        Case { name: "unknown receiver type", input: "  bogus_configs: [{}]\n", want: "unknown field `bogus_configs`" },
    ];
    for c in cases {
        let got = err(&with_receiver(c.input));
        assert!(got.contains(c.want), "{}: got {got:?}, want substring {:?}", c.name, c.want);
    }
}

#[test]
fn bad_corpus() {
    for path in common::yml_files("corpus-bad") {
        let text = std::fs::read_to_string(&path).unwrap();
        let want = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# want: "))
            .expect("first line `# want: <substring>`");
        let got = err(&text);
        assert!(got.contains(want), "{}: got {got:?}, want substring {want:?}", path.display());
    }
}
