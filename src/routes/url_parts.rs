//! A request's URL taken apart as the runtime serialized it, without parsing it again: the
//! scheme, `host[:port]`, path and query parameters the router and the desk read off an upgrade.
//!
//! Why not `url::Url`: the runtime hands over a WHATWG-serialized URL (host lowercased, default
//! port dropped, `?` and `#` percent-encoded inside the path), so splitting the string gives the
//! same pieces, and a full parse per connect, twice (router and object), was measurable.

/// The pieces of a serialized absolute URL (`scheme://authority/path?query`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `https` or `http` (empty when the URL has no `://`).
    pub scheme: &'a str,
    /// `host[:port]` as serialized: no user info, no default port.
    pub authority: &'a str,
    /// From the first `/` after the authority up to `?` or `#` (`/` at least).
    pub path: &'a str,
    /// After `?`, up to `#` (empty when there is none).
    pub query: &'a str,
}

impl<'a> UrlParts<'a> {
    pub fn of(url: &'a str) -> UrlParts<'a> {
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme, rest),
            None => ("", url),
        };
        let url = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (before_query, query) = url.split_once('?').unwrap_or((url, ""));
        let (authority, path) = match (scheme.is_empty(), before_query.find('/')) {
            (true, _) => ("", before_query),
            (false, Some(i)) => before_query.split_at(i),
            (false, None) => (before_query, ""),
        };
        // User info (`user:pass@host`) is not part of where the request went.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        UrlParts { scheme, authority, path: if path.is_empty() { "/" } else { path }, query }
    }

    /// The first value of `key` in the query, decoded as a form would be (`+` is a space,
    /// `%XX` a byte, invalid UTF-8 replaced), as `url`'s `query_pairs` decodes it.
    pub fn param(&self, key: &str) -> Option<String> {
        self.query.split('&').filter(|pair| !pair.is_empty()).find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == key).then(|| decode(v))
        })
    }
}

fn decode(text: &str) -> String {
    if !text.contains(['%', '+']) {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_a_serialized_url() {
        let u = UrlParts::of("https://desk.example.com:8443/desks/demo/visitor?since=3&epoch=ab#x");
        assert_eq!(u.scheme, "https");
        assert_eq!(u.authority, "desk.example.com:8443");
        assert_eq!(u.path, "/desks/demo/visitor");
        assert_eq!(u.query, "since=3&epoch=ab");
        let bare = UrlParts::of("http://127.0.0.1");
        assert_eq!((bare.authority, bare.path, bare.query), ("127.0.0.1", "/", ""));
        assert_eq!(UrlParts::of("http://u:p@[::1]:80/a").authority, "[::1]:80");
        assert_eq!(UrlParts::of("/desks/demo/admin?x=1").path, "/desks/demo/admin");
    }

    #[test]
    fn params_decode_as_a_form_does() {
        let u = UrlParts::of("https://h/desks/d/visitor?name=Ada+L%C3%B6we&token=t%2Bk&&since=&name=second&bad=%zz%4");
        assert_eq!(u.param("name").as_deref(), Some("Ada Löwe"));
        assert_eq!(u.param("token").as_deref(), Some("t+k"));
        assert_eq!(u.param("since").as_deref(), Some(""));
        assert_eq!(u.param("bad").as_deref(), Some("%zz%4"));
        assert_eq!(u.param("epoch"), None);
        assert_eq!(UrlParts::of("https://h/p?x=%FF").param("x").as_deref(), Some("\u{FFFD}"));
    }
}
