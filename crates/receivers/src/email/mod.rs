//! `email_configs` (`notify/email` upstream): render the templated addresses, headers and bodies, then deliver
//! one message over SMTP to the smarthost.
//!
//! Session rules kept from upstream: port 465 is implicit TLS; otherwise STARTTLS is issued only when
//! `require_tls` is true, and then the server must advertise it; authentication happens only when the server
//! advertises AUTH and `auth_username` is set. Retry rule (ours, as the SMTP reply classes intend): connection
//! failures and 4xx replies retry, 5xx replies and template or address errors do not.

pub mod auth;
pub mod message;
mod settings;
pub mod smtp;

pub use settings::EmailSettings;

use crate::classify;
use crate::http::SecretSource;
use async_trait::async_trait;
use auth::Credentials;
use lettre::message::Mailboxes;
use lettre::Address;
use message::Rendered;
use smtp::{ConnectStep, Session, SmtpError, Target};
use std::fmt;
use std::sync::Arc;
use tocsin_model::clock::SharedClock;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template};

/// One email integration.
pub struct Email {
    settings: EmailSettings,
    template: Arc<Template>,
    clock: SharedClock,
    /// For `Message-Id` (upstream reads `os.Hostname()` once, at construction).
    hostname: String,
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The template set is large and not interesting here; settings redact their secrets.
        f.debug_struct("Email").field("settings", &self.settings).finish_non_exhaustive()
    }
}

use crate::chatpost::permanent;

fn retryable(message: String) -> NotifyError {
    NotifyError { retry: Retry::Yes, reason: FailureReason::Other, message }
}

/// `<step>: <smtp error>`, retried unless the server answered 5xx.
fn smtp_failure(step: &str, e: SmtpError) -> NotifyError {
    let reason = match &e {
        SmtpError::Reply { code, .. } if *code >= 500 => FailureReason::ServerError,
        SmtpError::Reply { .. } => FailureReason::ClientError,
        SmtpError::Transport(_) => FailureReason::Other,
    };
    let retry = if e.is_permanent() { Retry::No } else { Retry::Yes };
    NotifyError { retry, reason, message: format!("{step}: {e}") }
}

/// A password or secret for this send; files are read every time (so rotation needs no reload) and trimmed.
async fn read_secret(source: &Option<SecretSource>) -> Result<String, String> {
    match source {
        None => Ok(String::new()),
        Some(src) => crate::chatpost::read_source(src)
            .await
            .map_err(|(path, e)| format!("could not read {}: {e}", path.display())),
    }
}

/// The single address of `from` or every address of `to` (Go's `mail.ParseAddressList`).
fn parse_addresses(field: &str, text: &str) -> Result<Vec<Address>, NotifyError> {
    let boxes: Mailboxes = text.parse().map_err(|e| permanent(format!("parse '{field}' addresses: {e}")))?;
    Ok(boxes.into_iter().map(|m| m.email).collect())
}

impl Email {
    /// `template` is the application's template set (defaults plus the config's `templates:` files); `clock`
    /// dates the message and stamps its `Message-Id`.
    pub fn new(settings: EmailSettings, template: Arc<Template>, clock: SharedClock) -> Self {
        let hostname =
            hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_else(|_| "localhost".into());
        Self { settings, template, clock, hostname }
    }

    fn render(&self, data: &Data) -> Result<(Rendered, Address, Vec<Address>), NotifyError> {
        let t = &self.template;
        let s = &self.settings;
        let from =
            t.render_string(&s.from, data).map_err(|e| permanent(format!("execute 'from' template: {e}")))?;
        let to =
            t.render_string(&s.to, data).map_err(|e| permanent(format!("execute 'to' template: {e}")))?;
        let from = parse_addresses("from", &from)?;
        if from.len() != 1 {
            return Err(permanent(format!("must be exactly one 'from' address (got: {})", from.len())));
        }
        let to = parse_addresses("to", &to)?;
        let mut headers = Vec::with_capacity(s.headers.len());
        for (name, tmpl) in &s.headers {
            let value = t
                .render_string(tmpl, data)
                .map_err(|e| permanent(format!("execute {name:?} header template: {e}")))?;
            headers.push((name.clone(), value));
        }
        let text = if s.text.is_empty() {
            None
        } else {
            Some(
                t.render_string(&s.text, data)
                    .map_err(|e| permanent(format!("execute text template: {e}")))?,
            )
        };
        let html = if s.html.is_empty() {
            None
        } else {
            Some(
                t.render_html_string(&s.html, data)
                    .map_err(|e| permanent(format!("execute html template: {e}")))?,
            )
        };
        let from = from.into_iter().next().expect("exactly one 'from' address was checked above");
        Ok((Rendered { headers, text, html }, from, to))
    }

    async fn credentials(&self) -> Result<Credentials, String> {
        let s = &self.settings;
        Ok(Credentials {
            username: s.auth_username.clone(),
            password: read_secret(&s.auth_password).await?,
            secret: read_secret(&s.auth_secret).await?,
            identity: s.auth_identity.clone(),
        })
    }

    async fn send(
        &self,
        m: &Rendered,
        from: Address,
        to: Vec<Address>,
        creds: &mut Option<Credentials>,
    ) -> Result<(), NotifyError> {
        let s = &self.settings;
        let addr = s.smarthost_string();
        let port = s.port().ok_or_else(|| {
            retryable(format!("establish connection to server: dial tcp {addr}: unknown port"))
        })?;
        let target = Target { host: &s.smarthost_host, port, hello: &s.hello, tls: &s.tls };
        let mut session = Session::connect(&target).await.map_err(|(step, e)| match step {
            ConnectStep::Dial { tls: false } => smtp_failure("establish connection to server", e),
            ConnectStep::Dial { tls: true } => smtp_failure("establish TLS connection to server", e),
            ConnectStep::Hello => smtp_failure("send EHLO command", e),
        })?;
        let result = self.converse(&mut session, &target, m, from, to, creds).await;
        session.quit().await;
        result
    }

    async fn converse(
        &self,
        session: &mut Session,
        target: &Target<'_>,
        m: &Rendered,
        from: Address,
        to: Vec<Address>,
        creds: &mut Option<Credentials>,
    ) -> Result<(), NotifyError> {
        let s = &self.settings;
        if s.require_tls && !session.is_encrypted() {
            if !session.extensions.starttls {
                return Err(retryable(format!(
                    "'require_tls' is true (default) but {:?} does not advertise the STARTTLS extension",
                    s.smarthost_string()
                )));
            }
            session.starttls(target).await.map_err(|e| smtp_failure("send STARTTLS command", e))?;
        }
        if let Some(offered) = session.extensions.auth.clone() {
            let c = match creds {
                Some(c) => c,
                None => {
                    let c = self
                        .credentials()
                        .await
                        .map_err(|e| retryable(format!("find auth mechanism: {e}")))?;
                    creds.insert(c)
                }
            };
            if let Some(mech) =
                auth::choose(&offered, c).map_err(|e| retryable(format!("find auth mechanism: {e}")))?
            {
                auth::authenticate(session, mech, c, &s.smarthost_host)
                    .await
                    .map_err(|e| smtp_failure(&format!("{} auth", mech.go_type()), e))?;
            }
        }
        session.mail(from).await.map_err(|e| smtp_failure("send MAIL command", e))?;
        for addr in to {
            session.rcpt(addr).await.map_err(|e| smtp_failure("send RCPT command", e))?;
        }
        session.data().await.map_err(|e| smtp_failure("send DATA command", e))?;
        let now = self.clock.now();
        let nanos = now.timestamp_nanos_opt().unwrap_or_default();
        let message_id = format!("<{nanos}.{}@{}>", rand::random::<u64>(), self.hostname);
        let boundary: String = (0..30).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        let bytes = message::build(m, &message_id, now, &boundary);
        session.message(&bytes).await.map_err(|e| smtp_failure("send message", e))
    }
}

#[async_trait]
impl Notifier for Email {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let owned: Vec<Alert> = alerts.iter().map(|a| (**a).clone()).collect();
        let data =
            Data::new(&ctx.receiver, &ctx.group_labels, &owned, &ctx.external_url, ctx.now.fixed_offset());
        let mut creds = None;
        let result = match self.render(&data) {
            Ok((m, from, to)) => self.send(&m, from, to, &mut creds).await,
            Err(e) => Err(e),
        };
        let mut secrets: Vec<&str> = Vec::new();
        if let Some(c) = &creds {
            secrets.extend([c.password.as_str(), c.secret.as_str()]);
        }
        if let Some(SecretSource::Inline(p)) = &self.settings.auth_password {
            secrets.push(p);
        }
        classify::finish(result, ctx, "email", &secrets)
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}
