//! `sns_configs`: AWS SNS `Publish` (Alertmanager's `notify/sns`), signed with SigV4 ([`sigv4`]) by our own code
//! instead of an AWS SDK.
//!
//! Per notification: render `topic_arn`, `phone_number`, `target_arn`, `subject`, `message` and `attributes`;
//! cut the message to 256 KiB (1600 bytes when a phone number is set) with attribute `truncated=true`; for a
//! FIFO topic (ARN ending `.fifo`) set `MessageDeduplicationId` and `MessageGroupId` to the SHA-256 of the group
//! key; POST the form ([`publish`]) to `api_url` (default `https://sns.<region>.amazonaws.com/`).
//!
//! Credentials: `sigv4.access_key`/`secret_key`, else the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`). Shared config profiles, `role_arn` (STS AssumeRole) and
//! instance roles are not implemented: such a send fails permanently, saying so. Other failures that are no HTTP
//! answer (building the client, missing credentials or region) are retried, as upstream retries every non-HTTP
//! Publish error.
//!
//! Region: `sigv4.region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`, else the region field of the topic/target
//! ARN or of an `sns.<region>.amazonaws.com` api_url (upstream has no such fallback and fails instead).

pub mod answer;
pub mod publish;
pub mod sigv4;

use crate::classify;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings};
use async_trait::async_trait;
use publish::Publish;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use tocsin_config::SnsConfig;
use tocsin_model::clock::SharedClock;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{FailureReason, Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template};

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "sns";

/// The signing service name.
pub const SERVICE: &str = "sns";

/// The body's content type, as aws-sdk-go v1 sends it.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Reads an environment variable; injectable so tests need not touch the process environment.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment; empty values count as unset, as in the AWS SDKs.
pub fn process_env() -> EnvLookup {
    Arc::new(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

/// `sigv4`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SigV4Settings {
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub profile: String,
    pub role_arn: String,
}

impl fmt::Debug for SigV4Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Settings")
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<secret>")
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .finish()
    }
}

/// What an SNS integration needs; every string but the sigv4 fields is a template.
#[derive(Debug, Clone, PartialEq)]
pub struct SnsSettings {
    pub api_url: String,
    pub sigv4: SigV4Settings,
    pub topic_arn: String,
    pub phone_number: String,
    pub target_arn: String,
    pub subject: String,
    pub message: String,
    pub attributes: BTreeMap<String, String>,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl SnsSettings {
    pub fn from_config(c: &SnsConfig) -> Self {
        Self {
            api_url: c.api_url.clone(),
            sigv4: SigV4Settings {
                region: c.sigv4.region.clone(),
                access_key: c.sigv4.access_key.clone(),
                secret_key: c.sigv4.secret_key.expose().to_owned(),
                profile: c.sigv4.profile.clone(),
                role_arn: c.sigv4.role_arn.clone(),
            },
            topic_arn: c.topic_arn.clone(),
            phone_number: c.phone_number.clone(),
            target_arn: c.target_arn.clone(),
            subject: c.subject.clone(),
            message: c.message.clone(),
            attributes: c.attributes.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One SNS integration.
pub struct Sns {
    settings: SnsSettings,
    client: HttpClient,
    template: Arc<Template>,
    clock: SharedClock,
    env: EnvLookup,
}

impl fmt::Debug for Sns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sns").field("settings", &self.settings).finish_non_exhaustive()
    }
}

fn permanent(reason: FailureReason, message: String) -> NotifyError {
    NotifyError { retry: Retry::No, reason, message }
}

/// A failure of the SDK's Publish that is no HTTP answer (client, credentials, region): upstream (0.25+)
/// returns `true, err` for any such error, so it is retried; a file or variable fixed meanwhile then works.
fn retryable(message: String) -> NotifyError {
    NotifyError { retry: Retry::Yes, reason: FailureReason::Other, message }
}

/// The region in an ARN (`arn:<partition>:sns:<region>:<account>:<name>`).
fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    parts.nth(2).filter(|r| !r.is_empty())
}

/// The region of an `sns.<region>.amazonaws.com[.cn]` host.
fn host_region(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    let rest = host.strip_prefix("sns.")?;
    let region = rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    (!region.is_empty() && !region.contains('.')).then(|| region.to_owned())
}

/// SNS's public endpoint in `region`.
fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://sns.{region}.{suffix}/")
}

/// `api_url` as aws-sdk-go v1 uses an endpoint: `https://` when no scheme is given, and the operation path `/`
/// appended, so `http://h/topic` is posted to `/topic/`.
fn endpoint_url(api_url: &str) -> Result<reqwest::Url, NotifyError> {
    let with_scheme = if api_url.contains("://") { api_url.to_owned() } else { format!("https://{api_url}") };
    let mut url = reqwest::Url::parse(&with_scheme)
        .map_err(|e| permanent(FailureReason::Other, format!("invalid api_url: {e}")))?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl Sns {
    /// Reads credentials from the process environment when the config has none.
    pub fn new(settings: SnsSettings, template: Arc<Template>, clock: SharedClock) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template, clock, env: process_env() }
    }

    pub fn from_config(c: &SnsConfig, template: Arc<Template>, clock: SharedClock) -> Self {
        Self::new(SnsSettings::from_config(c), template, clock)
    }

    /// Replaces where environment variables are read from (tests).
    pub fn with_env(mut self, env: EnvLookup) -> Self {
        self.env = env;
        self
    }

    fn render(&self, field: &str, text: &str, data: &Arc<Data>) -> Result<String, NotifyError> {
        self.template
            .render_shared(text, data)
            .map_err(|e| permanent(FailureReason::ClientError, format!("execute '{field}' template: {e}")))
    }

    /// The Publish request of a notification.
    pub fn publish(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<Publish, NotifyError> {
        self.publish_with(ctx, &robot::shared_data(ctx, alerts))
    }

    fn publish_with(&self, ctx: &NotifyCtx, data: &Arc<Data>) -> Result<Publish, NotifyError> {
        let s = &self.settings;
        let mut p = Publish::default();
        for (k, v) in &s.attributes {
            let name = self.render("attributes", k, data)?;
            let value = self.render("attributes", v, data)?;
            p.attributes.insert(name, value);
        }
        let mut limit = publish::MAX_MESSAGE;
        if !s.topic_arn.is_empty() {
            let arn = self.render("topic_arn", &s.topic_arn, data)?;
            if arn.ends_with(".fifo") {
                let key = sigv4::sha256_hex(ctx.group_key.as_bytes());
                p.deduplication_id = Some(key.clone());
                p.group_id = Some(key);
            }
            p.topic_arn = Some(arn);
        }
        if !s.phone_number.is_empty() {
            p.phone_number = Some(self.render("phone_number", &s.phone_number, data)?);
            limit = publish::MAX_SMS_MESSAGE;
        }
        if !s.target_arn.is_empty() {
            p.target_arn = Some(self.render("target_arn", &s.target_arn, data)?);
        }
        let message = self.render("message", &s.message, data)?;
        p.set_message(&message, limit);
        if !s.subject.is_empty() {
            let subject = self.render("subject", &s.subject, data)?;
            p.subject = Some(crate::chatpost::truncate_in_runes(&subject, publish::MAX_SUBJECT).0);
        }
        Ok(p)
    }

    /// The credentials to sign with: the config's, else the environment's.
    pub fn credentials(&self) -> Result<sigv4::Credentials, NotifyError> {
        let v4 = &self.settings.sigv4;
        let unsupported = |what: &str| {
            permanent(
                FailureReason::Other,
                format!(
                    "sigv4.{what} is not supported by tocsin; set sigv4.access_key/secret_key or \
                     AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                ),
            )
        };
        if !v4.role_arn.is_empty() {
            return Err(unsupported("role_arn"));
        }
        if !v4.access_key.is_empty() && !v4.secret_key.is_empty() {
            return Ok(sigv4::Credentials {
                access_key: v4.access_key.clone(),
                secret_key: v4.secret_key.clone(),
                session_token: None,
            });
        }
        if !v4.profile.is_empty() {
            return Err(unsupported("profile"));
        }
        let env = |names: &[&str]| names.iter().find_map(|n| (self.env)(n));
        match (
            env(&["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"]),
            env(&["AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY"]),
        ) {
            (Some(access_key), Some(secret_key)) => {
                Ok(sigv4::Credentials { access_key, secret_key, session_token: env(&["AWS_SESSION_TOKEN"]) })
            }
            _ => Err(retryable(
                "no AWS credentials: set sigv4.access_key/secret_key or AWS_ACCESS_KEY_ID/\
                 AWS_SECRET_ACCESS_KEY (shared credential files and instance roles are not supported)"
                    .to_owned(),
            )),
        }
    }

    /// The signing region (see the module doc for the order).
    fn region(&self, p: &Publish, api_url: Option<&reqwest::Url>) -> Result<String, NotifyError> {
        let configured = Some(self.settings.sigv4.region.clone()).filter(|r| !r.is_empty());
        configured
            .or_else(|| (self.env)("AWS_REGION"))
            .or_else(|| (self.env)("AWS_DEFAULT_REGION"))
            .or_else(|| {
                [&p.topic_arn, &p.target_arn]
                    .into_iter()
                    .flatten()
                    .find_map(|a| arn_region(a))
                    .map(str::to_owned)
            })
            .or_else(|| api_url.and_then(host_region))
            .ok_or_else(|| {
                retryable(
                    "region not configured in sns.sigv4.region or in default credentials chain".to_owned(),
                )
            })
    }

    /// Sends `p`, signed at the clock's current time.
    async fn send(&self, data: &Arc<Data>, p: &Publish) -> Result<(), NotifyError> {
        let api_url = self.render("api_url", &self.settings.api_url, data)?;
        let explicit = if api_url.is_empty() { None } else { Some(endpoint_url(&api_url)?) };
        let region = self.region(p, explicit.as_ref())?;
        let url = match explicit {
            Some(u) => u,
            None => endpoint_url(&default_endpoint(&region))?,
        };
        let creds = self.credentials()?;
        let body = p.encode().into_bytes();

        let now = self.clock.now();
        let date = sigv4::amz_date(now);
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(port)) => format!("{h}:{port}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(permanent(FailureReason::Other, "invalid api_url: no host".to_owned())),
        };
        let length = body.len().to_string();
        let mut headers = vec![
            ("Content-Length", length.as_str()),
            ("Content-Type", FORM_CONTENT_TYPE),
            ("Host", host.as_str()),
            ("X-Amz-Date", date.as_str()),
        ];
        if let Some(t) = &creds.session_token {
            headers.push(("X-Amz-Security-Token", t.as_str()));
        }
        let req = sigv4::Request {
            method: "POST",
            path: url.path(),
            query: url.query().unwrap_or(""),
            headers: &headers,
            payload: &body,
        };
        let signature = sigv4::sign(&req, &creds, sigv4::Scope { region: &region, service: SERVICE }, now);

        let secrets = [creds.secret_key.as_str(), creds.session_token.as_deref().unwrap_or("")];
        let client =
            self.client.client().await.map_err(|e| retryable(classify::redact(e.to_string(), &secrets)))?;
        let mut auth = HeaderValue::from_str(&signature.authorization)
            .map_err(|_| permanent(FailureReason::Other, "invalid Authorization header value".to_owned()))?;
        auth.set_sensitive(true);
        // Only the signed headers are set by us; reqwest adds Host, Content-Length and its own User-Agent
        // (unsigned, as v1 leaves User-Agent unsigned too).
        let mut rb = client
            .post(url)
            .header(CONTENT_TYPE, FORM_CONTENT_TYPE)
            .header("X-Amz-Date", date.as_str())
            .header(AUTHORIZATION, auth)
            .body(body);
        if let Some(t) = &creds.session_token {
            let mut v = HeaderValue::from_str(t)
                .map_err(|_| retryable("invalid AWS_SESSION_TOKEN header value".to_owned()))?;
            v.set_sensitive(true);
            rb = rb.header("X-Amz-Security-Token", v);
        }
        let resp = rb.send().await.map_err(classify::transport_error)?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            classify::drain(resp);
            return Ok(());
        }
        let answer = classify::read_bounded_redacted(resp, &secrets).await;
        let mut err = answer::failure(status, &answer);
        err.message = classify::redact(err.message, &secrets);
        Err(err)
    }
}

#[async_trait]
impl Notifier for Sns {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let data = robot::shared_data(ctx, alerts);
        let p = self.publish_with(ctx, &data)?;
        self.send(&data, &p).await
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_from_arns_and_hosts() {
        assert_eq!(arn_region("arn:aws:sns:eu-west-1:123:topic"), Some("eu-west-1"));
        assert_eq!(arn_region("arn:aws-cn:sns:cn-north-1:123:endpoint/APNS/a/b"), Some("cn-north-1"));
        assert_eq!(arn_region("arn:aws:sns::123:t"), None);
        assert_eq!(arn_region("nope"), None);
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert_eq!(host_region(&u("https://sns.us-west-2.amazonaws.com/")), Some("us-west-2".into()));
        assert_eq!(host_region(&u("https://sns.cn-north-1.amazonaws.com.cn/")), Some("cn-north-1".into()));
        assert_eq!(host_region(&u("http://127.0.0.1:9/")), None);
        assert_eq!(default_endpoint("cn-north-1"), "https://sns.cn-north-1.amazonaws.com.cn/");
    }

    #[test]
    fn endpoint_paths_like_the_sdk() {
        let path = |s: &str| endpoint_url(s).unwrap().to_string();
        assert_eq!(path("http://h:1/topic"), "http://h:1/topic/");
        assert_eq!(path("http://h:1"), "http://h:1/");
        assert_eq!(path("http://h:1/"), "http://h:1/");
        assert_eq!(path("sns.example.com"), "https://sns.example.com/");
        assert!(endpoint_url("http://").is_err());
    }
}
