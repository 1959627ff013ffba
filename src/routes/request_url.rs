//! The parts of a request's URL the Worker reads — scheme, authority, path, query parameters —
//! taken from the URL string the runtime hands over, without the `url` crate.
//!
//! Why not `url`: `worker::Request::url()` re-parses that string with it, and `url` brings `idna`
//! and its Unicode back end: ~40 KB of wasm code for a string the runtime has already parsed and
//! serialised by the WHATWG URL rules (lowercase scheme and host, default port dropped, dot
//! segments resolved, path and query percent-encoded). Splitting that canonical form gives what
//! `url` would; `tests/request_url.rs` holds this module to `url` on such strings.

/// A request URL split into its parts, borrowing the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// `https`, `http`, … (as the runtime wrote it: lowercase).
    pub scheme: &'a str,
    /// `host` or `host:port` (`[v6]:port` for IPv6), without any `user:password@`.
    pub authority: &'a str,
    /// From the first `/` after the authority up to `?` or `#`; `/` when empty.
    pub path: &'a str,
    /// After `?`, up to `#`; empty when there is none.
    pub query: &'a str,
}

impl<'a> RequestUrl<'a> {
    /// Splits an absolute URL (`scheme://authority/path?query#fragment`). Without `://` the
    /// whole string is taken as path and query (the runtime always gives an absolute URL).
    pub fn split(url: &'a str) -> Self {
        let url = url.split('#').next().unwrap_or(url);
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme, rest),
            None => ("", url),
        };
        let end = if scheme.is_empty() { 0 } else { rest.find(['/', '?']).unwrap_or(rest.len()) };
        let (authority, rest) = rest.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        RequestUrl { scheme, authority, path: if path.is_empty() { "/" } else { path }, query }
    }

    /// The first value of query parameter `key`, decoded as an HTML form would be
    /// (`application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte, bad UTF-8 replaced).
    pub fn param(&self, key: &str) -> Option<String> {
        self.query.split('&').filter(|pair| !pair.is_empty()).find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(k) == key).then(|| form_decode(v))
        })
    }
}

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space, `%XX` the
/// byte XX (a `%` not followed by two hex digits stays as it is), then UTF-8 with bad bytes replaced.
pub fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).map(|d| d as u8)
}
