//! Hostile or pathological configuration files end in an error (or a valid config), never a panic, a stack
//! overflow or unbounded memory.

use std::path::Path;
use tocsin_config::load_str;
use tocsin_model::ParseMode;

fn load(text: &str) -> Result<(), String> {
    load_str(text, Path::new("/tmp"), ParseMode::Fallback).map(|_| ()).map_err(|e| e.to_string())
}

#[test]
fn deeply_nested_yaml_is_an_error() {
    let n = 10_000;
    assert!(load(&format!("route: {}{}", "[".repeat(n), "]".repeat(n))).is_err());
    assert!(load(&format!("route: {}{}", "{a: ".repeat(n), "}".repeat(n))).is_err());
    let mut routes = String::from("route:\n  receiver: r\n");
    for depth in 1..300 {
        let pad = "  ".repeat(depth);
        routes.push_str(&format!("{pad}routes:\n{pad}- receiver: r\n"));
    }
    routes.push_str("receivers: [{name: r}]\n");
    assert!(load(&routes).is_err());
}

/// Route trees as deep as the YAML nesting limit allows still load.
#[test]
fn reasonably_deep_routes_load() {
    let mut routes = String::from("route:\n  receiver: r\n");
    for depth in 1..40 {
        let pad = "  ".repeat(depth);
        routes.push_str(&format!("{pad}routes:\n{pad}- receiver: r\n"));
    }
    routes.push_str("receivers: [{name: r}]\n");
    load(&routes).unwrap();
}

/// The "billion laughs": aliases that expand exponentially.
#[test]
fn alias_bombs_are_errors() {
    let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        y.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    y.push_str("route: {receiver: r, group_by: *a9}\nreceivers: [{name: r}]\n");
    assert!(load(&y).is_err());
}

#[test]
fn random_bytes_never_panic() {
    let mut seed = 0x1234_5678_9abc_def0_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces = [
        "route:",
        "receivers:",
        "- name: r",
        "receiver: r",
        "\n",
        "  ",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "'",
        "\"",
        "&a",
        "*a",
        "!!binary",
        "!!str",
        "routes:",
        "matchers: ['a=b']",
        "group_by: ['...']",
        "é",
        "🙂",
        "-",
        "~",
        "null",
        "1s",
        "url: http://x",
        "webhook_configs:",
        "global:",
        "inhibit_rules:",
        "time_intervals:",
        "templates:",
        "<<: *a",
        "?",
        "|",
        ">",
        "#",
    ];
    for _ in 0..5_000 {
        let mut s = String::new();
        for _ in 0..(next() % 30) {
            s.push_str(pieces[(next() % pieces.len() as u64) as usize]);
        }
        let _ = load(&s);
    }
}
