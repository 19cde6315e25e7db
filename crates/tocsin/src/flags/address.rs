//! `host:port` addresses as Go's `net.SplitHostPort` reads them, so the same strings are accepted and the same
//! errors (`address foo: missing port in address`) are reported as by Alertmanager.

/// Go `net.SplitHostPort`: `host:port`, `[v6]:port`, `:port`; the port may be empty (`host:`).
pub fn split_host_port(hostport: &str) -> Result<(&str, &str), String> {
    let err = |why: &str| Err(format!("address {hostport}: {why}"));
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let Some(i) = hostport.rfind(':') else {
        return err(MISSING_PORT);
    };
    let (host, j, k);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return err(MISSING_PORT);
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return err(TOO_MANY_COLONS);
            }
            return err(MISSING_PORT);
        }
        host = &hostport[1..end];
        j = 1;
        k = end + 1;
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return err(TOO_MANY_COLONS);
        }
        j = 0;
        k = 0;
    }
    if hostport[j..].contains('[') {
        return err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

/// A numeric TCP/UDP port, as the sockets tocsin opens need it (Go would also resolve service names like `http`).
pub(crate) fn parse_port(port: &str) -> Option<u16> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse().ok()
}

/// `--cluster.listen-address` / `--cluster.advertise-address`: `cluster.Create` wraps the same errors.
pub(crate) fn check_cluster_address(what: &str, addr: &str) -> Result<(), String> {
    let (_, port) = split_host_port(addr).map_err(|e| format!("invalid {what} address: {e}"))?;
    if parse_port(port).is_none() {
        return Err(format!("address {addr}: invalid port"));
    }
    Ok(())
}

/// `--cluster.peer`: peers are resolved by `host:port` before joining.
pub(crate) fn check_peer(peer: &str) -> Result<(), String> {
    let (host, port) = split_host_port(peer).map_err(|e| format!("split host/port for peer {peer}: {e}"))?;
    if host.is_empty() || parse_port(port).is_none() {
        return Err(format!("address {peer}: invalid peer address, want host:port"));
    }
    Ok(())
}

/// `--web.listen-address`: what `net.Listen("tcp", addr)` accepts with a numeric port.
pub(crate) fn check_listen(addr: &str) -> Result<(), String> {
    let (_, port) = split_host_port(addr).map_err(|e| format!("listen tcp: {e}"))?;
    if parse_port(port).is_none() {
        return Err(format!("listen tcp: address {addr}: invalid port"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Want = Result<(&'static str, &'static str), &'static str>;

    #[test]
    fn split_table() {
        let cases: [(&str, Want); 14] = [
            (":9093", Ok(("", "9093"))),
            ("0.0.0.0:9094", Ok(("0.0.0.0", "9094"))),
            ("localhost:80", Ok(("localhost", "80"))),
            ("[::1]:80", Ok(("::1", "80"))),
            ("[::]:9094", Ok(("::", "9094"))),
            ("host:", Ok(("host", ""))),
            ("host", Err("address host: missing port in address")),
            ("", Err("address : missing port in address")),
            ("::1:80", Err("address ::1:80: too many colons in address")),
            ("[::1]", Err("address [::1]: missing port in address")),
            ("[::1]x:80", Err("address [::1]x:80: missing port in address")),
            ("[::1]:80:90", Err("address [::1]:80:90: too many colons in address")),
            ("[::1:80", Err("address [::1:80: missing ']' in address")),
            ("a]:80", Err("address a]:80: unexpected ']' in address")),
        ];
        for (input, want) in cases {
            assert_eq!(split_host_port(input), want.map_err(str::to_owned), "input {input:?}");
        }
    }

    #[test]
    fn checks() {
        assert_eq!(check_cluster_address("listen", "0.0.0.0:9094"), Ok(()));
        assert_eq!(
            check_cluster_address("listen", "foo"),
            Err("invalid listen address: address foo: missing port in address".to_owned())
        );
        assert_eq!(
            check_cluster_address("advertise", "foo:x"),
            Err("address foo:x: invalid port".to_owned())
        );
        assert_eq!(
            check_cluster_address("listen", "foo:70000"),
            Err("address foo:70000: invalid port".to_owned())
        );
        assert_eq!(check_peer("am-2:9094"), Ok(()));
        assert!(check_peer(":9094").is_err());
        assert_eq!(
            check_peer("am-2"),
            Err("split host/port for peer am-2: address am-2: missing port in address".to_owned())
        );
        assert_eq!(check_listen(":9093"), Ok(()));
        assert_eq!(check_listen("[::1]:0"), Ok(()));
        assert_eq!(check_listen("9093"), Err("listen tcp: address 9093: missing port in address".to_owned()));
        assert_eq!(check_listen(":http"), Err("listen tcp: address :http: invalid port".to_owned()));
    }
}
