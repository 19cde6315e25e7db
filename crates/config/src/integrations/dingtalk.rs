//! `dingtalk_configs` (tocsin's own; Alertmanager has none): a DingTalk custom group robot, replacing the
//! prometheus-webhook-dingtalk bridge. Field names follow the other Alertmanager receivers (`url`/`url_file`,
//! `send_resolved`, `max_alerts`, `http_config`); the bridge's `mention` block becomes `at_mobiles`/`at_all`.

use super::{at_most_one, inherit_http, resolve_http, tmpl, validate_http, yes, IntegrationConfig};
use crate::global::GlobalConfig;
use crate::http::HttpClientConfig;
use crate::paths::resolve;
use crate::secret::{Secret, SecretUrl};
use crate::yamlish::string_like;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;

/// The message types tocsin sends to a DingTalk robot.
pub const DINGTALK_MESSAGE_TYPES: [&str; 3] = ["markdown", "text", "actionCard"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DingTalkConfig {
    #[serde(default = "yes")]
    pub send_resolved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// The robot webhook (`https://oapi.dingtalk.com/robot/send?access_token=…`); the token makes it a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SecretUrl>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url_file: String,
    /// The `SEC…` signing secret (加签); empty = requests are not signed.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub secret: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_file: String,
    /// `markdown` (default), `text` or `actionCard`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message_type: String,
    #[serde(default = "default_title", skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default = "default_text", skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Mobiles to @-mention; also appended to the text as `@<mobile>`, without which DingTalk does not highlight them.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "string_list")]
    pub at_mobiles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "string_list")]
    pub at_user_ids: Vec<String>,
    #[serde(default)]
    pub at_all: bool,
    /// 0 = unlimited; further alerts are summarised as "… N more alerts".
    #[serde(default)]
    pub max_alerts: u64,
}

fn default_title() -> String {
    tmpl("dingtalk.default.title")
}
fn default_text() -> String {
    tmpl("dingtalk.default.text")
}

/// A list of YAML scalars read as strings, so unquoted mobiles (`- 13800000000`) are accepted.
pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Item(#[serde(deserialize_with = "string_like")] String);
    Ok(Vec::<Item>::deserialize(d)?.into_iter().map(|i| i.0).collect())
}

/// `<kind> message type "x" does not match valid options ^(a|b)$`, in the wording of `wechat_configs`.
pub(crate) fn check_message_type(kind: &str, value: &mut String, allowed: &[&str]) -> Result<(), String> {
    if value.is_empty() {
        allowed[0].clone_into(value);
    }
    if allowed.contains(&value.as_str()) {
        return Ok(());
    }
    Err(format!("{kind} message type {value:?} does not match valid options ^({})$", allowed.join("|")))
}

/// `one of url or url_file must be configured` / `at most one of url & url_file must be configured`.
pub(crate) fn check_url(url: &Option<SecretUrl>, url_file: &str) -> Result<(), String> {
    if url.is_none() && url_file.is_empty() {
        return Err("one of url or url_file must be configured".into());
    }
    at_most_one("url", url.is_some(), "url_file", !url_file.is_empty())
}

impl IntegrationConfig for DingTalkConfig {
    const NAME: &'static str = "dingtalk";

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn validate(&mut self) -> Result<(), String> {
        check_url(&self.url, &self.url_file)?;
        at_most_one("secret", !self.secret.is_empty(), "secret_file", !self.secret_file.is_empty())?;
        check_message_type("dingtalk", &mut self.message_type, &DINGTALK_MESSAGE_TYPES)?;
        validate_http(&mut self.http_config)
    }

    fn inherit(&mut self, global: &GlobalConfig) -> Result<(), String> {
        inherit_http(&mut self.http_config, global);
        Ok(())
    }

    fn resolve_paths(&mut self, base: &Path) {
        resolve_http(&mut self.http_config, base);
        self.url_file = resolve(base, &self.url_file);
        self.secret_file = resolve(base, &self.secret_file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<DingTalkConfig, String> {
        let mut c: DingTalkConfig = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    #[test]
    fn defaults_and_validation() {
        struct Case {
            name: &'static str,
            input: &'static str,
            want: Result<(), &'static str>,
        }
        let cases = [
            Case { name: "minimal", input: "url: https://oapi.dingtalk.com/robot/send?access_token=t", want: Ok(()) },
            Case { name: "no url", input: "at_all: true", want: Err("one of url or url_file must be configured") },
            Case {
                name: "both urls",
                input: "url: https://x/y\nurl_file: /f",
                want: Err("at most one of url & url_file must be configured"),
            },
            Case {
                name: "both secrets",
                input: "url: https://x/y\nsecret: SEC1\nsecret_file: /s",
                want: Err("at most one of secret & secret_file must be configured"),
            },
            Case {
                name: "bad type",
                input: "url: https://x/y\nmessage_type: link",
                want: Err(
                    "dingtalk message type \"link\" does not match valid options ^(markdown|text|actionCard)$",
                ),
            },
            Case { name: "action card", input: "url: https://x/y\nmessage_type: actionCard", want: Ok(()) },
        ];
        for c in cases {
            let got = parse(c.input).map(|_| ());
            assert_eq!(got, c.want.map_err(str::to_owned), "{}", c.name);
        }
        let c = parse("url: https://x/y\nat_mobiles: [13800000000, '+852-12345678']").unwrap();
        assert_eq!(c.message_type, "markdown");
        assert!(c.send_resolved);
        assert_eq!(c.title, "{{ template \"dingtalk.default.title\" . }}");
        assert_eq!(c.text, "{{ template \"dingtalk.default.text\" . }}");
        assert_eq!(c.at_mobiles, ["13800000000", "+852-12345678"]);
    }

    #[test]
    fn secrets_do_not_serialise() {
        let c = parse("url: https://x/robot?access_token=tok123\nsecret: SECabc").unwrap();
        let y = serde_yaml_ng::to_string(&c).unwrap();
        assert!(!y.contains("tok123") && !y.contains("SECabc"), "{y}");
    }
}
