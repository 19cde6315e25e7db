//! `jira_configs` (Alertmanager 0.28's `notify/jira`): one Jira issue per alert group, found again through the
//! label `ALERT{<SHA-256 of the group key>}`.
//!
//! Per notification: search (JQL on project + that label; open issues, or with a reopen transition and
//! `reopen_duration` also issues resolved within it; never those resolved as `wont_fix_resolution`); no issue
//! and every alert resolved → nothing to do; otherwise create (`POST issue`) or update (`PUT issue/<key>`) it,
//! then reopen a done issue of a firing group or resolve an open issue of a resolved group by the configured
//! transition names. Summary ≤255 runes, description ≤32767 (cut with `…`); with an api_url path ending in
//! `/3` (REST API v3) the rendered description must be Atlassian Document Format JSON. 5xx and 429 are retried;
//! as upstream, transport and body-read errors are not (a timed-out create may have succeeded).
//!
//! Search endpoint: `<api_url>/search`, except on Jira Cloud hosts (`*.atlassian.net`), where Atlassian removed it
//! and upstream's later "auto" mode uses `/rest/api/3/search/jql`; we do the same.

use crate::chatpost::{permanent, truncate_in_runes};
use crate::classify;
use crate::dingtalk::robot;
use crate::http::{HttpClient, HttpClientSettings};
use async_trait::async_trait;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tocsin_config::JiraConfig;
use tocsin_model::Alert;
use tocsin_pipeline::notifier::{Notifier, NotifyCtx, NotifyError, Retry};
use tocsin_template::{Data, Template};

/// The integration name (`integration` metric label, nflog key).
pub const NAME: &str = "jira";
/// Jira's summary limit.
pub const MAX_SUMMARY: usize = 255;
/// Jira's description limit.
pub const MAX_DESCRIPTION: usize = 32767;
/// The most of a response body that is read (search results ask for two issues and one field).
const MAX_RESPONSE: usize = 1024 * 1024;

/// How many times the output of a `fields` template may be parsed as JSON and rendered again.
pub const MAX_TEMPLATE_NESTING: usize = 8;
/// How deep lists and maps may nest in a `fields` value, counted across re-renders (bounds the recursion).
pub const MAX_VALUE_NESTING: usize = 32;
/// The most template renders of all `fields` of one issue.
pub const MAX_FIELD_RENDERS: usize = 10_000;
/// The most bytes all `fields` templates of one issue may render (summed over every render).
pub const MAX_FIELD_BYTES: usize = 16 << 20;

/// What the `fields` templates of one issue may still spend.
struct FieldBudget {
    renders: usize,
    bytes: usize,
}

/// Where [`Jira::render_value`] is: re-renders above it and lists/maps around it.
#[derive(Debug, Clone, Copy, Default)]
struct Depth {
    templates: usize,
    values: usize,
}

/// What a Jira integration needs; strings are templates unless said otherwise.
#[derive(Debug, Clone, PartialEq)]
pub struct JiraSettings {
    /// Not a template (upstream's is a URL).
    pub api_url: String,
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    pub description: String,
    pub labels: Vec<String>,
    pub priority: String,
    /// Transition names (plain).
    pub reopen_transition: String,
    pub resolve_transition: String,
    pub wont_fix_resolution: String,
    pub reopen_duration: Duration,
    /// Extra issue fields; string values (and nested map keys) are templates.
    pub fields: BTreeMap<String, Value>,
    pub send_resolved: bool,
    pub http: HttpClientSettings,
}

impl JiraSettings {
    pub fn from_config(c: &JiraConfig) -> Self {
        Self {
            api_url: c.api_url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
            project: c.project.clone(),
            issue_type: c.issue_type.clone(),
            summary: c.summary.clone(),
            description: c.description.clone(),
            labels: c.labels.clone(),
            priority: c.priority.clone(),
            reopen_transition: c.reopen_transition.clone(),
            resolve_transition: c.resolve_transition.clone(),
            wont_fix_resolution: c.wont_fix_resolution.clone(),
            reopen_duration: c.reopen_duration.0,
            fields: c.fields.clone(),
            send_resolved: c.send_resolved,
            http: c.http_config.as_ref().map(HttpClientSettings::from_config).unwrap_or_default(),
        }
    }
}

/// One Jira integration.
#[derive(Debug)]
pub struct Jira {
    settings: JiraSettings,
    client: HttpClient,
    template: Arc<Template>,
}

#[derive(Debug, Deserialize)]
struct SearchResult {
    #[serde(default)]
    issues: Vec<FoundIssue>,
}

#[derive(Debug, Deserialize)]
struct FoundIssue {
    #[serde(default)]
    key: String,
    fields: Option<FoundFields>,
}

#[derive(Debug, Deserialize)]
struct FoundFields {
    status: Option<Status>,
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(rename = "statusCategory")]
    category: StatusCategory,
}

#[derive(Debug, Deserialize)]
struct StatusCategory {
    #[serde(default)]
    key: String,
}

#[derive(Debug, Deserialize)]
struct Transitions {
    #[serde(default)]
    transitions: Vec<Transition>,
}

#[derive(Debug, Deserialize)]
struct Transition {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
}

/// A failed exchange or body read. Upstream's `doAPIRequest` returns these with `shouldRetry` false: a POST
/// that timed out may still have created the issue, and sending it again would create a second one.
fn not_retried(err: reqwest::Error) -> NotifyError {
    NotifyError { retry: Retry::No, ..classify::transport_error(err) }
}

/// `%q` of Go for the JQL strings: double-quoted, `"` and `\` escaped, control characters as `\n`, `\t`, `\xNN`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `URL.JoinPath(elem)`, parsed.
fn join_path(base: &str, elem: &str) -> Result<reqwest::Url, NotifyError> {
    reqwest::Url::parse(&crate::incident::join_path(base, elem))
        .map_err(|e| permanent(format!("invalid api_url: {e}")))
}

impl Jira {
    pub fn new(settings: JiraSettings, template: Arc<Template>) -> Self {
        let client = HttpClient::new(settings.http.clone());
        Self { settings, client, template }
    }

    pub fn from_config(c: &JiraConfig, template: Arc<Template>) -> Self {
        Self::new(JiraSettings::from_config(c), template)
    }

    fn render(&self, field: &str, text: &str, data: &Arc<Data>) -> Result<String, NotifyError> {
        self.template.render_shared(text, data).map_err(|e| permanent(format!("{field} template: {e}")))
    }

    /// Upstream's `DeepCopyWithTemplate`: strings rendered (a result that is a JSON number, bool, null, list or
    /// object becomes that value, rendered again inside), lists element-wise, maps with rendered keys.
    ///
    /// Alert data reaches these templates, so a label can hold a template that renders to itself: the re-rendering
    /// of parsed output is limited to [`MAX_TEMPLATE_NESTING`] levels, lists and maps to [`MAX_VALUE_NESTING`],
    /// and all renders of one issue share a [`FieldBudget`], so neither recursion nor fan-out can exhaust the
    /// stack, the CPU or memory.
    fn render_value(
        &self,
        name: &str,
        v: &Value,
        data: &Arc<Data>,
        depth: Depth,
        budget: &mut FieldBudget,
    ) -> Result<Value, NotifyError> {
        let inner = Depth { values: depth.values + 1, ..depth };
        if matches!(v, Value::Array(_) | Value::Object(_)) && inner.values > MAX_VALUE_NESTING {
            return Err(permanent(format!(
                "jira field {name}: value nesting deeper than {MAX_VALUE_NESTING}"
            )));
        }
        Ok(match v {
            Value::String(s) => {
                let out = self.render_field(name, s, data, depth, budget)?;
                match serde_json::from_str::<Value>(&out) {
                    Ok(Value::String(_)) | Err(_) => Value::String(out),
                    Ok(parsed) => {
                        let again = Depth { templates: depth.templates + 1, ..depth };
                        self.render_value(name, &parsed, data, again, budget)?
                    }
                }
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.render_value(name, i, data, inner, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    let key = self.render_field(name, k, data, depth, budget)?;
                    out.insert(key, self.render_value(name, v, data, inner, budget)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// One render of a `fields` template at `depth` re-renders, charged to `budget`.
    fn render_field(
        &self,
        name: &str,
        text: &str,
        data: &Arc<Data>,
        depth: Depth,
        budget: &mut FieldBudget,
    ) -> Result<String, NotifyError> {
        if depth.templates > MAX_TEMPLATE_NESTING {
            return Err(permanent(format!(
                "jira field {name}: template nesting deeper than {MAX_TEMPLATE_NESTING}"
            )));
        }
        if budget.renders == 0 {
            return Err(permanent(format!(
                "jira field {name}: more than {MAX_FIELD_RENDERS} template renders"
            )));
        }
        budget.renders -= 1;
        let out = self.render("fields", text, data)?;
        budget.bytes = budget.bytes.checked_sub(out.len()).ok_or_else(|| {
            permanent(format!("jira field {name}: templates render more than {MAX_FIELD_BYTES} bytes"))
        })?;
        Ok(out)
    }

    fn is_api_v3(&self) -> bool {
        reqwest::Url::parse(&self.settings.api_url).is_ok_and(|u| u.path().ends_with("/3"))
    }

    /// The create/update body: `{"fields": {…}}` with keys sorted as Go marshals a map.
    pub fn issue_body(&self, group_hash: &str, data: &Arc<Data>) -> Result<Value, NotifyError> {
        let s = &self.settings;
        let summary = truncate_in_runes(&self.render("summary", &s.summary, data)?, MAX_SUMMARY).0;
        let project = self.render("project", &s.project, data)?;
        let issue_type = self.render("issue_type", &s.issue_type, data)?;
        let mut custom = Map::new();
        let mut budget = FieldBudget { renders: MAX_FIELD_RENDERS, bytes: MAX_FIELD_BYTES };
        for (k, v) in &s.fields {
            custom.insert(k.clone(), self.render_value(k, v, data, Depth::default(), &mut budget)?);
        }
        let description =
            truncate_in_runes(&self.render("description", &s.description, data)?, MAX_DESCRIPTION).0;
        let description = if self.is_api_v3() {
            serde_json::from_str::<Value>(&description)
                .map_err(|e| permanent(format!("description unmarshaling: {e}")))?
        } else {
            Value::String(description)
        };
        let mut labels = Vec::with_capacity(s.labels.len() + 1);
        for (i, l) in s.labels.iter().enumerate() {
            labels.push(self.render(&format!("labels[{i}]"), l, data)?);
        }
        labels.push(format!("ALERT{{{group_hash}}}"));
        labels.sort();
        let priority = self.render("priority", &s.priority, data)?;

        let mut fields = Map::new();
        fields.insert("description".into(), description);
        fields.insert("summary".into(), Value::String(summary));
        fields.insert("issuetype".into(), json!({ "name": issue_type }));
        fields.insert("labels".into(), json!(labels));
        if !priority.is_empty() {
            fields.insert("priority".into(), json!({ "name": priority }));
        }
        fields.insert("project".into(), json!({ "key": project }));
        fields.extend(custom);
        Ok(json!({ "fields": fields }))
    }

    /// The JQL that finds this group's issue.
    pub fn search_jql(
        &self,
        group_hash: &str,
        firing: bool,
        data: &Arc<Data>,
    ) -> Result<String, NotifyError> {
        let s = &self.settings;
        let mut jql = String::new();
        if !s.wont_fix_resolution.is_empty() {
            jql.push_str(&format!("resolution != {} and ", go_quote(&s.wont_fix_resolution)));
        }
        let minutes = s.reopen_duration.as_secs() / 60;
        if firing && !s.reopen_transition.is_empty() && minutes > 0 {
            jql.push_str(&format!("(resolutiondate is EMPTY OR resolutiondate >= -{minutes}m) and "));
        } else {
            jql.push_str("statusCategory != Done and ");
        }
        let project = self
            .render("project", &s.project, data)
            .map_err(|e| permanent(format!("invalid project template or value: {}", e.message)))?;
        jql.push_str(&format!(
            "project={} and labels={} order by status ASC,resolutiondate DESC",
            go_quote(&project),
            go_quote(&format!("ALERT{{{group_hash}}}"))
        ));
        Ok(jql)
    }

    fn search_url(&self) -> Result<reqwest::Url, NotifyError> {
        let base = join_path(&self.settings.api_url, "search")?;
        if !base.host_str().is_some_and(|h| h.ends_with("atlassian.net")) {
            return Ok(base);
        }
        // Upstream's "auto" mode: the v3 /search/jql endpoint, replacing the first "/2" of the URL.
        let jql_url = join_path(&self.settings.api_url, "search/jql")?.to_string().replacen("/2", "/3", 1);
        reqwest::Url::parse(&jql_url).map_err(|e| permanent(format!("invalid api_url: {e}")))
    }

    /// One API call; the body of a 2xx answer, else upstream's retry rules (5xx and 429 retried).
    async fn request(
        &self,
        method: Method,
        url: reqwest::Url,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, NotifyError> {
        let client = self.client.client().await.map_err(|e| permanent(e.to_string()))?;
        let mut rb = client
            .request(method, url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("Accept-Language", HeaderValue::from_static("en"));
        if let Some(b) = body {
            let bytes = crate::gojson::encode(b).map_err(|e| permanent(format!("encode request: {e}")))?;
            rb = rb.body(bytes);
        }
        let rb = self.client.authorize(rb).await.map_err(|e| permanent(e.to_string()))?;
        let mut resp = rb.send().await.map_err(not_retried)?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body = classify::read_bounded(resp).await;
            return Err(classify::check_status(status, &body)
                .err()
                .unwrap_or_else(|| permanent(format!("unexpected status code {status}"))));
        }
        let mut out = Vec::new();
        while out.len() < MAX_RESPONSE {
            match resp.chunk().await {
                Ok(Some(c)) => out.extend_from_slice(&c),
                Ok(None) => break,
                Err(e) => return Err(not_retried(e)),
            }
        }
        Ok(out)
    }

    async fn search(&self, jql: String) -> Result<Option<FoundIssue>, NotifyError> {
        let body = json!({ "fields": ["status"], "jql": jql, "maxResults": 2 });
        let answer = self.request(Method::POST, self.search_url()?, Some(&body)).await?;
        let result: SearchResult =
            serde_json::from_slice(&answer).map_err(|e| permanent(format!("decode search result: {e}")))?;
        Ok(result.issues.into_iter().next())
    }

    /// Reopens a done issue of a firing group, resolves an open issue of a resolved group. An unset
    /// transition name means "leave the issue's status alone" (upstream would look for a transition named "").
    async fn transition(&self, issue: &FoundIssue, firing: bool) -> Result<(), NotifyError> {
        let Some(status) = issue.fields.as_ref().and_then(|f| f.status.as_ref()) else { return Ok(()) };
        if issue.key.is_empty() {
            return Ok(());
        }
        let done = status.category.key == "done";
        let name = match (firing, done) {
            (true, true) => &self.settings.reopen_transition,
            (false, false) => &self.settings.resolve_transition,
            _ => return Ok(()),
        };
        if name.is_empty() {
            return Ok(());
        }
        let url = join_path(&self.settings.api_url, &format!("issue/{}/transitions", issue.key))?;
        let answer = self.request(Method::GET, url.clone(), None).await?;
        let list: Transitions =
            serde_json::from_slice(&answer).map_err(|e| permanent(format!("decode transitions: {e}")))?;
        let Some(t) = list.transitions.iter().find(|t| t.name == *name) else {
            return Err(permanent(format!("can't find transition {name} for issue {}", issue.key)));
        };
        self.request(Method::POST, url, Some(&json!({ "transition": { "id": t.id } }))).await?;
        Ok(())
    }
}

#[async_trait]
impl Notifier for Jira {
    async fn notify(&self, ctx: &NotifyCtx, alerts: &[Arc<Alert>]) -> Result<(), NotifyError> {
        let hash = crate::sns::sigv4::sha256_hex(ctx.group_key.as_bytes());
        let data = robot::shared_data(ctx, alerts);
        let now = tocsin_model::time::utc(ctx.now);
        let firing = alerts.iter().any(|a| !a.resolved_at(now));
        let jql = self.search_jql(&hash, firing, &data)?;
        let existing = self.search(jql).await.map_err(|mut e| {
            e.message = format!("failed to look up existing issues: {}", e.message);
            e
        })?;
        if existing.is_none() && !firing {
            return Ok(());
        }
        let body = self.issue_body(&hash, &data)?;
        let (method, path) = match &existing {
            Some(i) => (Method::PUT, format!("issue/{}", i.key)),
            None => (Method::POST, "issue".to_owned()),
        };
        let url = join_path(&self.settings.api_url, &path)?;
        self.request(method.clone(), url, Some(&body)).await.map_err(|mut e| {
            e.message = format!("failed to {method} request to {path:?}: {}", e.message);
            e
        })?;
        match &existing {
            Some(issue) => self.transition(issue, firing).await,
            None => Ok(()),
        }
    }

    fn send_resolved(&self) -> bool {
        self.settings.send_resolved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote(r#"a "b" \ c"#), r#""a \"b\" \\ c""#);
        assert_eq!(go_quote("x\ny\u{1}"), r#""x\ny\x01""#);
        assert_eq!(go_quote("déjà"), "\"déjà\"");
    }

    #[test]
    fn cloud_hosts_search_with_the_v3_jql_endpoint() {
        let jira = |url: &str| {
            let mut s = JiraSettings::from_config(&serde_yaml_free_config());
            s.api_url = url.to_owned();
            Jira::new(s, Arc::new(Template::new()))
        };
        let url = |u: &str| jira(u).search_url().unwrap().to_string();
        assert_eq!(
            url("https://x.atlassian.net/rest/api/2"),
            "https://x.atlassian.net/rest/api/3/search/jql"
        );
        assert_eq!(
            url("https://x.atlassian.net/rest/api/3/"),
            "https://x.atlassian.net/rest/api/3/search/jql"
        );
        assert_eq!(url("https://jira.example/rest/api/2"), "https://jira.example/rest/api/2/search");
    }

    /// A config with only the required fields (the config crate fills the defaults on load).
    fn serde_yaml_free_config() -> JiraConfig {
        serde_json::from_value(json!({ "project": "OPS", "issue_type": "Bug" })).unwrap()
    }

    #[test]
    fn joins_paths() {
        let j = |b: &str, e: &str| join_path(b, e).unwrap().to_string();
        assert_eq!(j("https://x/rest/api/2", "issue"), "https://x/rest/api/2/issue");
        assert_eq!(j("https://x/rest/api/2/", "issue/K-1"), "https://x/rest/api/2/issue/K-1");
    }
}
