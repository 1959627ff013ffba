//! Attachments in the core: who may upload a file into which conversation, within which limits
//! ([`admit`], decided before the body is read); the message that records it ([`record`], the
//! same path as a text message, so every rule of messages holds for files too); and who may have
//! a signed URL for it ([`url`]). Pure: the glue reads the body, checks its bytes, stores it in
//! R2, then asks [`record`] again with what it stored.

use super::conversation::{reply, visitor_step};
use super::ticket::{self, Holder};
use super::{send, Audience, Effect, Fresh, Sender, View, Write};
use crate::attachments::{
    kind, object_key, Attachment, AttachmentLimits, Kind, MAX_ATTACHMENT_BYTES, UPLOAD_WINDOW_MS,
};
use crate::error::{FrameError, HttpError};
use crate::protocol::{Inbound, Outbound, Status, WireMessage};

/// An attachment as stored: its conversation and R2 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub user_id: String,
    pub key: String,
    pub attachment: Attachment,
}

/// What an upload request says before its body is read.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The conversation named (`userId`): agents must name one; a visitor may name only its own.
    pub target: Option<&'a str>,
    /// The declared type (`type`).
    pub declared_type: &'a str,
    /// `Content-Length`.
    pub size: u64,
}

/// An upload let in: the conversation it goes to and its allowed kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub user_id: String,
    pub kind: &'static Kind,
}

/// Decides an upload before its body is read. In order: the type (415 `bad_type`), the size
/// (413 `too_large`), the uploader's right to that conversation (403, 404), its uploads in the
/// last hour (429 `rate_limited`), then room: the conversation's and the desk's files, and the
/// desk's database for a visitor (507 `storage_full`).
pub fn admit(
    sender: &Sender,
    request: &Request,
    limits: &AttachmentLimits,
    view: &dyn View,
    now: i64,
) -> Result<Admitted, HttpError> {
    let kind = kind(request.declared_type).ok_or(HttpError::BadType(
        "this type of file is not accepted: images (PNG, JPEG, GIF, WebP), PDF, text, CSV, ZIP, DOCX, XLSX",
    ))?;
    if request.size > MAX_ATTACHMENT_BYTES {
        return Err(HttpError::TooLarge);
    }
    if request.size == 0 {
        return Err(HttpError::BadRequest("the file is empty"));
    }
    let (user_id, uploader) = match sender {
        Sender::Visitor { user_id } => {
            if request.target.is_some_and(|t| t != user_id) {
                return Err(HttpError::Forbidden("visitors can only upload into their own conversation"));
            }
            (user_id.as_str(), user_id.as_str())
        }
        Sender::Agent { id, .. } => {
            view.agent(id).ok_or(HttpError::Forbidden("this agent was revoked"))?;
            let target = request.target.ok_or(HttpError::BadRequest("an agent's upload needs userId"))?;
            (target, id.as_str())
        }
    };
    let conversation = view.conversation(user_id).ok_or(HttpError::UnknownUser)?;
    if matches!(sender, Sender::Visitor { .. }) && conversation.status == Status::Blocked {
        return Err(HttpError::Blocked);
    }
    let used = view.attachment_use(user_id, uploader, now - UPLOAD_WINDOW_MS);
    if used.recent_uploads >= limits.uploads_per_hour {
        let frees_at = used.oldest_recent_at.map_or(now + UPLOAD_WINDOW_MS, |at| at + UPLOAD_WINDOW_MS);
        return Err(HttpError::TooManyUploads { retry_after_ms: (frees_at - now).max(1000) as u64 });
    }
    if used.conversation_bytes.saturating_add(request.size) > limits.conversation_bytes {
        return Err(HttpError::StorageFull("this conversation holds as many files as it may"));
    }
    if used.desk_bytes.saturating_add(request.size) > limits.desk_bytes {
        return Err(HttpError::StorageFull("this desk holds as many files as it may; try again later"));
    }
    if matches!(sender, Sender::Visitor { .. }) && view.storage().full() {
        return Err(HttpError::StorageFull("this desk cannot store more messages right now; try again later"));
    }
    Ok(Admitted { user_id: user_id.to_owned(), kind })
}

/// A file recorded: the effects (the attachment's row, then its message as any message of that
/// sender is stored and delivered), and the message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub effects: Vec<Effect>,
    pub message: WireMessage,
}

/// Records a file stored in R2 as a message in `user_id`'s conversation: the message's text is
/// the file's name, and it carries the attachment. Admission is decided again first (the
/// conversation may have changed while the body arrived); a refusal leaves the glue to remove
/// the object it stored.
pub fn record(
    sender: &Sender,
    request: &Request,
    attachment: Attachment,
    limits: &AttachmentLimits,
    view: &dyn View,
    now: i64,
    fresh: &mut dyn Fresh,
) -> Result<Recorded, HttpError> {
    let Admitted { user_id, .. } = admit(sender, request, limits, view, now)?;
    let signer = view.attachment_signer().ok_or(HttpError::AttachmentsDisabled)?;
    let text = attachment.name.clone();
    let (stepped, uploader) = match sender {
        Sender::Visitor { user_id } => {
            let frame = Inbound::Message { message: text, target_user_id: None, client_msg_id: None };
            (visitor_step(user_id, frame, view, now, fresh), user_id.clone())
        }
        Sender::Agent { id, .. } => {
            let agent = view.agent(id).ok_or(HttpError::Forbidden("this agent was revoked"))?;
            (reply(&agent, user_id.clone(), text, None, view, now, fresh), id.clone())
        }
    };
    let mut effects = stepped.map_err(refusal)?;
    let mut stored = None;
    for effect in &mut effects {
        match effect {
            Effect::Store(Write::Append { message, .. }) if message.sender.public() => {
                message.attachment = Some(attachment.clone());
                stored = Some(message.clone());
            }
            Effect::Send { frame: Outbound::Message { sender, attachment: slot, .. }, .. } if sender.public() => {
                *slot = Some(attachment.clone());
            }
            Effect::Send { to: Audience::Sender, frame: Outbound::Error { code, .. } } => {
                return Err(match &**code {
                    "storage_full" => HttpError::StorageFull("this desk cannot store more messages right now"),
                    _ => HttpError::BadRequest("the file could not be recorded"),
                });
            }
            _ => {}
        }
    }
    let message = stored.ok_or(HttpError::BadRequest("the file could not be recorded"))?;
    let key = object_key(&signer.desk, &user_id, &attachment.id);
    let attach = Write::Attach { user_id, key, attachment, uploader, at: now };
    effects.insert(0, Effect::Store(attach));
    // A file is a message: the desk's webhooks hear of it as of any other.
    let effects = super::webhooks::emit(effects, view, now, fresh);
    Ok(Recorded { effects, message })
}

/// A refusal of the message path, as the upload's HTTP answer.
fn refusal(err: FrameError) -> HttpError {
    match err {
        FrameError::Forbidden(why) => HttpError::Forbidden(why),
        FrameError::UnknownUser => HttpError::UnknownUser,
        FrameError::StorageFull => HttpError::StorageFull("this desk cannot store more messages right now"),
        FrameError::DailyLimit { retry_after_ms } | FrameError::RateLimited { retry_after_ms } => {
            HttpError::TooManyUploads { retry_after_ms }
        }
        _ => HttpError::BadRequest("the file could not be recorded"),
    }
}

/// `attachment_url`: a signed URL for a file of a conversation the sender may read (a visitor its
/// own; an active agent any).
pub fn url(sender: &Sender, id: &str, view: &dyn View, now: i64) -> Result<Vec<Effect>, FrameError> {
    let signer = view.attachment_signer().ok_or(FrameError::AttachmentsDisabled)?;
    let stored = view.attachment(id).ok_or(FrameError::UnknownAttachment)?;
    if let Sender::Visitor { user_id } = sender {
        if *user_id != stored.user_id {
            return Err(FrameError::Forbidden("visitors can only read their own conversation"));
        }
    }
    let signed = signer.sign(&stored.user_id, id, now);
    let frame = Outbound::AttachmentUrl { id: id.to_owned(), url: signed.url, expires_at: signed.expires_at };
    Ok(vec![send(Audience::Sender, frame)])
}

/// Who a visitor's upload is: the single-use ticket it presents (`?ticket=`), traded for its token
/// or identity proof exactly as before a socket (`visitor/ticket`); with the write that uses it
/// up. Someone new (no conversation yet) or an agent's ticket is refused like an unknown one.
pub fn visitor_by_ticket(presented: Option<&str>, view: &dyn View, now: i64) -> Result<(Sender, Write), HttpError> {
    let presented = presented.ok_or(HttpError::Unauthorized("a visitor's upload needs a ticket (visitor/ticket)"))?;
    let ticket = ticket::redeem(presented, view, now).ok_or(ticket::REFUSED)?;
    let conversation = match &ticket.holder {
        Holder::Visitor { user_id } => view.conversation(user_id),
        Holder::Verified { id } => view.visitor_by_verified_id(id),
        Holder::NewVisitor | Holder::Agent { .. } => None,
    }
    .ok_or(ticket::REFUSED)?;
    Ok((Sender::Visitor { user_id: conversation.user_id }, Write::ConsumeTicket { hash: ticket.hash }))
}
