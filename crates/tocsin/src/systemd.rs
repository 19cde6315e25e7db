//! `--web.systemd-socket`: serve on the listening sockets systemd passes (socket activation) instead of binding
//! `--web.listen-address`, as go-systemd's `activation.Listeners()`: the sockets are fds 3, 4, … when
//! `LISTEN_PID` is this process and `LISTEN_FDS` counts them; both variables are then removed so children do not
//! inherit them. Taking ownership of an inherited fd needs `unsafe`, which the workspace forbids, so that part is
//! the `listenfd` crate's.

use tokio::net::TcpListener;

/// Why the passed sockets cannot be used; upstream's wording where it has one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SystemdError {
    #[error("no socket activation file descriptors found")]
    NoFds,
    #[error("socket activation: LISTEN_PID={listen_pid} is not this process ({pid})")]
    OtherPid { listen_pid: String, pid: u32 },
    #[error("socket activation: invalid LISTEN_FDS={0:?}")]
    BadCount(String),
    #[error("socket activation: file descriptor {fd} is not a listening TCP socket: {reason}")]
    NotTcp { fd: usize, reason: String },
}

/// How many sockets were passed to process `pid`, from `LISTEN_PID` and `LISTEN_FDS`.
pub fn activation_count(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    pid: u32,
) -> Result<usize, SystemdError> {
    let (Some(listen_pid), Some(listen_fds)) = (listen_pid, listen_fds) else {
        return Err(SystemdError::NoFds);
    };
    if listen_pid.trim().parse::<u32>().ok() != Some(pid) {
        return Err(SystemdError::OtherPid { listen_pid: listen_pid.to_owned(), pid });
    }
    let n: usize = listen_fds.trim().parse().map_err(|_| SystemdError::BadCount(listen_fds.to_owned()))?;
    if n == 0 {
        return Err(SystemdError::NoFds);
    }
    Ok(n)
}

/// The sockets [`take_from_env`] took before the runtime started, or why there were none.
type Taken = Result<Vec<std::net::TcpListener>, SystemdError>;

static EARLY: std::sync::Mutex<Option<Taken>> = std::sync::Mutex::new(None);

/// Takes the passed sockets and removes `LISTEN_*` from the environment. Call from `main` before the runtime
/// starts its threads: changing the environment while other threads may read it is a data race.
pub fn take_from_env() {
    let taken = take_std();
    *EARLY.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(taken);
}

fn take_std() -> Taken {
    let pid = std::env::var("LISTEN_PID").ok();
    let fds = std::env::var("LISTEN_FDS").ok();
    let count = activation_count(pid.as_deref(), fds.as_deref(), std::process::id())?;
    let mut passed = listenfd::ListenFd::from_env();
    if passed.len() != count {
        return Err(SystemdError::NoFds);
    }
    let mut out = Vec::with_capacity(count);
    for idx in 0..count {
        let not_tcp = |reason: String| SystemdError::NotTcp { fd: 3 + idx, reason };
        let std_listener = passed
            .take_tcp_listener(idx)
            .map_err(|e| not_tcp(e.to_string()))?
            .ok_or_else(|| not_tcp("already taken".into()))?;
        std_listener.set_nonblocking(true).map_err(|e| not_tcp(e.to_string()))?;
        out.push(std_listener);
    }
    Ok(out)
}

/// The listeners systemd passed, in fd order: those [`take_from_env`] took in `main`, else taken now (for
/// embedders that did not call it). Call once.
pub fn listeners() -> Result<Vec<TcpListener>, SystemdError> {
    let early = EARLY.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let taken = early.unwrap_or_else(take_std)?;
    taken
        .into_iter()
        .enumerate()
        .map(|(idx, l)| {
            TcpListener::from_std(l).map_err(|e| SystemdError::NotTcp { fd: 3 + idx, reason: e.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        input: (Option<&'static str>, Option<&'static str>),
        want: Result<usize, SystemdError>,
    }

    #[test]
    fn parses_listen_env() {
        let cases = [
            Case { name: "two sockets", input: (Some("42"), Some("2")), want: Ok(2) },
            Case { name: "nothing passed", input: (None, None), want: Err(SystemdError::NoFds) },
            Case { name: "no pid", input: (None, Some("1")), want: Err(SystemdError::NoFds) },
            Case {
                name: "someone else's",
                input: (Some("7"), Some("1")),
                want: Err(SystemdError::OtherPid { listen_pid: "7".into(), pid: 42 }),
            },
            Case { name: "zero", input: (Some("42"), Some("0")), want: Err(SystemdError::NoFds) },
            Case {
                name: "garbage",
                input: (Some("42"), Some("x")),
                want: Err(SystemdError::BadCount("x".into())),
            },
        ];
        for c in cases {
            assert_eq!(activation_count(c.input.0, c.input.1, 42), c.want, "{}", c.name);
        }
    }
}
