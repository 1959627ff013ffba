//! Emails, the pure half: the follow-up a visitor gets with agents' replies, the alert an agent
//! gets for an unanswered conversation, built as MIME by `email::mime` (UTF-8 subjects and
//! names as encoded words, one text part only: nothing a visitor or agent wrote is ever HTML), and the
//! signed per-visitor unsubscribe URL. Sent by `desk_object::mail` through `send_email`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::{hex, unhex};

mod mime;
use mime::Message;

/// What sending needs to know about this deployment (from its variables).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `EMAIL_FROM`: the sender address (a domain the account may send from).
    pub from: String,
    /// `EMAIL_FROM_NAME`: the sender's display name (default "Support").
    pub from_name: String,
    /// `PUBLIC_URL`: where this Worker is reached (`https://support.example.com`), for links.
    pub public_url: String,
    /// The key unsubscribe links are signed with (`EMAIL_SECRET`, else `ATTACHMENT_SECRET`).
    pub secret: String,
    /// This desk's name.
    pub desk: String,
}

/// The fragment the widget opens its panel on (`widget/`).
pub const OPEN_FRAGMENT: &str = "#support-chat";

/// A reply as the email shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub agent_name: String,
    pub text: String,
}

/// One built email: envelope and the raw MIME message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub from: String,
    pub to: String,
    pub raw: String,
}

impl MailConfig {
    fn mac(&self, user_id: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).ok()?;
        mac.update(format!("unsubscribe\n{}\n{user_id}", self.desk).as_bytes());
        Some(mac)
    }

    /// The visitor's unsubscribe URL (GET: a confirmation page; POST: unsubscribed).
    pub fn unsubscribe_url(&self, user_id: &str) -> String {
        let sig = self.mac(user_id).map(|m| hex(&m.finalize().into_bytes())).unwrap_or_default();
        format!(
            "{}/desks/{}/unsubscribe?u={}&sig={sig}",
            self.public_url.trim_end_matches('/'),
            self.desk,
            encode(user_id)
        )
    }

    /// Whether `sig` is this deployment's signature for `user_id` (compared in constant time).
    pub fn verify(&self, user_id: &str, sig: &str) -> bool {
        let (Some(presented), Some(mac)) = (unhex(sig), self.mac(user_id)) else {
            return false;
        };
        mac.verify_slice(&presented).is_ok()
    }

    fn message_id(&self, kind: &str, user_id: &str, seq: i64) -> String {
        let domain = self.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        format!("{kind}.{}.{}.{seq}@{domain}", self.desk, encode(user_id))
    }
}

/// Percent-encodes what is not unreserved in a URL (user ids are hex; this keeps it so anyway).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The link back to the page the visitor was on, with the chat open: its last page (only an
/// http(s) URL; its own fragment replaced), else the Worker's demo page.
pub fn return_link(page: Option<&str>, public_url: &str) -> String {
    let page = page.filter(|p| p.starts_with("https://") || p.starts_with("http://"));
    let base = match page {
        Some(p) => p.split('#').next().unwrap_or(p).to_owned(),
        None => format!("{}/", public_url.trim_end_matches('/')),
    };
    format!("{base}{OPEN_FRAGMENT}")
}

/// The follow-up: the replies since the last email, who wrote them, the link back, and how to
/// unsubscribe (in the text and as `List-Unsubscribe` one-click headers). `seq`: the latest
/// reply's, which makes the Message-ID (a retry after a crash sends the same id).
pub fn followup(
    cfg: &MailConfig,
    to: &str,
    user_id: &str,
    replies: &[Reply],
    link: &str,
    seq: i64,
    now: i64,
) -> Option<Built> {
    let agents = names(replies);
    let subject = match replies.len() {
        1 => format!("{agents} replied to your message"),
        _ => format!("{agents} replied to your messages"),
    };
    let unsubscribe = cfg.unsubscribe_url(user_id);
    let mut body = String::new();
    for r in replies {
        body.push_str(&format!("{} wrote:\n\n", r.agent_name));
        for line in r.text.lines() {
            body.push_str(&format!("> {line}\n"));
        }
        body.push('\n');
    }
    body.push_str(&format!("Continue the conversation: {link}\n\n-- \nYou get this email because you left your address in our chat.\nUnsubscribe: {unsubscribe}\n"));
    let raw = Message::new(&cfg.from_name, &cfg.from, to)?
        .subject(&subject)
        .message_id(&cfg.message_id("followup", user_id, seq))
        .date(now / 1000)
        .header("List-Unsubscribe", &format!("<{unsubscribe}>"))
        .header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        .header("Auto-Submitted", "auto-generated")
        .text_body(&body);
    Some(Built { from: cfg.from.clone(), to: to.to_owned(), raw })
}

/// The alert to an agent who opted in: which conversation waits, since when, where to answer.
#[allow(clippy::too_many_arguments)]
pub fn unanswered(
    cfg: &MailConfig,
    to: &str,
    agent_name: &str,
    visitor_name: &str,
    user_id: &str,
    minutes: i64,
    since_seq: i64,
    now: i64,
) -> Option<Built> {
    let subject = format!("{visitor_name} has waited {minutes} min for a reply");
    let inbox = format!("{}/admin/chat/?desk={}", cfg.public_url.trim_end_matches('/'), encode(&cfg.desk));
    let body = format!(
        "Hello {agent_name},\n\n{visitor_name} wrote to {desk} {minutes} min ago and nobody has answered yet.\n\nOpen the inbox: {inbox}\n\n-- \nYou get this email because you turned on unanswered-conversation alerts in the inbox.\n",
        desk = cfg.desk
    );
    let raw = Message::new(&cfg.from_name, &cfg.from, to)?
        .subject(&subject)
        .message_id(&cfg.message_id("unanswered", user_id, since_seq))
        .date(now / 1000)
        .header("Auto-Submitted", "auto-generated")
        .text_body(&body);
    Some(Built { from: cfg.from.clone(), to: to.to_owned(), raw })
}

/// "Ana", "Ana and Ben", "Ana, Ben and Chloé": each agent once, in order.
fn names(replies: &[Reply]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for r in replies {
        if !seen.contains(&r.agent_name.as_str()) {
            seen.push(&r.agent_name);
        }
    }
    match seen.split_last() {
        None => "We".into(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MailConfig {
        MailConfig {
            from: "support@example.com".into(),
            from_name: "Ünïcode Support".into(),
            public_url: "https://desk.example.com/".into(),
            secret: "s3cret".into(),
            desk: "demo".into(),
        }
    }

    #[test]
    fn unsubscribe_links_are_signed_per_visitor() {
        let c = cfg();
        let url = c.unsubscribe_url("abc");
        assert!(url.starts_with("https://desk.example.com/desks/demo/unsubscribe?u=abc&sig="), "{url}");
        let sig = url.rsplit_once("sig=").map(|(_, s)| s).unwrap_or_default();
        assert!(c.verify("abc", sig));
        assert!(!c.verify("abd", sig));
        assert!(!c.verify("abc", "00"));
        assert!(!c.verify("abc", "zz"));
    }

    #[test]
    fn followup_is_mime_with_headers_and_escaped_text() {
        let replies = [
            Reply { agent_name: "Zoë".into(), text: "<b>hi</b>\nsecond line".into() },
            Reply { agent_name: "Ben".into(), text: "ok".into() },
        ];
        let link = return_link(Some("https://shop.example/p?x=1#old"), "https://desk.example.com");
        assert_eq!(link, "https://shop.example/p?x=1#support-chat");
        let built = followup(&cfg(), "v@example.org", "abc", &replies, &link, 7, 1_700_000_000_000).expect("built");
        let raw = &built.raw;
        assert!(raw.contains("To: <v@example.org>"), "{raw}");
        assert!(raw.contains("List-Unsubscribe: <https://desk.example.com/desks/demo/unsubscribe?u=abc&sig="), "{raw}");
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
        assert!(raw.contains("Subject: =?utf-8?"), "the UTF-8 subject is encoded: {raw}");
        assert!(raw.contains("Message-ID: <followup.demo.abc.7@example.com>"), "{raw}");
        assert!(!raw.contains("text/html"), "text only");
        assert_eq!(return_link(Some("javascript:alert(1)"), "https://d.example/"), "https://d.example/#support-chat");
    }

    #[test]
    fn names_are_listed_once() {
        let r = |n: &str| Reply { agent_name: n.into(), text: String::new() };
        assert_eq!(names(&[r("Ana")]), "Ana");
        assert_eq!(names(&[r("Ana"), r("Ben"), r("Ana")]), "Ana and Ben");
        assert_eq!(names(&[r("Ana"), r("Ben"), r("Cy")]), "Ana, Ben and Cy");
    }
}
