//! The `--help` text, laid out like kingpin's default usage template (two columns, help wrapped at 80 columns,
//! defaults after `=`), so it reads like `alertmanager --help` with tocsin's name and defaults.

use super::spec::{Kind, FLAGS};

const INDENT: usize = 2;
const PADDING: usize = 2;
const WIDTH: usize = 80;
/// kingpin sizes the first column by the longest entry shorter than this; longer entries get their own line.
const MAX_FIRST_COLUMN: usize = 30;

/// Usage of the main command: `usage: tocsin [<flags>]`, the flag list and the `check-config` command.
pub fn usage() -> String {
    let rows: Vec<(String, String)> = FLAGS.iter().map(|f| (flag_column(f), f.help.to_owned())).collect();
    let mut out = String::from("usage: tocsin [<flags>]\n\nFlags:\n");
    two_columns(&mut out, &rows);
    out.push_str("\nCommands:\n");
    two_columns(
        &mut out,
        &[(
            "check-config <file>...".to_owned(),
            "[tocsin] Validate alertmanager config files, like `amtool check-config`.".to_owned(),
        )],
    );
    out
}

/// Usage of `tocsin check-config`.
pub fn check_config_usage() -> String {
    let mut out = String::from(
        "usage: tocsin check-config [<check-files>...]\n\nValidate alertmanager config files.\n\n\
         Will validate the syntax and schema for alertmanager config file and associated templates. Non existing \
         templates will not trigger errors.\n\nArgs:\n",
    );
    two_columns(&mut out, &[("[<check-files>]".to_owned(), "Files to be validated".to_owned())]);
    out
}

fn flag_column(spec: &super::spec::FlagSpec) -> String {
    let mut col =
        if spec.name == super::spec::HELP { "-h, --help".to_owned() } else { format!("    --{}", spec.name) };
    if spec.kind == Kind::Value {
        col.push('=');
        match spec.shown {
            Some(shown) => col.push_str(shown),
            None => col.push_str(&spec.name.to_uppercase()),
        }
    }
    if spec.repeatable {
        col.push_str(" ...");
    }
    col
}

/// kingpin's `formatTwoColumns`.
fn two_columns(out: &mut String, rows: &[(String, String)]) {
    let first =
        rows.iter().map(|(c, _)| c.chars().count()).filter(|&n| n < MAX_FIRST_COLUMN).max().unwrap_or(0);
    let offset = " ".repeat(INDENT + first + PADDING);
    let text_width = WIDTH.saturating_sub(first + PADDING + INDENT).max(20);
    for (col, help) in rows {
        let lines = wrap(help, text_width);
        let len = col.chars().count();
        out.push_str(&" ".repeat(INDENT));
        out.push_str(col);
        out.push_str(&" ".repeat(first.saturating_sub(len) + PADDING));
        if len >= MAX_FIRST_COLUMN {
            out.push('\n');
            out.push_str(&offset);
        }
        let mut lines = lines.iter();
        out.push_str(lines.next().map_or("", String::as_str));
        out.push('\n');
        for line in lines {
            out.push_str(&offset);
            out.push_str(line);
            out.push('\n');
        }
    }
}

/// Greedy word wrap (kingpin uses Go's `doc.ToText`, which balances lines slightly differently).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_looks_like_kingpin() {
        let text = usage();
        assert!(text.starts_with("usage: tocsin [<flags>]\n\nFlags:\n"), "{text}");
        assert!(
            text.contains("\n  -h, --help                     Show context-sensitive help (also try\n"),
            "{text}"
        );
        assert!(text.contains("\n      --data.retention=120h      How long to keep data for.\n"), "{text}");
        assert!(
            text.contains(
                "\n      --config.file=\"alertmanager.yml\"  \n                                 Alertmanager"
            ),
            "{text}"
        );
        assert!(text.contains("--web.listen-address=:9093 ..."), "{text}");
        assert!(text.contains("--cluster.peer=CLUSTER.PEER ..."), "{text}");
        assert!(text.contains("--web.external-url=WEB.EXTERNAL-URL"), "{text}");
        assert!(text.contains("--cluster.peer-timeout=5s"), "{text}");
        assert!(text.contains("      --web.systemd-socket       Use systemd"), "{text}");
        assert!(text.contains("      --version                  Show application version.\n"), "{text}");
        assert!(!text.contains("help-long="), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 80 || !line.contains(' '), "too long: {line:?}");
        }
    }

    #[test]
    fn wrap_is_greedy_and_keeps_words() {
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
        assert_eq!(wrap("", 10), vec![""]);
        assert_eq!(wrap("averyverylongword x", 5), vec!["averyverylongword", "x"]);
    }
}
