//! Reading the mail the server sent: the `.eml` files of the file transport, or the maildir
//! of a real SMTP server (Debian's python3-aiosmtpd) the test starts on loopback. A small
//! MIME reader decodes what the tests look at: headers, the RFC 2047 subject, and the text
//! and HTML parts (base64 or quoted-printable).

use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One message as a reader sees it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// Headers, unfolded, in order.
    pub headers: Vec<(String, String)>,
    /// The decoded subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// Calendar attachments (text/calendar parts), decoded.
    pub calendars: Vec<String>,
}

impl Mail {
    /// A header's value (the first of that name, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The recipient's address.
    pub fn to(&self) -> String {
        self.header("To").unwrap_or("").to_string()
    }

    /// The value of `param` in the first link of the text part that contains `path`
    /// (`/verify?token=` → the token).
    pub fn link_param(&self, path: &str) -> Option<String> {
        let at = self.text.find(path)?;
        let rest = &self.text[at + path.len()..];
        Some(
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect(),
        )
    }
}

fn split_head(s: &str) -> (&str, &str) {
    match s.find("\n\n") {
        Some(i) => (&s[..i], &s[i + 2..]),
        None => (s, ""),
    }
}

fn headers(head: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn find<'a>(hs: &'a [(String, String)], name: &str) -> &'a str {
    hs.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            if let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn decode_body(hs: &[(String, String)], body: &str) -> String {
    let enc = find(hs, "Content-Transfer-Encoding").to_ascii_lowercase();
    let bytes = match enc.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .expect("base64 body"),
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).expect("utf-8 body")
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`).
fn decode_words(v: &str) -> String {
    let mut out = String::new();
    for word in v.split_whitespace() {
        let parts: Vec<&str> = word.split('?').collect();
        if parts.len() == 5 && parts[0] == "=" && parts[4] == "=" {
            let bytes = if parts[2].eq_ignore_ascii_case("b") {
                base64::engine::general_purpose::STANDARD
                    .decode(parts[3])
                    .expect("encoded word")
            } else {
                quoted_printable(&parts[3].replace('_', " "))
            };
            out.push_str(&String::from_utf8(bytes).expect("utf-8 word"));
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

/// Parses one message.
pub fn parse(raw: &str) -> Mail {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = split_head(&raw);
    let hs = headers(head);
    let mut m = Mail {
        subject: decode_words(find(&hs, "Subject")),
        headers: Vec::new(),
        text: String::new(),
        html: String::new(),
        calendars: Vec::new(),
    };
    parts(&hs, body, &mut m);
    m.headers = hs;
    m
}

/// Collects the text, HTML and calendar parts of a body, descending into nested
/// multiparts (an agenda mail is mixed: the alternative text/HTML, then the calendar).
fn parts(hs: &[(String, String)], body: &str, m: &mut Mail) {
    let ctype = find(hs, "Content-Type").to_string();
    let lower = ctype.to_ascii_lowercase();
    if let Some(b) = ctype.split("boundary=").nth(1) {
        let boundary = format!(
            "--{}",
            b.trim_matches('"')
                .split(';')
                .next()
                .unwrap_or("")
                .trim_matches('"')
        );
        for part in body.split(boundary.as_str()).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let (ph, pb) = split_head(part.trim_start_matches('\n'));
            parts(&headers(ph), pb.trim_end(), m);
        }
    } else if lower.starts_with("text/html") {
        m.html = decode_body(hs, body);
    } else if lower.starts_with("text/calendar") {
        m.calendars.push(decode_body(hs, body));
    } else if lower.starts_with("text/plain") || lower.is_empty() {
        m.text = decode_body(hs, body);
    }
}

/// Every message in `dir`: `.eml` files, or a maildir's `new/` and `cur/`.
pub fn read_all(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = Vec::new();
    for d in [dir.to_path_buf(), dir.join("new"), dir.join("cur")] {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let p = e.path();
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if p.is_file() && !name.starts_with('.') {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| parse(&s))
        .collect()
}

/// The messages to `to` (the address anywhere in the To header).
pub fn to(dir: &Path, to: &str) -> Vec<Mail> {
    read_all(dir)
        .into_iter()
        .filter(|m| m.to().contains(to))
        .collect()
}

/// Waits (up to 20 s) for a message to `to` whose subject contains `subject`.
pub async fn wait_for(dir: &Path, to_addr: &str, subject: &str) -> Mail {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(m) = to(dir, to_addr)
            .into_iter()
            .find(|m| m.subject.contains(subject))
        {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to_addr} about '{subject}' in {}: {:?}",
            dir.display(),
            read_all(dir)
                .iter()
                .map(|m| (m.to(), m.subject.clone()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A free loopback port (bound and released; good enough for a test's own server).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A real SMTP server on loopback writing every message to a maildir; stopped when dropped.
pub struct SmtpSink {
    child: Child,
    /// Its port.
    pub port: u16,
    /// The maildir.
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Python that has aiosmtpd: the first `python3` on the path, or Debian's own (where
/// `apt-get install python3-aiosmtpd` puts it) when another Python comes first.
fn python() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Whether python3 with aiosmtpd is installed.
pub fn smtp_available() -> bool {
    python().is_some()
}

impl SmtpSink {
    /// Starts the server on `port`, or says the test is skipped (`None`) when python3-aiosmtpd
    /// is not installed outside CI; under CI a missing server fails the test.
    pub async fn start(test: &str, port: u16) -> Option<SmtpSink> {
        let Some(python) = python() else {
            assert!(
                !super::strict_ci(),
                "CI is set but python3-aiosmtpd is not installed ({test})"
            );
            eprintln!(
                "SKIPPED {test}: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)"
            );
            return None;
        };
        let tmp = tempfile::tempdir().expect("maildir");
        // a path that does not exist yet: the handler makes the maildir (tmp, new, cur)
        let dir = tmp.path().join("maildir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(SmtpSink {
            child,
            port,
            dir,
            _tmp: tmp,
        })
    }
}
