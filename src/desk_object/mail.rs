//! Email, the glue half: the `send_email` binding and its configuration, the alarm's mail pass
//! (reads what may be due, runs `desk::notify::decide`, sends, records), when a visitor's last
//! socket closes, and the unsubscribe page (`GET`: a confirmation with a button; `POST`: done).
//! Without the `EMAIL` binding, `EMAIL_FROM` and `PUBLIC_URL` email is off (`Mailer` is `None`).

use worker::{console_error, console_log, EmailMessage, Env, Headers, Request, Response, Result, SendEmail};

use super::view::RandomFresh;
use super::Desk;
use crate::desk::notify::{self, MailRules, Notice, MAX_REPLIES_PER_MAIL};
use crate::desk::push::PushEvent;
use crate::email::{self, Built, MailConfig, Reply};
use crate::protocol::{Status, WebhookEvent};
use crate::routes::request_url::RequestUrl;
use crate::sockets::Tagged;
use crate::store::Store;

/// When a failed send is tried again.
const RETRY_MS: i64 = 60_000;

/// The binding and what emails are built with.
pub(super) struct Mailer {
    binding: SendEmail,
    from: String,
    from_name: String,
    public_url: String,
    secret: String,
    pub(super) rules: MailRules,
}

impl Mailer {
    /// `None` (email off) unless the binding `EMAIL`, `EMAIL_FROM` and `PUBLIC_URL` are set and a
    /// signing secret exists (`EMAIL_SECRET`, else `ATTACHMENT_SECRET`).
    pub(super) fn from_env(
        env: &Env,
        var: &dyn Fn(&str) -> Option<String>,
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Mailer> {
        let set = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let binding = env.send_email("EMAIL").ok().filter(|b| !b.is_undefined())?;
        let mailer = Mailer {
            binding,
            from: set(var("EMAIL_FROM"))?,
            from_name: set(var("EMAIL_FROM_NAME")).unwrap_or_else(|| "Support".into()),
            public_url: set(var("PUBLIC_URL"))?,
            secret: set(secret("EMAIL_SECRET")).or_else(|| set(secret("ATTACHMENT_SECRET")))?,
            rules: MailRules::from_vars(var),
        };
        Some(mailer)
    }

    fn config(&self, desk: &str) -> MailConfig {
        MailConfig {
            from: self.from.clone(),
            from_name: self.from_name.clone(),
            public_url: self.public_url.clone(),
            secret: self.secret.clone(),
            desk: desk.to_owned(),
        }
    }

    async fn send(&self, built: Built) -> Result<()> {
        let message = EmailMessage::new(&built.from, &built.to, &built.raw).map_err(worker::Error::from)?;
        self.binding.send(&message).await.map_err(worker::Error::from)?;
        Ok(())
    }
}

impl Desk {
    fn desk_name(&self, store: &Store) -> Result<Option<String>> {
        let known = self.files.desk.borrow().clone();
        match known {
            Some(name) => Ok(Some(name)),
            None => store.desk_name(),
        }
    }

    /// A visitor's last socket closed: the follow-up clock starts; the alarm must look then.
    pub(super) fn mail_visitor_left(&self, store: &Store, user_id: &str, now: i64) -> Result<()> {
        let Some(mailer) = &self.mail else {
            return Ok(());
        };
        store.mail_left(user_id, Some(now))?;
        self.mail_wake_by(now + mailer.rules.followup_after_ms);
        Ok(())
    }

    /// Whether someone besides email hears of unanswered conversations: an enabled webhook that
    /// wants `conversation.unanswered`, or an agent's browser subscribed to Web Push. Then waits
    /// are watched with email off too (one detection, `desk::notify`, feeds all three).
    pub(super) fn unanswered_hooked(&self, store: &Store) -> Result<bool> {
        let hooks = self.hooks(store)?;
        let wanted = |e: &crate::desk::webhooks::Endpoint| e.events.contains(&WebhookEvent::ConversationUnanswered);
        if hooks.endpoints.iter().any(|e| e.enabled && wanted(e)) {
            return Ok(true);
        }
        // The owner's automatic message goes to an unanswered conversation too (the settings as
        // cached: this runs on every visitor message, which has read them already).
        let cached = self.settings.borrow().as_ref().map(|s| !s.away_message.is_empty());
        if cached.map_or_else(|| store.settings().map(|s| !s.away_message.is_empty()), Ok)? {
            return Ok(true);
        }
        Ok(self.push.is_some() && store.push_subscribed()?)
    }

    /// A message was stored: an agent's reply may need a follow-up, a visitor's may go unanswered.
    pub(super) fn mail_message_stored(&self, store: &Store, from_visitor: bool, now: i64) -> Option<i64> {
        let watched = self.mail.is_some() || (from_visitor && self.unanswered_hooked(store).unwrap_or(false));
        if !watched {
            return None;
        }
        let rules = &self.notify_rules;
        let delay = if from_visitor {
            let minutes = self.settings.borrow().as_ref().map_or(5, |s| i64::from(s.unanswered_minutes));
            rules.unanswered_ms.unwrap_or(minutes * 60_000)
        } else {
            rules.followup_after_ms
        };
        let at = now + delay;
        // An alarm already asked for by then covers this one: no promise, no storage call.
        if self.mail_armed.get().is_some_and(|armed| armed <= at) {
            return None;
        }
        self.mail_armed.set(Some(at));
        Some(at)
    }

    fn mail_wake_by(&self, at: i64) {
        let earlier = self.mail_wake.get().map_or(at, |w| w.min(at));
        self.mail_wake.set(Some(earlier));
    }

    /// The alarm's email pass: what is due is sent (follow-ups, unanswered alerts) and recorded,
    /// what is not is passed over or waits. Returns when to look again.
    pub(super) async fn mail_pass(&self, now: i64) -> Result<Option<i64>> {
        let store = self.store()?;
        let hooked = self.unanswered_hooked(&store)?;
        if self.mail.is_none() && !hooked {
            return Ok(None);
        }
        let Some(desk) = self.desk_name(&store)? else {
            return Ok(None);
        };
        let mailer = self.mail.as_ref().map(|m| (m, m.config(&desk)));
        let rules = &self.notify_rules;
        let mut pending = store.mail_pending(now)?;
        let full_slice = pending.len() as i64 >= crate::store::mail::PENDING_SLICE;
        for p in &mut pending {
            p.connected = !self.state.get_websockets_with_tag(&p.user_id).is_empty();
            if p.connected && p.reply_seq > p.mailed_seq {
                console_log!("mail: {} has a socket open: no follow-up yet", p.user_id);
            }
            if !p.connected && p.left_at.is_none() {
                store.mail_left(&p.user_id, Some(now))?;
                p.left_at = Some(now);
            }
        }
        let minutes = i64::from(store.settings()?.unanswered_minutes);
        let unanswered_ms = rules.unanswered_ms.unwrap_or(minutes * 60_000);
        let mut sent_hour = store.mail_sent_hour(now)?;
        let decision = notify::decide(now, &pending, rules, unanswered_ms, sent_hour);
        let mut retry = false;
        let mut next = decision.next;
        for notice in decision.notices {
            match notice {
                // Email off (the pass runs for webhooks): replies are not kept back for later.
                Notice::FollowUp { user_id, up_to, .. } | Notice::PassOver { user_id, up_to, .. }
                    if mailer.is_none() =>
                {
                    store.mail_mark_mailed(&user_id, up_to)?;
                }
                Notice::FollowUp { user_id, to, after_seq, up_to } => {
                    let Some((mailer, cfg)) = &mailer else { continue };
                    let replies: Vec<Reply> = store
                        .mail_replies(&user_id, after_seq, up_to, MAX_REPLIES_PER_MAIL)?
                        .into_iter()
                        .map(|r| Reply { agent_name: r.author_name.unwrap_or_else(|| "Support".into()), text: r.body })
                        .collect();
                    if replies.is_empty() {
                        store.mail_mark_mailed(&user_id, up_to)?;
                        continue;
                    }
                    let page = store.context(&user_id)?.and_then(|c| c.page.map(|p| p.url));
                    let link = email::return_link(page.as_deref(), &cfg.public_url);
                    let Some(built) = email::followup(cfg, &to, &user_id, &replies, &link, up_to, now) else {
                        store.mail_mark_mailed(&user_id, up_to)?;
                        continue;
                    };
                    // Sent, then marked: a crash in between sends it again (at least once).
                    match mailer.send(built).await {
                        Ok(()) => {
                            store.mail_mark_mailed(&user_id, up_to)?;
                            store.mail_log(now, "followup", &to, Some(&user_id), "sent")?;
                            sent_hour += 1;
                            console_log!("mail: follow-up sent for {user_id} ({} replies)", replies.len());
                        }
                        Err(e) => {
                            console_error!("mail: follow-up for {user_id} failed: {e}");
                            store.mail_log(now, "followup", &to, Some(&user_id), "failed")?;
                            retry = true;
                        }
                    }
                }
                Notice::PassOver { user_id, up_to, why } => {
                    store.mail_mark_mailed(&user_id, up_to)?;
                    if why.is_refusal() {
                        console_log!("mail: follow-up for {user_id} refused: {}", why.as_str());
                        store.mail_log(now, "followup", "", Some(&user_id), why.as_str())?;
                    } else {
                        console_log!("mail: follow-up for {user_id} passed over: {}", why.as_str());
                    }
                }
                Notice::Unanswered { user_id, since_seq, since_at } => {
                    // Told once per wait, whatever the emails and webhooks do.
                    store.mail_mark_told(&user_id, since_seq)?;
                    let conversation = store.conversation(&user_id)?;
                    // Resolved, snoozed or blocked meanwhile: nobody is kept waiting any more.
                    if conversation.as_ref().is_none_or(|c| c.status != Status::Open) {
                        continue;
                    }
                    console_log!("mail: conversation {user_id} unanswered since seq {since_seq}");
                    if hooked {
                        let tagged = Tagged::new(&self.state);
                        let view = self.view(&store, &tagged)?;
                        let mut fresh = RandomFresh::new(&self.ids);
                        // The automatic message (once per conversation), then who else is told.
                        let mut effects = crate::desk::availability::unanswered(&user_id, &view, now, &mut fresh);
                        effects.extend(crate::desk::webhooks::unanswered(&user_id, since_at, &view, now, &mut fresh));
                        let name = conversation.as_ref().map_or_else(|| "A visitor".into(), |c| c.name.clone());
                        let minutes = ((now - since_at) / 60_000).max(1);
                        let text = format!("Waiting for an answer for {minutes} min");
                        let event = "conversation.unanswered".to_owned();
                        let push = PushEvent { event, user_id: user_id.clone(), name, text };
                        effects.extend(crate::desk::push::queue(push, &view, now));
                        if let Some(e) = view.failure() {
                            return Err(e);
                        }
                        let performed = self.perform(None, effects, &tagged, now)?;
                        next = performed.wake.into_iter().chain(next).min();
                    }
                    let Some((mailer, cfg)) = &mailer else { continue };
                    let visitor = conversation.map_or_else(|| "A visitor".into(), |c| c.name);
                    let waited = ((now - since_at) / 60_000).max(1);
                    for agent in store.alert_recipients()? {
                        if sent_hour >= rules.per_desk_hour {
                            console_log!("mail: unanswered alert to {} refused: desk_limit", agent.id);
                            store.mail_log(now, "unanswered", &agent.address, Some(&user_id), "desk_limit")?;
                            continue;
                        }
                        let built = email::unanswered(
                            cfg,
                            &agent.address,
                            &agent.name,
                            &visitor,
                            &user_id,
                            waited,
                            since_seq,
                            now,
                        );
                        let Some(built) = built else { continue };
                        match mailer.send(built).await {
                            Ok(()) => {
                                sent_hour += 1;
                                store.mail_log(now, "unanswered", &agent.address, Some(&user_id), "sent")?;
                                console_log!("mail: unanswered alert sent to {}", agent.id);
                            }
                            Err(e) => {
                                console_error!("mail: unanswered alert to {} failed: {e}", agent.id);
                                store.mail_log(now, "unanswered", &agent.address, Some(&user_id), "failed")?;
                            }
                        }
                    }
                }
            }
        }
        if full_slice {
            next = Some(now + 1);
        }
        if retry {
            next = Some(next.map_or(now + RETRY_MS, |n| n.min(now + RETRY_MS)));
        }
        Ok(next)
    }

    /// `GET|POST /desks/{desk}/unsubscribe?u=…&sig=…`: a page with a button (so link scanners
    /// that follow GETs unsubscribe nobody); the POST (the button, or a mail client's one-click)
    /// unsubscribes the visitor.
    pub(super) fn unsubscribe(&self, req: &Request) -> Result<Response> {
        let raw_url = req.inner().url();
        let url = RequestUrl::split(&raw_url);
        let param = |name: &str| url.param(name);
        let (Some(user_id), Some(sig)) = (param("u"), param("sig")) else {
            return page(400, "This unsubscribe link is incomplete.", None);
        };
        let store = self.store()?;
        let cfg = match (&self.mail, self.desk_name(&store)?) {
            (Some(mailer), Some(desk)) => mailer.config(&desk),
            _ => return page(404, "Email is not enabled on this desk.", None),
        };
        if !cfg.verify(&user_id, &sig) {
            return page(403, "This unsubscribe link is not valid.", None);
        }
        if req.method() == worker::Method::Post {
            let found = store.unsubscribe(&user_id)?;
            console_log!("mail: {user_id} unsubscribed ({})", if found { "done" } else { "unknown visitor" });
            return page(200, "You are unsubscribed: you will get no more email from this chat.", None);
        }
        page(200, "Stop getting replies from this chat by email?", Some(&raw_url))
    }
}

/// A small HTML page; `form`: where its one button posts. Nothing in it comes from the request
/// but the URL, which is escaped.
fn page(status: u16, text: &str, form: Option<&str>) -> Result<Response> {
    let button = form.map_or(String::new(), |action| {
        format!(r#"<form method="post" action="{}"><button type="submit">Unsubscribe</button></form>"#, escape(action))
    });
    let html = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Unsubscribe</title><main><h1>Unsubscribe</h1><p>{}</p>{button}</main></html>",
        escape(text)
    );
    let headers = Headers::new();
    headers.set("Content-Type", "text/html; charset=utf-8")?;
    headers.set("Cache-Control", "no-store")?;
    headers.set("Content-Security-Policy", "default-src 'none'; form-action 'self'")?;
    Ok(Response::ok(html)?.with_status(status).with_headers(headers))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
