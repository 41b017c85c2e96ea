//! The mail templates, beside the pages' own: plain text and HTML per letter, one HTML
//! layout with the site's header, a plain-text footer. The application composes letters
//! with them through [`duijie_app::mail::Renderer`], which the server hands it at start.

use minijinja::Environment;
use serde_json::Value;
use std::sync::OnceLock;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("templates/mail/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "layout.html",
    "button.html",
    "footer.txt",
    "verify.txt",
    "verify.html",
    "already.txt",
    "already.html",
    "approved.txt",
    "approved.html",
    "rejected.txt",
    "rejected.html",
    "invite.txt",
    "invite.html",
    "reset.txt",
    "reset.html",
    "password_changed.txt",
    "password_changed.html",
    "match_alert.txt",
    "match_alert.html",
    "digest.txt",
    "digest.html",
    "connection.txt",
    "connection.html",
);

/// Templates compiled once; `.html` auto-escaped, `.txt` as written.
fn env() -> Result<&'static Environment<'static>, String> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .map_err(|e| format!("mail template {name}: {e}"))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The server's mail templates.
pub struct MailTemplates;

impl duijie_app::mail::Renderer for MailTemplates {
    fn render(&self, template: &str, vars: &Value) -> Result<(String, String), String> {
        let env = env()?;
        let render = |name: String| {
            env.get_template(&name)
                .and_then(|t| t.render(vars))
                .map_err(|e| format!("{name}: {e}"))
        };
        let mut text = render(format!("{template}.txt"))?;
        text.push_str(&render("footer.txt".into())?);
        Ok((text, render(format!("{template}.html"))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use duijie_app::mail::Renderer;
    use serde_json::json;

    #[test]
    fn every_template_compiles_and_html_is_escaped() {
        let env = env().unwrap();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap();
        }
        let (text, html) = MailTemplates
            .render(
                "rejected",
                &json!({"name": "<b>x</b>", "reason": "a & b", "site": "http://s"}),
            )
            .unwrap();
        assert!(
            html.contains("&lt;b&gt;x") && !html.contains("<b>") && html.contains("a &amp; b"),
            "{html}"
        );
        assert!(
            text.contains("<b>x</b>") && text.contains("a & b"),
            "{text}"
        );
        assert!(
            text.contains("这封邮件由校企对接平台自动发送"),
            "the footer follows"
        );
    }
}
