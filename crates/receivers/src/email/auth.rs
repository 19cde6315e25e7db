//! SMTP authentication as upstream chooses it (`Email.auth`): walk the server's `AUTH` mechanisms in its order
//! and take the first one the config can satisfy: CRAM-MD5 (needs `auth_secret`), PLAIN (password, identity),
//! LOGIN (password). No `auth_username` means no authentication at all.
//!
//! The exchanges are written here (not lettre's) because PLAIN carries `auth_identity` and CRAM-MD5 is not in
//! lettre. Nothing here formats a credential into an error.

use super::smtp::{Session, SmtpError};
use md5::{Digest, Md5};

/// The credentials one send may use; the password was read (file or inline) for this send.
#[derive(Clone, Default)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub secret: String,
    pub identity: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// A chosen mechanism; `go_type` names it as Go's `%T` does in upstream's `<type> auth: <err>` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    CramMd5,
    Plain,
    Login,
}

impl Mechanism {
    pub fn go_type(self) -> &'static str {
        match self {
            Mechanism::CramMd5 => "*smtp.cramMD5Auth",
            Mechanism::Plain => "*smtp.plainAuth",
            Mechanism::Login => "*email.loginAuth",
        }
    }
}

/// Upstream's choice: the first server mechanism the credentials can serve. `Ok(None)`: no username, so no auth.
/// The error joins every reason a mechanism was skipped, as upstream's `MultiError` does.
pub fn choose(offered: &[String], c: &Credentials) -> Result<Option<Mechanism>, String> {
    if c.username.is_empty() {
        return Ok(None);
    }
    let mut errs = Vec::new();
    for mech in offered {
        match mech.as_str() {
            "CRAM-MD5" if c.secret.is_empty() => {
                errs.push("missing secret for CRAM-MD5 auth mechanism".to_owned())
            }
            "CRAM-MD5" => return Ok(Some(Mechanism::CramMd5)),
            "PLAIN" if c.password.is_empty() => {
                errs.push("missing password for PLAIN auth mechanism".to_owned())
            }
            "PLAIN" => return Ok(Some(Mechanism::Plain)),
            "LOGIN" if c.password.is_empty() => {
                errs.push("missing password for LOGIN auth mechanism".to_owned())
            }
            "LOGIN" => return Ok(Some(Mechanism::Login)),
            _ => {}
        }
    }
    if errs.is_empty() {
        errs.push(format!("unknown auth mechanism: {}", offered.join(" ")));
    }
    Err(errs.join("; "))
}

/// Go's `smtp.PlainAuth` refuses to send a password in clear text except to the local machine.
fn is_localhost(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

/// Runs the exchange for `mech` on `session` (`c.Auth(a)` upstream).
pub async fn authenticate(
    session: &mut Session,
    mech: Mechanism,
    c: &Credentials,
    host: &str,
) -> Result<(), SmtpError> {
    match mech {
        Mechanism::Plain => {
            if !session.is_encrypted() && !is_localhost(host) {
                return Err(SmtpError::Transport("unencrypted connection".to_owned()));
            }
            let resp = format!("{}\0{}\0{}", c.identity, c.username, c.password);
            session.command(format!("AUTH PLAIN {}\r\n", encode(resp.as_bytes()))).await?;
        }
        Mechanism::Login => {
            let mut reply = session.command("AUTH LOGIN\r\n").await?;
            // Upstream answers only the exact prompts `Username:` / `Password:`; servers word them differently
            // (aiosmtpd: `User Name`), so a prompt naming neither is answered by position: username, password.
            for step in 0..2 {
                if !reply.has_code(334) {
                    break;
                }
                let challenge = reply.first_word().and_then(decode).unwrap_or_default();
                let prompt = String::from_utf8_lossy(&challenge).to_ascii_lowercase();
                let answer = if prompt.contains("user") {
                    &c.username
                } else if prompt.contains("pass") || step == 1 {
                    &c.password
                } else {
                    &c.username
                };
                reply = session.command(format!("{}\r\n", encode(answer.as_bytes()))).await?;
            }
            if reply.has_code(334) {
                let _ = session.command("*\r\n").await;
                return Err(SmtpError::Transport("unexpected server challenge".to_owned()));
            }
        }
        Mechanism::CramMd5 => {
            let reply = session.command("AUTH CRAM-MD5\r\n").await?;
            let challenge = reply.first_word().and_then(decode).unwrap_or_default();
            let digest = hmac_md5(c.secret.as_bytes(), &challenge);
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            let answer = format!("{} {hex}", c.username);
            session.command(format!("{}\r\n", encode(answer.as_bytes()))).await?;
        }
    }
    Ok(())
}

/// RFC 2104 HMAC over MD5 (CRAM-MD5's response), 64-byte blocks.
fn hmac_md5(key: &[u8], msg: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..16].copy_from_slice(&Md5::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Md5::new().chain_update(pad(0x36)).chain_update(msg).finalize();
    Md5::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (SASL's encoding).
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64, padding optional; `None` on any invalid character.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, pass: &str, secret: &str) -> Credentials {
        Credentials {
            username: user.into(),
            password: pass.into(),
            secret: secret.into(),
            identity: String::new(),
        }
    }

    #[test]
    fn choice_follows_server_order() {
        struct Case {
            name: &'static str,
            offered: &'static [&'static str],
            creds: Credentials,
            want: Result<Option<Mechanism>, &'static str>,
        }
        let cases = [
            Case { name: "no username", offered: &["PLAIN"], creds: creds("", "p", ""), want: Ok(None) },
            Case {
                name: "plain",
                offered: &["PLAIN", "LOGIN"],
                creds: creds("u", "p", ""),
                want: Ok(Some(Mechanism::Plain)),
            },
            Case {
                name: "login first",
                offered: &["LOGIN", "PLAIN"],
                creds: creds("u", "p", ""),
                want: Ok(Some(Mechanism::Login)),
            },
            Case {
                name: "cram without secret falls through",
                offered: &["CRAM-MD5", "PLAIN"],
                creds: creds("u", "p", ""),
                want: Ok(Some(Mechanism::Plain)),
            },
            Case {
                name: "cram",
                offered: &["CRAM-MD5"],
                creds: creds("u", "", "s"),
                want: Ok(Some(Mechanism::CramMd5)),
            },
            Case {
                name: "no password",
                offered: &["PLAIN", "LOGIN"],
                creds: creds("u", "", ""),
                want: Err(
                    "missing password for PLAIN auth mechanism; missing password for LOGIN auth mechanism",
                ),
            },
            Case {
                name: "unknown",
                offered: &["XOAUTH2"],
                creds: creds("u", "p", ""),
                want: Err("unknown auth mechanism: XOAUTH2"),
            },
        ];
        for c in cases {
            let offered: Vec<String> = c.offered.iter().map(|s| s.to_string()).collect();
            let got = choose(&offered, &c.creds);
            assert_eq!(got.as_ref().map_err(String::as_str), c.want.as_ref().map_err(|e| *e), "{}", c.name);
        }
    }

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\0user\0pass"] {
            assert_eq!(decode(&encode(s.as_bytes())).unwrap(), s.as_bytes(), "{s:?}");
        }
        assert_eq!(encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(encode(b"fo"), "Zm8=");
        assert_eq!(decode("VXNlcm5hbWU6").unwrap(), b"Username:");
        assert_eq!(decode("!!"), None);
    }

    #[test]
    fn cram_md5_rfc2195_vector() {
        // RFC 2195: user "tim", secret "tanstaaftanstaaf".
        let challenge = decode("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+").unwrap();
        let hex: String =
            hmac_md5(b"tanstaaftanstaaf", &challenge).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            encode(format!("tim {hex}").as_bytes()),
            "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"
        );
    }
}
