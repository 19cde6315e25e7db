//! What an email integration needs, independent of how `alertmanager.yml` spells it; built from the resolved
//! [`EmailConfig`] (globals already inherited, paths already resolved).

use crate::http::SecretSource;
use crate::tls::TlsSettings;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tocsin_config::integrations::email::default_subject;
use tocsin_config::EmailConfig;

#[derive(Debug, Clone, PartialEq)]
pub struct EmailSettings {
    pub send_resolved: bool,
    /// Template of the comma-separated recipient list (`to`).
    pub to: String,
    /// Template of the sender (`from`): exactly one address.
    pub from: String,
    /// The EHLO name (`hello`; the global default is `localhost`).
    pub hello: String,
    pub smarthost_host: String,
    /// Kept as text, as upstream compares it with `"465"`.
    pub smarthost_port: String,
    pub auth_username: String,
    /// `auth_password` or `auth_password_file` (read, trimmed, at every send).
    pub auth_password: Option<SecretSource>,
    /// `auth_secret` (CRAM-MD5).
    pub auth_secret: Option<SecretSource>,
    pub auth_identity: String,
    /// Canonical header name → value template, with `Subject`, `To` and `From` filled in when not configured.
    pub headers: BTreeMap<String, String>,
    /// HTML body template; empty = no HTML part.
    pub html: String,
    /// Text body template; empty = no text part.
    pub text: String,
    pub require_tls: bool,
    pub tls: TlsSettings,
}

impl EmailSettings {
    /// Settings for `to` via `smarthost` (`host:port`) with upstream's defaults: the default subject and HTML
    /// body, `hello: localhost`, `require_tls: true`, no auth, `send_resolved: false`.
    pub fn new(smarthost_host: &str, smarthost_port: u16, from: &str, to: &str) -> Self {
        let mut s = EmailSettings {
            send_resolved: false,
            to: to.to_owned(),
            from: from.to_owned(),
            hello: "localhost".to_owned(),
            smarthost_host: smarthost_host.to_owned(),
            smarthost_port: smarthost_port.to_string(),
            auth_username: String::new(),
            auth_password: None,
            auth_secret: None,
            auth_identity: String::new(),
            headers: BTreeMap::new(),
            html: r#"{{ template "email.default.html" . }}"#.to_owned(),
            text: String::new(),
            require_tls: true,
            tls: TlsSettings::default(),
        };
        s.fill_default_headers();
        s
    }

    pub fn from_config(c: &EmailConfig) -> Self {
        let auth_password = if !c.auth_password_file.is_empty() {
            Some(SecretSource::File(PathBuf::from(&c.auth_password_file)))
        } else if !c.auth_password.is_empty() {
            Some(SecretSource::Inline(c.auth_password.expose().to_owned()))
        } else {
            None
        };
        let auth_secret = Some(&c.auth_secret)
            .filter(|s| !s.is_empty())
            .map(|s| SecretSource::Inline(s.expose().to_owned()));
        let mut s = EmailSettings {
            send_resolved: c.send_resolved,
            to: c.to.clone(),
            from: c.from.clone(),
            hello: if c.hello.is_empty() { "localhost".to_owned() } else { c.hello.clone() },
            smarthost_host: c.smarthost.host.clone(),
            smarthost_port: c.smarthost.port.clone(),
            auth_username: c.auth_username.clone(),
            auth_password,
            auth_secret,
            auth_identity: c.auth_identity.clone(),
            headers: c.headers.clone(),
            html: c.html.clone(),
            text: c.text.clone(),
            require_tls: c.require_tls.unwrap_or(true),
            tls: c.tls_config.as_ref().map(TlsSettings::from_config).unwrap_or_default(),
        };
        s.fill_default_headers();
        s
    }

    /// Upstream's notifier adds `Subject`, `To` and `From` headers unless configured (`To`/`From` take the
    /// `to`/`from` templates).
    pub fn fill_default_headers(&mut self) {
        self.headers.entry("Subject".into()).or_insert_with(default_subject);
        self.headers.entry("To".into()).or_insert_with(|| self.to.clone());
        self.headers.entry("From".into()).or_insert_with(|| self.from.clone());
    }

    /// `host:port` as upstream prints the smarthost (IPv6 in brackets).
    pub fn smarthost_string(&self) -> String {
        if self.smarthost_host.contains(':') {
            format!("[{}]:{}", self.smarthost_host, self.smarthost_port)
        } else {
            format!("{}:{}", self.smarthost_host, self.smarthost_port)
        }
    }

    /// The numeric port; `None` for a service name or garbage.
    pub fn port(&self) -> Option<u16> {
        self.smarthost_port.parse().ok()
    }
}
