//! The routing tree as the dispatcher sees it (`dispatch.Route`): matchers, `continue`, the options every node
//! carries after inheritance, and upstream's depth-first matching, route keys and route IDs.
//!
//! The config crate parses and validates `route:`; [`RouteNode`] is the already-inherited tree it hands over, and
//! [`Route::new`] computes the keys once, so matching and grouping never format strings on the hot path.

use std::sync::Arc;
use std::time::Duration;
use tocsin_model::{LabelSet, Matchers};

/// `group_by`: a list of label names, or `['...']` (every label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    Labels(Vec<String>),
    All,
}

impl Default for GroupBy {
    fn default() -> Self {
        GroupBy::Labels(Vec::new())
    }
}

impl GroupBy {
    /// `getGroupLabels`: the alert's labels restricted to the group-by names (all of them for `...`); names the
    /// alert lacks are left out.
    pub fn group_labels(&self, labels: &LabelSet) -> LabelSet {
        match self {
            GroupBy::All => labels.clone(),
            GroupBy::Labels(names) => labels.project(names.iter().map(String::as_str)),
        }
    }
}

/// `dispatch.RouteOpts`: what a node does with the alerts it routes, after inheritance from its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOpts {
    pub receiver: String,
    pub group_by: GroupBy,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// Names of `time_intervals` during which this node's notifications are muted (not inherited).
    pub mute_time_intervals: Vec<String>,
    /// Names of `time_intervals` outside which this node's notifications are muted (not inherited).
    pub active_time_intervals: Vec<String>,
}

impl Default for RouteOpts {
    /// Upstream's defaults: group_wait 30s, group_interval 5m, repeat_interval 4h.
    fn default() -> Self {
        Self {
            receiver: String::new(),
            group_by: GroupBy::default(),
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
        }
    }
}

/// One node of the tree as the config crate builds it: matchers already parsed (from `match`, `match_re` and
/// `matchers`) and sorted, options already inherited.
#[derive(Debug, Clone, Default)]
pub struct RouteNode {
    pub matchers: Matchers,
    pub continue_matching: bool,
    pub opts: RouteOpts,
    pub routes: Vec<RouteNode>,
}

/// A node of the compiled tree.
#[derive(Debug)]
pub struct Route {
    /// `Route.Key()`: the parent's key, `/`, then this node's matchers, e.g. `{}/{team="b"}`; root is `{}`.
    pub key: String,
    /// `Route.ID()` (0.28): like the key but with `/<index in parent>` after each non-root node, unique in the tree.
    pub id: String,
    pub matchers: Matchers,
    pub continue_matching: bool,
    pub opts: Arc<RouteOpts>,
    pub routes: Vec<Route>,
}

impl Route {
    /// Compiles the tree rooted at `root`.
    pub fn new(root: RouteNode) -> Self {
        Self::compile(root, None)
    }

    fn compile(node: RouteNode, parent: Option<(&str, &str, usize)>) -> Self {
        let ms = node.matchers.to_string();
        let (key, id) = match parent {
            None => (ms.clone(), ms),
            Some((pk, pid, i)) => (format!("{pk}/{ms}"), format!("{pid}/{ms}/{i}")),
        };
        let routes = node
            .routes
            .into_iter()
            .enumerate()
            .map(|(i, child)| Self::compile(child, Some((&key, &id, i))))
            .collect();
        Self {
            key,
            id,
            matchers: node.matchers,
            continue_matching: node.continue_matching,
            opts: Arc::new(node.opts),
            routes,
        }
    }

    /// `Route.Match`: depth-first, children left to right. A child that matched stops the scan of its siblings
    /// unless it has `continue`; a node none of whose children matched is itself the match.
    pub fn matches<'a>(&'a self, labels: &LabelSet) -> Vec<&'a Route> {
        let mut out = Vec::new();
        self.collect(labels, &mut out);
        out
    }

    /// Appends this node's matches to `out`; returns whether there were any.
    fn collect<'a>(&'a self, labels: &LabelSet, out: &mut Vec<&'a Route>) -> bool {
        if !self.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for child in &self.routes {
            if child.collect(labels, out) && !child.continue_matching {
                break;
            }
        }
        if out.len() == before {
            out.push(self);
        }
        true
    }

    /// The receivers of the routes `labels` match, in match order (duplicates kept), as the `receivers` field of
    /// `GET /api/v2/alerts` shows them.
    pub fn receivers(&self, labels: &LabelSet) -> Vec<String> {
        self.matches(labels).into_iter().map(|r| r.opts.receiver.clone()).collect()
    }

    /// Depth-first walk over the tree (the node first), e.g. to find which receivers are used.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Route)) {
        f(self);
        for child in &self.routes {
            child.walk(f);
        }
    }

    /// The group key string of upstream (`aggrGroup.GroupKey()`): `<route key>:<group labels>`.
    pub fn group_key(&self, group_labels: &LabelSet) -> String {
        format!("{}:{group_labels}", self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tocsin_model::{MatchType, Matcher};

    fn eq(name: &str, value: &str) -> Matchers {
        Matchers(vec![Matcher::new(MatchType::Equal, name, value).unwrap()])
    }

    fn node(matchers: Matchers, receiver: &str, cont: bool, routes: Vec<RouteNode>) -> RouteNode {
        RouteNode {
            matchers,
            continue_matching: cont,
            opts: RouteOpts { receiver: receiver.into(), ..RouteOpts::default() },
            routes,
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs.iter().copied().collect()
    }

    /// root(default)
    ///  ├─ team=a  (a)           children: sev=page (a-page, continue), sev=page (a-page-2)
    ///  ├─ team=b  (b, continue)
    ///  ├─ env=~"prod|stage" (prod)
    ///  └─ team=b  (b-again)
    fn tree() -> Route {
        let re = Matchers(vec![Matcher::new(MatchType::Regexp, "env", "prod|stage").unwrap()]);
        Route::new(node(
            Matchers::default(),
            "default",
            false,
            vec![
                node(
                    eq("team", "a"),
                    "a",
                    false,
                    vec![
                        node(eq("sev", "page"), "a-page", true, vec![]),
                        node(eq("sev", "page"), "a-page-2", false, vec![]),
                    ],
                ),
                node(eq("team", "b"), "b", true, vec![]),
                node(re, "prod", false, vec![]),
                node(eq("team", "b"), "b-again", false, vec![]),
            ],
        ))
    }

    #[test]
    fn matching_table() {
        struct Case {
            name: &'static str,
            input: &'static [(&'static str, &'static str)],
            want: &'static [&'static str],
        }
        let cases = [
            Case { name: "no child matches: root", input: &[("alertname", "X")], want: &["default"] },
            Case { name: "child without grandchild match", input: &[("team", "a")], want: &["a"] },
            Case {
                name: "grandchild with continue, then sibling",
                input: &[("team", "a"), ("sev", "page")],
                want: &["a-page", "a-page-2"],
            },
            Case {
                name: "continue keeps scanning siblings; non-continue stops",
                input: &[("team", "b"), ("env", "prod")],
                want: &["b", "prod"],
            },
            Case { name: "continue then later sibling", input: &[("team", "b")], want: &["b", "b-again"] },
            Case { name: "regex anchored", input: &[("env", "production")], want: &["default"] },
            Case {
                name: "first match without continue wins",
                input: &[("team", "a"), ("env", "prod")],
                want: &["a"],
            },
        ];
        let t = tree();
        for c in cases {
            let got = t.receivers(&labels(c.input));
            assert_eq!(got, c.want, "{}", c.name);
        }
    }

    #[test]
    fn keys_and_ids() {
        let t = tree();
        assert_eq!(t.key, "{}");
        assert_eq!(t.id, "{}");
        assert_eq!(t.routes[1].key, "{}/{team=\"b\"}");
        assert_eq!(t.routes[1].id, "{}/{team=\"b\"}/1");
        assert_eq!(t.routes[0].routes[1].key, "{}/{team=\"a\"}/{sev=\"page\"}");
        assert_eq!(t.routes[0].routes[1].id, "{}/{team=\"a\"}/0/{sev=\"page\"}/1");
        assert_eq!(t.routes[2].key, "{}/{env=~\"prod|stage\"}");
        let gl = labels(&[("alertname", "B"), ("team", "b")]);
        assert_eq!(t.routes[1].group_key(&gl), "{}/{team=\"b\"}:{alertname=\"B\", team=\"b\"}");
        assert_eq!(t.group_key(&LabelSet::new()), "{}:{}");
    }

    #[test]
    fn group_labels() {
        let l = labels(&[("alertname", "A"), ("team", "b"), ("instance", "i")]);
        assert_eq!(GroupBy::All.group_labels(&l), l);
        let by = GroupBy::Labels(vec!["alertname".into(), "cluster".into()]);
        assert_eq!(by.group_labels(&l), labels(&[("alertname", "A")]));
        assert_eq!(GroupBy::default().group_labels(&l), LabelSet::new());
    }
}
