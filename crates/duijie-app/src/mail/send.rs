//! Sending the outbox: the transport named by `[mail] transport` (an `.eml` file per
//! message under `data/outbox/`, or SMTP through lettre over rustls), and the worker that
//! claims due messages with a lease, sends them with their stable Message-ID, and retries
//! with backoff. A message is marked sent as soon as the transport took it; a process that
//! dies in between leaves the lease to expire and the message is sent again with the same
//! Message-ID (which receiving servers use to drop the copy).

use crate::app::App;
use crate::error::AppError;
use duijie_store::Mail;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

/// Where messages go.
pub enum Transport {
    /// One `.eml` file per message in this directory.
    File(PathBuf),
    /// An SMTP server.
    Smtp(Box<AsyncSmtpTransport<Tokio1Executor>>),
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// Builds the MIME message of an outbox entry: multipart text + HTML, the subject encoded
/// per RFC 2047 by lettre, `List-Unsubscribe` with one-click POST when the category can be
/// unsubscribed.
pub fn build(from: &str, m: &Mail) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| format!("recipient {}: {e}", m.to))?;
    let mut b = Message::builder()
        .message_id(Some(format!("<{}>", m.message_id)))
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .date_now();
    if let Some(u) = &m.unsubscribe_url {
        b = b
            .header(ListUnsubscribe(u.clone()))
            .header(ListUnsubscribePost);
    }
    let body = MultiPart::alternative_plain_html(m.text.clone(), m.html.clone());
    match &m.calendar {
        None => b.multipart(body),
        Some(ics) => {
            let kind = header::ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                .map_err(|e| e.to_string())?;
            b.multipart(
                MultiPart::mixed()
                    .multipart(body)
                    .singlepart(Attachment::new("agenda.ics".into()).body(ics.clone(), kind)),
            )
        }
    }
    .map_err(|e| e.to_string())
}

/// The transport the settings name; `None` for `off`.
pub fn transport(ctx: &App) -> Result<Option<Transport>, AppError> {
    let s = &ctx.settings.mail;
    match s.transport.as_str() {
        "off" => Ok(None),
        "file" => Ok(Some(Transport::File(ctx.settings.data.dir.join("outbox")))),
        _ => {
            let bad = |e: String| AppError::Internal(format!("mail.smtp_url: {e}"));
            let (wrapper, rest) = match s.smtp_url.split_once("://") {
                Some(("smtps", r)) => (true, r),
                Some(("smtp", r)) => (false, r),
                _ => return Err(bad(format!("'{}' is not smtp:// or smtps://", s.smtp_url))),
            };
            let rest = rest.trim_end_matches('/');
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>()
                        .map_err(|_| bad(format!("port '{p}' is not a number")))?,
                ),
                None => (rest.to_string(), if wrapper { 465 } else { 587 }),
            };
            let params = || {
                TlsParameters::new(host.clone()).map_err(|e| bad(format!("TLS for {host}: {e}")))
            };
            let tls = if wrapper {
                Tls::Wrapper(params()?)
            } else {
                match s.smtp_tls.as_str() {
                    "none" => Tls::None,
                    "required" => Tls::Required(params()?),
                    _ => Tls::Opportunistic(params()?),
                }
            };
            let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                .port(port)
                .tls(tls)
                .timeout(Some(Duration::from_millis(s.lease_ms / 2)));
            if let (Ok(user), Ok(pass)) = (
                std::env::var("DUIJIE_SMTP_USERNAME"),
                std::env::var("DUIJIE_SMTP_PASSWORD"),
            ) {
                b = b.credentials(Credentials::new(user, pass));
            }
            Ok(Some(Transport::Smtp(Box::new(b.build()))))
        }
    }
}

/// A file name for a Message-ID (its characters are letters, digits, `.`, `@` and `-`).
fn file_name(message_id: &str) -> String {
    let safe: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '@' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.eml")
}

async fn hand_over(t: &Transport, msg: &Message, m: &Mail) -> Result<(), String> {
    match t {
        Transport::File(dir) => {
            let bytes = msg.formatted();
            let dir = dir.clone();
            let name = file_name(&m.message_id);
            tokio::task::spawn_blocking(move || -> Result<(), String> {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                // written whole, then renamed: a reader never sees half a message, and a
                // second attempt replaces the same file
                let tmp = dir.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, &bytes).map_err(|e| format!("cannot write {name}: {e}"))?;
                std::fs::rename(&tmp, dir.join(&name))
                    .map_err(|e| format!("cannot write {name}: {e}"))
            })
            .await
            .map_err(|e| e.to_string())?
        }
        Transport::Smtp(smtp) => smtp
            .send(msg.clone())
            .await
            .map(|_| ())
            .map_err(|e| describe(&e)),
    }
}

fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// Sends the messages that are due. Returns how many were attempted.
pub async fn deliver_due(ctx: &App, t: &Transport) -> Result<usize, AppError> {
    let s = &ctx.settings.mail;
    let due = ctx.store.due_mail(16).await?;
    let mut n = 0;
    for m in due {
        if !ctx.store.claim_mail(&m, s.lease_ms as i64).await? {
            continue; // another process took it
        }
        n += 1;
        let result = match build(&s.from, &m) {
            Ok(msg) => hand_over(t, &msg, &m).await,
            Err(e) => Err(e),
        };
        let next = u32::try_from(m.attempts + 2).unwrap_or(u32::MAX);
        let retry = (result.is_err() && next <= s.max_attempts)
            .then(|| crate::alerts::backoff_ms(s.retry_base_ms, s.retry_max_ms, next) as i64);
        let err = result.as_ref().err().map(String::as_str);
        ctx.store.finish_mail(m.id, err, retry).await?;
        match err {
            None => tracing::info!(mail = m.id, category = m.category, "mail sent"),
            Some(e) => tracing::warn!(
                mail = m.id,
                attempt = m.attempts + 1,
                retry_in_ms = retry,
                error = e,
                "mail not sent"
            ),
        }
    }
    Ok(n)
}

/// The delivery worker: runs until `stop` turns true.
pub async fn worker(ctx: App, mut stop: watch::Receiver<bool>) {
    let t = match transport(&ctx) {
        Ok(Some(t)) => t,
        Ok(None) => return,
        Err(e) => {
            tracing::error!(error = %e, "mail transport cannot be built; mail stays in the outbox");
            return;
        }
    };
    let poll = Duration::from_millis(ctx.settings.mail.poll_interval_ms);
    // digests are looked for every 30 polls (30 s by default)
    let mut polls = 0u32;
    loop {
        if polls.is_multiple_of(30)
            && let Err(e) = super::digest::queue_due(&ctx).await
        {
            tracing::warn!(error = %e, "queuing digests failed; will retry");
        }
        polls = polls.wrapping_add(1);
        match deliver_due(&ctx, &t).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "mail delivery pass failed; will retry"),
        }
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {},
            _ = stop.changed() => {},
        }
        if *stop.borrow() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(unsub: Option<&str>) -> Mail {
        Mail {
            id: 1,
            message_id: "abc123@example.org".into(),
            category: "digests".into(),
            user_id: Some(3),
            to: "李雷 <li@example.org>".into(),
            subject: "注册验证：请确认您的邮箱".into(),
            text: "正文".into(),
            html: "<p>正文</p>".into(),
            unsubscribe_url: unsub.map(str::to_string),
            calendar: None,
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: String::new(),
            last_error: None,
            sent_at: None,
            created_at: String::new(),
        }
    }

    #[test]
    fn messages_are_multipart_with_encoded_subject_and_one_click_unsubscribe() {
        let m = build(
            "校企对接平台 <noreply@example.org>",
            &mail(Some("http://x/unsubscribe?u=3&c=digests&s=ff")),
        )
        .unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("Message-ID: <abc123@example.org>"), "{raw}");
        assert!(raw.contains("Subject: =?utf-8?b?"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/plain") && raw.contains("text/html"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe: <http://x/unsubscribe?u=3&c=digests&s=ff>"),
            "{raw}"
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        let plain = build("noreply@example.org", &mail(None)).unwrap();
        let raw = String::from_utf8(plain.formatted()).unwrap();
        assert!(!raw.contains("List-Unsubscribe"));
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_name("ab.c@d-e"), "ab.c@d-e.eml");
        assert_eq!(file_name("../x/y"), ".._x_y.eml");
    }
}
