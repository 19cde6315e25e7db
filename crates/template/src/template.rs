//! The template registry (Alertmanager's `template.Template`): the built-in defaults, then user files from the
//! `templates:` globs, later definitions replacing earlier ones; rendering as text or (simplified) HTML.

use std::collections::BTreeMap;
use std::sync::Arc;

use tocsin_model::clock::{SharedClock, SystemClock};

use crate::data::Data;
use crate::error::TemplateError;
use crate::exec::{Exec, Mode};
use crate::funcs::is_function;
use crate::parser::{merge_trees, parse, Tree};
use crate::value::Value;

/// Our default templates, with upstream's template names (`__subject`, `email.default.html`, ...).
pub const DEFAULT_TEMPLATES: &str = include_str!("default.tmpl");

/// A set of named templates.
#[derive(Debug, Clone)]
pub struct Template {
    trees: BTreeMap<String, Arc<Tree>>,
    clock: SharedClock,
}

impl Default for Template {
    fn default() -> Self {
        Self::new()
    }
}

impl Template {
    /// An empty set (no defaults), reading wall time (for `since`) from the system clock.
    pub fn new() -> Self {
        Template { trees: BTreeMap::new(), clock: Arc::new(SystemClock) }
    }

    /// The built-in defaults only, as Alertmanager has before any `templates:` file.
    pub fn with_defaults() -> Self {
        let mut t = Self::new();
        // The defaults are ours and tested; failing to parse them is a build defect.
        t.parse_file("", DEFAULT_TEMPLATES).expect("built-in default templates parse");
        t
    }

    /// Uses `clock` as "now" for `since`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Parses `text` as the file `name`: its top level becomes template `name`, each `define`/`block` a template
    /// of its own. Later definitions replace earlier ones unless they are empty (Go's rule). Nothing changes on error.
    pub fn parse_file(&mut self, name: &str, text: &str) -> Result<(), TemplateError> {
        let trees = parse(name, text, &is_function)?;
        merge_trees(&mut self.trees, trees);
        Ok(())
    }

    /// The defaults, then every file matched by each glob in order (files of one glob sorted by path), each named
    /// by its base name. A glob matching nothing is not an error (upstream allows files to appear later).
    pub fn from_globs<S: AsRef<str>>(globs: &[S]) -> Result<Self, TemplateError> {
        let mut t = Self::with_defaults();
        for g in globs {
            let paths =
                glob::glob(g.as_ref()).map_err(|e| TemplateError::Io(format!("{}: {e}", g.as_ref())))?;
            let mut files: Vec<_> = paths.filter_map(Result::ok).collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| TemplateError::Io(format!("open {}: {e}", path.display())))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                t.parse_file(&name, &text)?;
            }
        }
        Ok(t)
    }

    /// Whether a template of that name is defined.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Executes the named template over `data` as text.
    pub fn execute_text(&self, name: &str, data: &Data) -> Result<String, TemplateError> {
        self.execute_value(name, Value::Data(Arc::new(data.clone())), Mode::Text)
    }

    /// Executes the named template over `data` for an HTML body.
    ///
    /// Simplification of Go's html/template: every interpolated value is HTML-escaped (`<>&'"`) whatever its
    /// context (element, attribute or URL), except values made with `safeHtml`; template text is written as is.
    pub fn execute_html(&self, name: &str, data: &Data) -> Result<String, TemplateError> {
        self.execute_value(name, Value::Data(Arc::new(data.clone())), Mode::Html)
    }

    /// Renders a config field such as `title: '{{ template "x" . }}'` (upstream's `ExecuteTextString`); `""`
    /// renders to `""`. Defines inside `text` are visible only to this rendering.
    ///
    /// Copies `data` unless `text` is empty; a caller rendering several fields of one notification should build
    /// one `Arc<Data>` and use [`Self::render_shared`] instead.
    pub fn render_string(&self, text: &str, data: &Data) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        self.render(text, Value::Data(Arc::new(data.clone())), Mode::Text)
    }

    /// `render_string` for HTML bodies (upstream's `ExecuteHTMLString`), with the escaping of [`Self::execute_html`].
    pub fn render_html_string(&self, text: &str, data: &Data) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        self.render(text, Value::Data(Arc::new(data.clone())), Mode::Html)
    }

    /// [`Self::render_string`] over data shared by every field of a notification: the data is never copied (a
    /// notification may hold 100k alerts and render 25 fields), and an empty `text` returns `""` untouched.
    pub fn render_shared(&self, text: &str, data: &Arc<Data>) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        self.render(text, Value::Data(Arc::clone(data)), Mode::Text)
    }

    /// [`Self::render_html_string`] over shared data, without copying it (see [`Self::render_shared`]).
    pub fn render_html_shared(&self, text: &str, data: &Arc<Data>) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        self.render(text, Value::Data(Arc::clone(data)), Mode::Html)
    }

    /// Renders `text` over an arbitrary value (tests, and callers with data other than [`Data`]).
    pub fn render_value(&self, text: &str, dot: Value) -> Result<String, TemplateError> {
        self.render(text, dot, Mode::Text)
    }

    fn render(&self, text: &str, dot: Value, mode: Mode) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let mut scratch = self.trees.clone();
        let mut trees = parse("", text, &is_function)?;
        // Upstream's ExecuteTextString sets missingkey=zero on this root only.
        trees[0].missing_zero = true;
        merge_trees(&mut scratch, trees);
        let root = scratch
            .get("")
            .cloned()
            .ok_or_else(|| TemplateError::Exec("template: \"\" is an incomplete or empty template".into()))?;
        let mut ex = Exec::new(&scratch, root, mode, self.clock.now());
        ex.run(dot)?;
        Ok(ex.out)
    }

    fn execute_value(&self, name: &str, dot: Value, mode: Mode) -> Result<String, TemplateError> {
        let Some(tree) = self.trees.get(name).cloned() else {
            return Err(TemplateError::Exec(format!(
                "template: no template {name:?} associated with template \"\""
            )));
        };
        let mut ex = Exec::new(&self.trees, tree, mode, self.clock.now());
        ex.run(dot)?;
        Ok(ex.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Alert, Kv};
    use crate::gotime::GoTime;
    use tocsin_model::time::Timestamp;
    use tocsin_model::LabelSet;

    fn data(n: usize) -> Arc<Data> {
        let mut d = Data::new("r", &LabelSet::default(), &[], "http://am", Timestamp::default());
        d.status = "firing".into();
        d.alerts = (0..n)
            .map(|i| Alert {
                status: "firing".into(),
                labels: [("alertname".to_owned(), format!("A{i}"))].into(),
                annotations: Kv::new(),
                starts_at: GoTime::zero(),
                ends_at: GoTime::zero(),
                generator_url: String::new(),
                fingerprint: format!("{i:016x}"),
            })
            .collect();
        Arc::new(d)
    }

    #[test]
    fn shared_rendering_matches_and_never_copies() {
        let t = Template::with_defaults();
        let d = data(3);
        let text = "{{ .Status }} {{ range .Alerts }}{{ .Labels.alertname }} {{ end }}";
        let shared = t.render_shared(text, &d).unwrap();
        assert_eq!(shared, t.render_string(text, &d).unwrap());
        assert_eq!(shared, "firing A0 A1 A2 ");
        assert_eq!(t.render_html_shared("<{{ .Status }}>", &d).unwrap(), "<firing>");
        // Rendering borrowed the one allocation and let it go: nothing else holds (or copied into) the data.
        assert_eq!(Arc::strong_count(&d), 1);
    }

    #[test]
    fn empty_texts_do_not_touch_the_data() {
        // No templates at all: an empty text is answered before any parse, execution or reference to the data.
        let t = Template::new();
        let d = data(2);
        let weak = Arc::downgrade(&d);
        for _ in 0..25 {
            assert_eq!(t.render_shared("", &d).unwrap(), "");
            assert_eq!(t.render_html_shared("", &d).unwrap(), "");
            assert_eq!(t.render_string("", &d).unwrap(), "");
            assert_eq!(t.render_html_string("", &d).unwrap(), "");
        }
        assert_eq!((Arc::strong_count(&d), Arc::weak_count(&d)), (1, 1));
        drop(d);
        assert!(weak.upgrade().is_none(), "no copy of the Arc outlived the calls");
    }
}
