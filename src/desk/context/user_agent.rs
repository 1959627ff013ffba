//! Browser and OS from a `User-Agent` header: a small table of the families people use, checked
//! in order (Edge and Opera say "Chrome" too, Chrome says "Safari"), with the major version. No
//! crate: agents need "Chrome 131 · Android", not a device database.

use crate::protocol::context::Device;
use crate::protocol::truncate;

/// Longest `User-Agent` read, and longest country or city kept (characters).
const MAX_UA_CHARS: usize = 512;
const MAX_PLACE_CHARS: usize = 64;

/// Browser tokens, most specific first: (token, name).
const BROWSERS: [(&str, &str); 10] = [
    ("Edg/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("EdgA/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
];

/// The major version after `token` (digits up to the first non-digit).
fn major(ua: &str, token: &str) -> Option<String> {
    let rest = &ua[ua.find(token)? + token.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).take(5).collect();
    (!digits.is_empty()).then_some(digits)
}

/// `("Chrome 131", "Android")`: either may be unknown.
pub fn browser_and_os(user_agent: &str) -> (Option<String>, Option<String>) {
    let ua = truncate(user_agent, MAX_UA_CHARS);
    let browser = BROWSERS.iter().find(|(token, _)| ua.contains(token)).and_then(|(token, name)| {
        // "Version/" is Safari's only alongside "Safari/" (and not in a Chromium browser).
        if *token == "Version/" && !ua.contains("Safari/") {
            return None;
        }
        Some(match major(ua, token) {
            Some(v) => format!("{name} {v}"),
            None => (*name).to_owned(),
        })
    });
    let os = if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
        Some("iOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("CrOS") {
        Some("ChromeOS")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("macOS")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    (browser, os.map(str::to_owned))
}

/// What the desk saw at a visitor's upgrade: its `User-Agent` and the runtime's `request.cf`
/// country and city (absent where the runtime gives none, as under Miniflare).
pub fn device(user_agent: Option<&str>, country: Option<&str>, city: Option<&str>) -> Device {
    let (browser, os) = user_agent.map(browser_and_os).unwrap_or_default();
    let place = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty() && !s.chars().any(char::is_control))
            .map(|s| truncate(s, MAX_PLACE_CHARS).to_owned())
    };
    Device { browser, os, country: place(country), city: place(city) }
}

#[cfg(test)]
mod tests {
    use super::browser_and_os;

    fn both(ua: &str) -> (String, String) {
        let (b, o) = browser_and_os(ua);
        (b.unwrap_or_default(), o.unwrap_or_default())
    }

    #[test]
    fn the_usual_browsers_are_told_apart() {
        let cases = [
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17", "iOS"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge 131", "Windows"),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 Mobile Safari/537.36", "Chrome 131", "Android"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0", "Firefox 132", "macOS"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera 115", "Linux"),
            ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131", "ChromeOS"),
        ];
        for (ua, browser, os) in cases {
            assert_eq!(both(ua), (browser.to_owned(), os.to_owned()), "{ua}");
        }
        assert_eq!(browser_and_os("curl/8.5.0"), (None, None));
        assert_eq!(browser_and_os(""), (None, None));
    }
}
