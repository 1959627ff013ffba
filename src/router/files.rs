//! Serving a file through its signed URL: the Worker checks the signature (desk, conversation,
//! attachment id, expiry) with `ATTACHMENT_SECRET` and reads R2 itself; no desk object is asked.
//! Expired or changed URLs are 403 with their reason; a deleted file is 404.
//!
//! The answer never runs in the desk's origin: the type comes from the allow-list (never HTML or
//! SVG), everything but images is a download, `nosniff`, a CSP that allows nothing, and it is
//! cached only by the browser that asked, at most until the URL expires.

use worker::{Env, Headers, Request, Response, Result};

use super::refuse;
use crate::attachments::{disposition, object_key, served_type, Signer, UrlRefusal};
use crate::error::HttpError;
use crate::routes::file_in;
use crate::routes::request_url::RequestUrl;

pub async fn serve(req: &Request, env: &Env, desk: &str) -> Result<Response> {
    let path = req.path();
    let rest = path.strip_prefix(&format!("/desks/{desk}/")).unwrap_or("");
    let Some((user_id, id)) = file_in(rest) else {
        return refuse(HttpError::NotFound);
    };
    let secret = env.secret("ATTACHMENT_SECRET").ok().map(|s| s.to_string());
    let secret = secret.or_else(|| env.var("ATTACHMENT_SECRET").ok().map(|v| v.to_string())).filter(|s| !s.is_empty());
    let (Some(secret), Ok(bucket)) = (secret, env.bucket("ATTACHMENTS")) else {
        return refuse(HttpError::AttachmentsDisabled);
    };
    let raw_url = req.inner().url();
    let url = RequestUrl::split(&raw_url);
    let param = |key: &str| url.param(key).unwrap_or_default();
    let signer = Signer { secret, desk: desk.to_owned(), ttl_ms: 0 };
    let now = worker::Date::now().as_millis() as i64;
    let expires_at = match signer.verify(user_id, id, &param("expires"), &param("sig"), now) {
        Ok(()) => param("expires").parse::<i64>().unwrap_or(now),
        Err(UrlRefusal::Expired) => return refuse(HttpError::UrlExpired),
        Err(UrlRefusal::BadSignature) => return refuse(HttpError::BadSignature),
    };
    let Some(object) = bucket.get(object_key(desk, user_id, id)).execute().await? else {
        return refuse(HttpError::NotFound);
    };
    let metadata = object.http_metadata();
    let (content_type, kind) = served_type(metadata.content_type.as_deref());
    let name = object.custom_metadata()?.remove("name").unwrap_or_else(|| "file".into());
    let headers = Headers::new();
    headers.set("Content-Type", &content_type)?;
    let disposition = match kind {
        Some(kind) => disposition(kind, &name),
        None => "attachment".to_owned(),
    };
    headers.set("Content-Disposition", &disposition)?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Content-Security-Policy", "default-src 'none'; sandbox; frame-ancestors 'none'")?;
    headers.set("Cache-Control", &format!("private, max-age={}", ((expires_at - now) / 1000).max(0)))?;
    headers.set("Referrer-Policy", "no-referrer")?;
    let Some(body) = object.body() else {
        return refuse(HttpError::NotFound);
    };
    Ok(Response::from_body(body.response_body()?)?.with_headers(headers))
}
