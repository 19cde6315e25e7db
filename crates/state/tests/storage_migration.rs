//! Migration from Alertmanager: a `--storage.path` holding Alertmanager 0.25's `silences` and `nflog` snapshots is
//! imported on the first start, leaving the originals untouched.
//!
//! The fixture in `fixtures/am025/` was written by the real Alertmanager 0.25 (see
//! `regenerated_with_the_real_alertmanager`, which re-creates it when `/usr/bin/prometheus-alertmanager` is
//! installed; set `TOCSIN_REGENERATE_FIXTURES=1` to overwrite the committed copy).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod storage_common;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use storage_common::*;
use tocsin_model::{Clock, MatchType};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/am025")
}

fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Asserts that what tocsin imported from `dir` is what Alertmanager's API returned (`expected.json`).
fn assert_import_matches(dir: &Path, expected: &Value) {
    let captured: DateTime<Utc> = expected["captured_at"].as_str().unwrap().parse().unwrap();
    let originals: Vec<Vec<u8>> =
        ["silences", "nflog"].iter().map(|f| std::fs::read(dir.join(f)).unwrap()).collect();
    let env = open_with(dir, captured, 0).expect("import");
    let api = expected["silences"].as_array().unwrap();
    assert!(api.len() >= 4, "fixture has several silences");
    assert_eq!(env.silences.len(), api.len());
    for want in api {
        let id = want["id"].as_str().unwrap();
        let got = env.silences.get(id).unwrap_or_else(|| panic!("silence {id} not imported"));
        assert_eq!(got.created_by, want["createdBy"].as_str().unwrap());
        assert_eq!(got.comment, want["comment"].as_str().unwrap());
        assert_eq!(ts(&got.starts_at), want["startsAt"].as_str().unwrap(), "{id}");
        assert_eq!(ts(&got.ends_at), want["endsAt"].as_str().unwrap(), "{id}");
        assert_eq!(ts(&got.updated_at), want["updatedAt"].as_str().unwrap(), "{id}");
        assert_eq!(got.state_at(captured).as_str(), want["status"]["state"].as_str().unwrap(), "{id}");
        let matchers: Vec<(String, String, bool, bool)> = want["matchers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let s = |k: &str| m[k].as_str().unwrap().to_owned();
                (s("name"), s("value"), m["isRegex"].as_bool().unwrap(), m["isEqual"].as_bool().unwrap())
            })
            .collect();
        let got_m: Vec<_> = got
            .matchers
            .iter()
            .map(|m| (m.name.clone(), m.value.clone(), m.ty.is_regex(), m.ty.is_equal()))
            .collect();
        assert_eq!(got_m, matchers, "{id}");
    }
    let kinds: Vec<MatchType> =
        env.silences.full_state().iter().flat_map(|m| m.silence.matchers.clone()).map(|m| m.ty).collect();
    for ty in [MatchType::Equal, MatchType::NotEqual, MatchType::Regexp, MatchType::NotRegexp] {
        assert!(kinds.contains(&ty), "fixture covers {ty}");
    }
    let entries = env.nflog.full_state();
    assert!(!entries.is_empty(), "the nflog fixture holds the webhook notification");
    for e in &entries {
        assert_eq!(
            (e.entry.receiver.group_name.as_str(), e.entry.receiver.integration.as_str()),
            ("hook", "webhook")
        );
        assert!(e.entry.group_key.contains("alertname=\"Boom\""), "{}", e.entry.group_key);
        assert_eq!(e.entry.firing_alerts.len(), 1);
        assert!(e.expires_at > e.entry.timestamp);
    }
    let want_s = silences_sorted(&env.silences);
    let want_n = nflog_sorted(&env.nflog);
    drop(env);

    // The originals are untouched, and tocsin's own files now exist.
    for (f, orig) in ["silences", "nflog"].iter().zip(&originals) {
        assert_eq!(&std::fs::read(dir.join(f)).unwrap(), orig, "{f} modified");
    }
    assert!(dir.join("silences.snap").is_file() && dir.join("nflog.snap").is_file());

    // Later starts use tocsin's files, not Alertmanager's: a change made after the import sticks.
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let env = open_with(dir, captured, 0).unwrap();
    assert_eq!(silences_sorted(&env.silences), want_s);
    assert_eq!(nflog_sorted(&env.nflog), want_n);
    let active = want_s.iter().find(|m| m.silence.state_at(captured).as_str() == "active").unwrap();
    rt.block_on(env.storage.silences().expire(&active.silence.id)).unwrap();
    drop(env);
    let env = open_with(dir, captured, 0).unwrap();
    assert_eq!(env.silences.get(&active.silence.id).unwrap().ends_at, captured);
}

#[test]
fn imports_the_alertmanager_025_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["silences", "nflog"] {
        std::fs::copy(fixture_dir().join(f), tmp.path().join(f)).unwrap();
    }
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture_dir().join("expected.json")).unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let _g = rt.enter();
    assert_import_matches(tmp.path(), &expected);
}

#[test]
fn corrupt_alertmanager_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture_dir().join("silences")).unwrap();
    bytes.truncate(bytes.len() - 3);
    std::fs::write(tmp.path().join("silences"), &bytes).unwrap();
    let err = open_with(tmp.path(), t0(), 0).err().unwrap();
    let msg = err.to_string();
    assert!(msg.starts_with(&format!(
        "cannot import Alertmanager snapshot {}",
        tmp.path().join("silences").display()
    )));
    assert!(msg.contains(" at byte offset "), "{msg}");
}

// --- the real Alertmanager -------------------------------------------------------------------------------------

const AM: &str = "/usr/bin/prometheus-alertmanager";

/// A minimal HTTP/1.0 exchange (no client library needed): returns status and body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// A webhook receiver: answers 200 and reports each request.
fn webhook_sink() -> (u16, std::sync::mpsc::Receiver<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Read headers, then the body by Content-Length.
            let (head_end, len) = loop {
                let Ok(n) = c.read(&mut chunk) else { break (0, 0) };
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..p]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    break (p + 4, len);
                }
            };
            while head_end > 0 && buf.len() < head_end + len {
                match c.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send(());
        }
    });
    (port, rx)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn silence_json(
    matchers: &[(&str, &str, bool, bool)],
    start: &str,
    end: &str,
    by: &str,
    comment: &str,
) -> String {
    let ms: Vec<Value> = matchers
        .iter()
        .map(|(n, v, re, eq)| serde_json::json!({"name": n, "value": v, "isRegex": re, "isEqual": eq}))
        .collect();
    serde_json::json!({"matchers": ms, "startsAt": start, "endsAt": end, "createdBy": by, "comment": comment})
        .to_string()
}

#[tokio::test]
async fn regenerated_with_the_real_alertmanager() {
    if !Path::new(AM).exists() {
        eprintln!("skipped: {AM} not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (sink, hits) = webhook_sink();
    let port = free_port();
    let cfg = tmp.path().join("am.yml");
    std::fs::write(
        &cfg,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 5m\n  repeat_interval: 4h\n\
             receivers:\n- name: hook\n  webhook_configs:\n  - url: http://127.0.0.1:{sink}/\n"
        ),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let log = std::fs::File::create(tmp.path().join("am.log")).unwrap();
    let child = Command::new(AM)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut am = Kill(child);
    let mut ready = false;
    for _ in 0..200 {
        if matches!(http(port, "GET", "/-/ready", None), Ok((200, _))) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "Alertmanager did not become ready");

    let now = tocsin_model::SystemClock.now();
    let at = |h: i64| ts(&(now + chrono::Duration::hours(h)));
    let bodies = [
        silence_json(
            &[("alertname", "Foo", false, true), ("job", "api|web", true, false)],
            &at(0),
            &at(2),
            "alice",
            "maintenance",
        ),
        silence_json(
            &[("severity", "crit|warn", true, true), ("team", "ops", false, false)],
            &at(0),
            &at(24),
            "bob",
            "négatif ✓",
        ),
        silence_json(&[("instance", "host:9100", false, true)], &at(1), &at(3), "carol", "pending window"),
        silence_json(
            &[("env", "dev", false, true), ("cluster", "eu-.*", true, true)],
            &at(0),
            &at(5),
            "dave",
            "to be expired",
        ),
    ];
    let mut ids = Vec::new();
    for b in &bodies {
        let (status, body) = http(port, "POST", "/api/v2/silences", Some(b)).unwrap();
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        ids.push(v["silenceID"].as_str().unwrap().to_owned());
    }
    let (status, _) = http(port, "DELETE", &format!("/api/v2/silence/{}", ids[3]), None).unwrap();
    assert_eq!(status, 200);
    let (status, body) =
        http(port, "POST", "/api/v2/alerts", Some(r#"[{"labels":{"alertname":"Boom","severity":"page"}}]"#))
            .unwrap();
    assert_eq!(status, 200, "{body}");
    tokio::task::spawn_blocking(move || {
        hits.recv_timeout(Duration::from_secs(30)).expect("webhook notification")
    })
    .await
    .unwrap();
    let (status, body) = http(port, "GET", "/api/v2/silences", None).unwrap();
    assert_eq!(status, 200);
    let captured = tocsin_model::SystemClock.now();
    let silences: Value = serde_json::from_str(&body).unwrap();
    let pid = am.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exit = tokio::task::spawn_blocking(move || {
        let st = am.0.wait();
        std::mem::forget(am);
        st
    })
    .await
    .unwrap()
    .unwrap();
    assert!(exit.success(), "Alertmanager exit: {exit:?}");

    let expected = serde_json::json!({
        "captured_at": captured.to_rfc3339_opts(SecondsFormat::Nanos, true),
        "alertmanager": "0.25.0",
        "silences": silences,
    });
    if std::env::var_os("TOCSIN_REGENERATE_FIXTURES").is_some() {
        std::fs::create_dir_all(fixture_dir()).unwrap();
        for f in ["silences", "nflog"] {
            std::fs::copy(data.join(f), fixture_dir().join(f)).unwrap();
        }
        let mut text = serde_json::to_string_pretty(&expected).unwrap();
        text.push('\n');
        std::fs::write(fixture_dir().join("expected.json"), text).unwrap();
    }
    let import = tmp.path().join("import");
    std::fs::create_dir_all(&import).unwrap();
    for f in ["silences", "nflog"] {
        std::fs::copy(data.join(f), import.join(f)).unwrap();
    }
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _g = rt.enter();
        assert_import_matches(&import, &expected);
    })
    .await
    .unwrap();
}
