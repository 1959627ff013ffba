//! Refusals: every way a client's frame or request can be turned down, each with its wire code.
//!
//! All of these but [`FrameError::StorageFull`] are caused by the client (bad input or missing
//! rights); that one is the desk's (its storage budget is used up). None is a fault of the code:
//! they are answered, never logged as faults, and leave stored state untouched.

use thiserror::Error;

use crate::protocol::{MAX_FRAME_BYTES, MAX_MESSAGE_CHARS};

/// Why a WebSocket frame was refused. Sent as `{"type":"error","code","message"}` to its sender.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// The client sent something that is not a JSON object.
    #[error("frame is not a JSON object")]
    BadJson,
    /// The client sent a `type` this desk does not know (empty: no `type` at all).
    #[error("unknown frame type '{0}'")]
    UnknownType(String),
    /// A known `type` with fields of the wrong shape.
    #[error("malformed frame: {0}")]
    BadFrame(String),
    /// An admin reply without `targetUserId`: refused rather than broadcast or guessed.
    #[error("an admin message needs targetUserId: the visitor it is for")]
    MissingTarget,
    /// The visitor named was never seen on this desk.
    #[error("no visitor with that id on this desk")]
    UnknownUser,
    /// The agent named is not an active member of this desk's team (unknown or revoked).
    #[error("no active agent with that id on this desk")]
    UnknownAgent,
    /// No saved reply with that id on this desk (deleted meanwhile, or never there).
    #[error("no saved reply with that id on this desk")]
    UnknownReply,
    /// A bounded collection of the desk is full (saved replies); the message says which.
    #[error("{0}")]
    TooMany(&'static str),
    /// A message with no visible text.
    #[error("message is empty")]
    EmptyMessage,
    /// Message text over the limit.
    #[error("message is longer than {MAX_MESSAGE_CHARS} characters")]
    MessageTooLong,
    /// A whole frame over the limit (checked before parsing).
    #[error("frame is larger than {MAX_FRAME_BYTES} bytes")]
    FrameTooLarge,
    /// A visitor tried to act as an agent or to reach another visitor's conversation, or an agent
    /// tried what its role does not allow.
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// The socket sent frames faster than its limit; the frame was dropped unread. The client
    /// may send again after `retry_after_ms` (the error frame carries it as `retryAfterMs`).
    #[error("too many frames: wait {retry_after_ms} ms before sending again")]
    RateLimited { retry_after_ms: u64 },
    /// Not the client's fault: the desk's storage budget (`STORAGE_BUDGET_MB`) is used up, so new
    /// visitor messages are refused until its owner deletes conversations or raises the budget.
    /// The client may resend later with the same `clientMsgId`; agents' replies still work.
    #[error("this desk cannot store more messages right now; try again later")]
    StorageFull,
    /// The visitor wrote its allowance of message bytes for today (`VISITOR_BYTES_PER_DAY`); the
    /// message was not stored. It may send again when the UTC day ends, in `retry_after_ms`.
    #[error("this visitor wrote its allowance of message bytes for today: wait {retry_after_ms} ms")]
    DailyLimit { retry_after_ms: u64 },
    /// `attachment_url` for an id this desk does not hold (never uploaded, or deleted with its
    /// conversation).
    #[error("no attachment with that id on this desk")]
    UnknownAttachment,
    /// Not the client's fault: this deployment has no `ATTACHMENT_SECRET` (or no R2 bucket), so
    /// it neither takes nor serves files.
    #[error("attachments are not configured on this desk")]
    AttachmentsDisabled,
    /// A `settings_update` the desk cannot keep (the client's fault); nothing was changed.
    #[error("{0}")]
    Settings(SettingsError),
    /// An `email` frame whose address is not one (`name@example.com`, at most 254 characters).
    #[error("email must be an address like name@example.com, at most 254 characters")]
    BadEmail,
    /// A `webhook_save` or `webhook_delete` the desk cannot do (the client's fault); nothing changed.
    #[error("{0}")]
    Webhook(WebhookError),
    /// A `push_subscribe` whose endpoint or keys are not a browser's push subscription (or an
    /// endpoint this deployment does not send to); nothing was stored.
    #[error("{0}")]
    BadSubscription(&'static str),
    /// Not the client's fault: this deployment has no VAPID keys, so Web Push is off.
    #[error("push notifications are not configured on this desk (VAPID keys)")]
    PushDisabled,
}

/// Why a webhook frame was refused: each something the owner (or admin) got wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum WebhookError {
    #[error("url must be an https:// URL with a host, at most 2048 characters (http only to a loopback host, when WEBHOOKS_ALLOW_LOOPBACK is set)")]
    Url,
    #[error("a new webhook needs a url and at least one event")]
    Incomplete,
    #[error("events must name at least one of conversation.created, message.created, conversation.unanswered, conversation.resolved")]
    NoEvents,
    #[error("at most 10 webhooks per desk")]
    TooMany,
    #[error("no webhook with that id on this desk")]
    Unknown,
}

impl WebhookError {
    /// The wire code of each refusal.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Url => "bad_webhook_url",
            WebhookError::Incomplete | WebhookError::NoEvents => "bad_webhook",
            WebhookError::TooMany => "too_many",
            WebhookError::Unknown => "unknown_webhook",
        }
    }
}

/// Why a `settings_update` was refused: each a field the owner (or admin) got wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error("timeZone must be an IANA time zone name, like Europe/Paris")]
    TimeZone,
    #[error("hours need a day (mon..sun), open and close as HH:MM, open before close (close may be 24:00)")]
    Hours,
    #[error("at most 21 opening intervals (three a day)")]
    TooManyHours,
    #[error("holidays must be dates as YYYY-MM-DD")]
    Holiday,
    #[error("at most 100 holidays")]
    TooManyHolidays,
    #[error("awayMessage must be at most 1000 characters, without control characters")]
    AwayMessage,
    #[error("unansweredMinutes must be a whole number of minutes from 1 to 1440")]
    UnansweredMinutes,
}

impl SettingsError {
    /// The wire code of each refusal.
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::TimeZone => "bad_time_zone",
            SettingsError::Hours | SettingsError::TooManyHours => "bad_hours",
            SettingsError::Holiday | SettingsError::TooManyHolidays => "bad_holidays",
            SettingsError::AwayMessage => "bad_away_message",
            SettingsError::UnansweredMinutes => "bad_unanswered_minutes",
        }
    }
}

impl FrameError {
    /// The stable wire code (see docs/protocol.md, "Errors").
    pub fn code(&self) -> &'static str {
        match self {
            FrameError::BadJson => "bad_json",
            FrameError::UnknownType(_) => "unknown_type",
            FrameError::BadFrame(_) => "bad_frame",
            FrameError::MissingTarget => "missing_target",
            FrameError::UnknownUser => "unknown_user",
            FrameError::UnknownAgent => "unknown_agent",
            FrameError::UnknownReply => "unknown_reply",
            FrameError::TooMany(_) => "too_many",
            FrameError::EmptyMessage => "empty_message",
            FrameError::MessageTooLong | FrameError::FrameTooLarge => "too_long",
            FrameError::Forbidden(_) => "forbidden",
            FrameError::RateLimited { .. } | FrameError::DailyLimit { .. } => "rate_limited",
            FrameError::StorageFull => "storage_full",
            FrameError::UnknownAttachment => "unknown_attachment",
            FrameError::AttachmentsDisabled => "attachments_disabled",
            FrameError::Settings(e) => e.code(),
            FrameError::BadEmail => "bad_email",
            FrameError::Webhook(e) => e.code(),
            FrameError::BadSubscription(_) => "bad_subscription",
            FrameError::PushDisabled => "push_disabled",
        }
    }

    /// Whether the client caused the refusal (every refusal but a full desk).
    pub fn client_fault(&self) -> bool {
        !matches!(self, FrameError::StorageFull | FrameError::AttachmentsDisabled | FrameError::PushDisabled)
    }

    /// When the client may try again, for refusals that are only about timing.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            FrameError::RateLimited { retry_after_ms } | FrameError::DailyLimit { retry_after_ms } => {
                Some(*retry_after_ms)
            }
            _ => None,
        }
    }
}

/// Why an HTTP request was refused before any upgrade. Sent as a JSON body `{"code","message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// The desk name in the path is not 1 to 64 of `[A-Za-z0-9_-]`.
    #[error("desk name must be 1 to 64 of A-Z a-z 0-9 _ -")]
    BadDesk,
    /// A query parameter is malformed.
    #[error("{0}")]
    BadRequest(&'static str),
    /// Visitor token not issued by this desk, or admin credential missing or wrong.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// An admin socket requested by a page of another origin.
    #[error("admin sockets accept only pages of this origin")]
    ForeignOrigin,
    /// A visitor socket requested by a page whose origin is not in `ALLOWED_ORIGINS`.
    #[error("this desk does not serve the widget on that site: add its origin to ALLOWED_ORIGINS")]
    OriginNotAllowed,
    /// This client address, or its network, created too many visitors lately, on any desk of
    /// the deployment (`NEW_VISITORS_PER_IP`, `NEW_VISITORS_PER_NETWORK`).
    #[error("too many new visitors from this network: retry in {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    /// This client address presented too many wrong admin credentials lately.
    #[error("too many failed sign-ins from this address: retry in {retry_after_ms} ms")]
    TooManyFailures { retry_after_ms: u64 },
    /// An owner or admin blocked this visitor (its token or verified id): refused until reopened.
    #[error("this conversation was closed by the desk's team")]
    Blocked,
    /// This client address (or the whole desk) holds too many unused tickets.
    #[error("too many unused tickets: retry in {retry_after_ms} ms")]
    TooManyTickets { retry_after_ms: u64 },
    /// The visitor already holds `SOCKETS_PER_VISITOR` open sockets.
    #[error("too many open connections for this visitor: close a tab first")]
    TooManySockets,
    #[error("no such route")]
    NotFound,
    /// A valid desk name this deployment does not serve: not in `DESKS` and never created by the
    /// owner. Answered by the Worker before any desk object is named.
    #[error("no such desk on this deployment")]
    UnknownDesk,
    /// `POST /desks/{desk}` when `MAX_DESKS` desks have already been created.
    #[error("this deployment already has MAX_DESKS created desks: raise MAX_DESKS to create more")]
    TooManyDesks,
    #[error("wrong method: sockets are GET, credential checks POST")]
    MethodNotAllowed,
    /// A plain request on a WebSocket path.
    #[error("this path expects a WebSocket upgrade")]
    UpgradeRequired,
    /// No `ADMIN_TOKEN` is configured: admin access stays closed rather than open.
    #[error("admin access is disabled: set the ADMIN_TOKEN secret")]
    AdminDisabled,
    /// `ADMIN_TOKEN` is configured but shorter than `MIN_ADMIN_TOKEN_CHARS`: closed, as if unset.
    #[error("admin access is disabled: ADMIN_TOKEN must be at least 32 characters (e.g. openssl rand -hex 32)")]
    WeakAdminToken,
    /// An identity claim reached a deployment with no `IDENTITY_SECRET`: refused, never trusted.
    #[error("identity verification is not configured: set the IDENTITY_SECRET secret")]
    IdentityDisabled,
    /// A file over `MAX_ATTACHMENT_BYTES` (by its `Content-Length`, or counted as it arrived).
    #[error("files may be at most 10 MB")]
    TooLarge,
    /// A type not on the allow-list, or a file whose first bytes are not what its type says.
    #[error("{0}")]
    BadType(&'static str),
    /// An upload without `Content-Length`: its size must be known before it is read.
    #[error("an upload needs a Content-Length")]
    LengthRequired,
    /// Not the client's fault: no `ATTACHMENT_SECRET` or no `ATTACHMENTS` bucket is configured.
    #[error("attachments are not configured: set ATTACHMENT_SECRET and bind the ATTACHMENTS R2 bucket")]
    AttachmentsDisabled,
    /// An attachment URL whose time has passed: ask for a new one (`attachment_url`).
    #[error("this link has expired: ask for a new one")]
    UrlExpired,
    /// An attachment URL that this deployment did not sign as it is (changed or made up).
    #[error("this link is not valid: its signature does not match")]
    BadSignature,
    /// The uploader may not put a file there (a visitor naming another conversation, a blocked
    /// visitor, a revoked agent).
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    /// The conversation named does not exist on this desk.
    #[error("no visitor with that id on this desk")]
    UnknownUser,
    /// The uploader sent its `UPLOADS_PER_HOUR` files in the last hour.
    #[error("too many files uploaded lately: retry in {retry_after_ms} ms")]
    TooManyUploads { retry_after_ms: u64 },
    /// The conversation (`ATTACHMENT_MB_PER_CONVERSATION`), the desk's files
    /// (`ATTACHMENT_BUDGET_MB`) or its database (`STORAGE_BUDGET_MB`) is full.
    #[error("{0}")]
    StorageFull(&'static str),
}

impl HttpError {
    pub fn status(&self) -> u16 {
        match self {
            HttpError::BadDesk | HttpError::BadRequest(_) => 400,
            HttpError::Unauthorized(_) => 401,
            HttpError::ForeignOrigin | HttpError::OriginNotAllowed | HttpError::Blocked => 403,
            HttpError::RateLimited { .. }
            | HttpError::TooManyFailures { .. }
            | HttpError::TooManyTickets { .. }
            | HttpError::TooManySockets => 429,
            HttpError::NotFound | HttpError::UnknownDesk => 404,
            HttpError::TooManyDesks => 409,
            HttpError::MethodNotAllowed => 405,
            HttpError::UpgradeRequired => 426,
            HttpError::AdminDisabled
            | HttpError::WeakAdminToken
            | HttpError::IdentityDisabled
            | HttpError::AttachmentsDisabled => 503,
            HttpError::TooLarge => 413,
            HttpError::BadType(_) => 415,
            HttpError::LengthRequired => 411,
            HttpError::UrlExpired | HttpError::BadSignature | HttpError::Forbidden(_) => 403,
            HttpError::UnknownUser => 404,
            HttpError::TooManyUploads { .. } => 429,
            HttpError::StorageFull(_) => 507,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            HttpError::BadDesk => "bad_desk",
            HttpError::BadRequest(_) => "bad_request",
            HttpError::Unauthorized(_) => "unauthorized",
            HttpError::ForeignOrigin | HttpError::OriginNotAllowed => "forbidden_origin",
            HttpError::RateLimited { .. } | HttpError::TooManyFailures { .. } | HttpError::TooManyTickets { .. } => {
                "rate_limited"
            }
            HttpError::TooManySockets => "too_many_sockets",
            HttpError::NotFound | HttpError::UnknownDesk => "not_found",
            HttpError::TooManyDesks => "too_many_desks",
            HttpError::Blocked => "blocked",
            HttpError::MethodNotAllowed => "method_not_allowed",
            HttpError::UpgradeRequired => "upgrade_required",
            HttpError::AdminDisabled | HttpError::WeakAdminToken => "admin_disabled",
            HttpError::IdentityDisabled => "identity_disabled",
            HttpError::TooLarge => "too_large",
            HttpError::BadType(_) => "bad_type",
            HttpError::LengthRequired => "length_required",
            HttpError::AttachmentsDisabled => "attachments_disabled",
            HttpError::UrlExpired => "expired",
            HttpError::BadSignature => "bad_signature",
            HttpError::Forbidden(_) => "forbidden",
            HttpError::UnknownUser => "unknown_user",
            HttpError::TooManyUploads { .. } => "rate_limited",
            HttpError::StorageFull(_) => "storage_full",
        }
    }

    /// When the client may try again, for refusals that are only about timing.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            HttpError::RateLimited { retry_after_ms }
            | HttpError::TooManyFailures { retry_after_ms }
            | HttpError::TooManyTickets { retry_after_ms }
            | HttpError::TooManyUploads { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }

    /// The JSON body: `{"code","message"}`, plus `retryAfterMs` when the client may retry later.
    pub fn body(&self) -> String {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            code: &'a str,
            message: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            retry_after_ms: Option<u64>,
        }
        let body = Body { code: self.code(), message: self.to_string(), retry_after_ms: self.retry_after_ms() };
        // Serialising two strings and a number cannot fail; the fallback keeps it panic-free.
        crate::protocol::json_text(&body).unwrap_or_else(|_| r#"{"code":"internal","message":"refused"}"#.into())
    }
}
