//! A small MIME writer for the desk's emails (replacing `mail-builder`, ~20 KB of the gzipped
//! wasm): RFC 5322 headers, RFC 2047 encoded words for non-ASCII names and subjects, one
//! `text/plain` UTF-8 part in quoted-printable (RFC 2045, lines of at most 76 characters), CRLF
//! line ends. Nothing a caller passes can add a header: control characters (CR and LF among them)
//! in names, subjects and header values become spaces, and an address that is not one plain
//! `local@domain` token is refused.

use base64::Engine;

/// One text email being written: headers in the order added, then the body.
pub struct Message {
    head: String,
}

/// Longest header line we write when we can choose (RFC 5322 §2.1.1 recommends 78).
const LINE: usize = 78;
/// Bytes of UTF-8 per encoded word: 39 bytes are 52 base64 characters, 64 with `=?utf-8?B?`
/// and `?=`, so `Subject: ` and one word stay within [`LINE`].
const WORD_BYTES: usize = 39;

impl Message {
    /// `From: "name" <from>` and `To: <to>`; `None` if an address is not a plain address.
    pub fn new(from_name: &str, from: &str, to: &str) -> Option<Self> {
        let (from, to) = (address(from)?, address(to)?);
        let mut m = Message { head: String::new() };
        let name = phrase(from_name);
        // The address on a line of its own when the name's last line leaves no room for it.
        let last = name.rsplit("\r\n").next().map_or(0, str::len);
        let gap = if "From: ".len() + last + from.len() + 3 > LINE { "\r\n " } else { " " };
        m.raw_header("From", &format!("{name}{gap}<{from}>"));
        m.raw_header("To", &format!("<{to}>"));
        Some(m)
    }

    /// `Subject:`, folded at spaces when long, as encoded words when not plain ASCII.
    pub fn subject(mut self, subject: &str) -> Self {
        let clean = clean(subject);
        let value = if clean.is_ascii() { fold(&clean, "Subject: ".len()) } else { encoded_words(&clean) };
        self.raw_header("Subject", &value);
        self
    }

    /// `Message-ID: <id>` (the id is ours: `kind.desk.user.seq@domain`).
    pub fn message_id(mut self, id: &str) -> Self {
        self.raw_header("Message-ID", &format!("<{}>", clean(id)));
        self
    }

    /// `Date:` of `unix_seconds`, in UTC.
    pub fn date(mut self, unix_seconds: i64) -> Self {
        self.raw_header("Date", &rfc5322_date(unix_seconds));
        self
    }

    /// Any other header whose value is ASCII we wrote (a URL in `<>`, a fixed token).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.raw_header(name, &clean(value));
        self
    }

    /// The whole message: headers, MIME headers, blank line, `body` in quoted-printable.
    pub fn text_body(mut self, body: &str) -> String {
        self.raw_header("MIME-Version", "1.0");
        self.raw_header("Content-Type", "text/plain; charset=\"utf-8\"");
        self.raw_header("Content-Transfer-Encoding", "quoted-printable");
        let mut out = self.head;
        out.push_str("\r\n");
        out.push_str(&quoted_printable(body));
        out
    }

    fn raw_header(&mut self, name: &str, value: &str) {
        self.head.push_str(name);
        self.head.push_str(": ");
        self.head.push_str(value);
        self.head.push_str("\r\n");
    }
}

/// Control characters (CR, LF, tab among them) as spaces: a value stays on its header line.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// An address as `addr-spec`: one token of printable ASCII with an `@`, nothing that could close
/// the angle brackets, quote, or start a new header.
fn address(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.len() <= 254
        && s.contains('@')
        && s.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\' | b',' | b';'));
    ok.then_some(s)
}

/// A display name: a quoted string when ASCII (quotes and backslashes escaped), encoded words
/// otherwise.
fn phrase(name: &str) -> String {
    let name = clean(name);
    if name.is_ascii() {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    } else {
        encoded_words(&name)
    }
}

/// RFC 2047 `B` encoded words of at most [`WORD_BYTES`] bytes each (never splitting a
/// character), folded one per line.
fn encoded_words(s: &str) -> String {
    let mut words = Vec::new();
    let mut start = 0;
    while start < s.len() {
        let mut end = (start + WORD_BYTES).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let chunk = base64::engine::general_purpose::STANDARD.encode(&s.as_bytes()[start..end]);
        words.push(format!("=?utf-8?B?{chunk}?="));
        start = end;
    }
    words.join("\r\n ")
}

/// Folds an ASCII value before a space wherever a line would pass [`LINE`] (`used`: what the
/// header's name took of the first line). A word longer than a line stays whole.
fn fold(value: &str, used: usize) -> String {
    let mut out = String::with_capacity(value.len());
    let mut line = used;
    for (i, word) in value.split(' ').enumerate() {
        if i > 0 {
            if line + 1 + word.len() > LINE && line > 1 {
                out.push_str("\r\n");
                line = 0;
            }
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// The body in quoted-printable: each line (LF or CRLF in the text) a CRLF line, `=`, non-ASCII
/// and control bytes as `=XX`, a space or tab ending a line as `=20`/`=09`, soft breaks (`=`)
/// keeping every line within 76 characters.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let text = text.strip_suffix('\n').unwrap_or(text);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line).as_bytes();
        let mut width = 0;
        for (j, &b) in line.iter().enumerate() {
            let last = j + 1 == line.len();
            let literal = (b.is_ascii_graphic() && b != b'=') || (matches!(b, b' ' | b'\t') && !last);
            let piece = if literal { (b as char).to_string() } else { format!("={b:02X}") };
            // Room for the piece, and for a soft break after it unless the line ends here.
            let room = if last { 76 } else { 75 };
            if width + piece.len() > room {
                out.push_str("=\r\n");
                width = 0;
            }
            out.push_str(&piece);
            width += piece.len();
        }
    }
    if !text.is_empty() || out.is_empty() {
        out.push_str("\r\n");
    }
    out
}

/// `Tue, 14 Nov 2023 22:13:20 +0000`.
fn rfc5322_date(unix_seconds: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (days, secs) = (unix_seconds.div_euclid(86_400), unix_seconds.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{}, {d} {} {y} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Year, month (1-12) and day of days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes quoted-printable as a mail reader would (soft breaks joined, `=XX` bytes).
    fn unqp(s: &str) -> String {
        let joined = s.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let b = joined.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' {
                bytes.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).expect("hex"));
                i += 3;
            } else {
                bytes.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(bytes).expect("utf-8").replace("\r\n", "\n")
    }

    fn undo_words(s: &str) -> String {
        s.split("\r\n ")
            .map(|w| {
                let inner = w.strip_prefix("=?utf-8?B?").and_then(|w| w.strip_suffix("?=")).expect("encoded word");
                let bytes = base64::engine::general_purpose::STANDARD.decode(inner).expect("base64");
                String::from_utf8(bytes).expect("utf-8")
            })
            .collect()
    }

    #[test]
    fn dates_are_rfc5322_in_utc() {
        assert_eq!(rfc5322_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 +0000");
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(rfc5322_date(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 +0000");
    }

    #[test]
    fn quoted_printable_round_trips_with_short_lines() {
        let text = "Zoë wrote:\n\n> a=b and tabs\tin between \n-- \n".to_owned()
            + &"long ".repeat(40)
            + "é".repeat(50).as_str();
        let qp = quoted_printable(&text);
        assert!(qp.lines().all(|l| l.len() <= 76), "{qp}");
        assert!(qp.is_ascii());
        assert!(qp.contains("Zo=C3=AB wrote:\r\n"), "{qp}");
        assert!(qp.contains("> a=3Db and tabs\tin between=20\r\n"), "{qp}");
        assert!(qp.contains("--=20\r\n"), "{qp}");
        assert_eq!(unqp(&qp), text.trim_end_matches('\n').to_owned() + "\n");
        // An escape is never cut by a soft break: within each line, every `=` but a final one
        // is followed by two hex digits.
        for line in qp.split("\r\n") {
            let line = line.strip_suffix('=').unwrap_or(line).as_bytes();
            for (i, _) in line.iter().enumerate().filter(|(_, b)| **b == b'=') {
                assert!(line.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)), "{qp}");
            }
        }
    }

    #[test]
    fn names_and_subjects_are_plain_when_ascii_and_encoded_words_when_not() {
        let m = Message::new("Desk \"Support\"", "s@example.com", "v@example.org").expect("addresses");
        let raw = m.subject("Ana replied to your message").text_body("hi");
        assert!(raw.starts_with("From: \"Desk \\\"Support\\\"\" <s@example.com>\r\nTo: <v@example.org>\r\n"), "{raw}");
        assert!(raw.contains("\r\nSubject: Ana replied to your message\r\n"), "{raw}");
        let name = "Ünïcode Support with a name long enough for two words";
        let raw =
            Message::new(name, "s@example.com", "v@example.org").expect("ok").subject("Zoë replied").text_body("x");
        assert!(raw.split("\r\n").all(|l| l.len() <= LINE), "{raw}");
        let head = raw.split("\r\n\r\n").next().expect("head");
        let from = head.split("\r\nTo: ").next().expect("from").strip_prefix("From: ").expect("from");
        let from = from.replace("\r\n <", " <");
        let (words, addr) = from.rsplit_once(" <").expect("an address");
        assert_eq!(addr, "s@example.com>");
        assert_eq!(undo_words(words), name);
        assert!(raw.contains("Subject: =?utf-8?B?"), "{raw}");
        assert_eq!(undo_words(&encoded_words("Zoë replied")), "Zoë replied");
        // A character is never split across words.
        assert_eq!(undo_words(&encoded_words(&"é".repeat(100))), "é".repeat(100));
    }

    #[test]
    fn long_ascii_subjects_fold_at_spaces() {
        let subject = "Visitor 3F0C1A has waited 12 min for a reply ".repeat(4);
        let raw = Message::new("S", "s@e.x", "v@e.x").expect("ok").subject(subject.trim()).text_body("");
        let head = raw.split("\r\n\r\n").next().expect("head");
        assert!(head.split("\r\n").all(|l| l.len() <= LINE), "{head}");
        let unfolded = head.replace("\r\n ", " ");
        assert!(unfolded.contains(&format!("Subject: {}\r\n", subject.trim())), "{unfolded}");
    }

    #[test]
    fn nothing_passed_in_can_add_a_header() {
        let evil = "Eve\r\nBcc: everyone@example.com\nX-Evil: 1";
        let raw = Message::new(evil, "s@example.com", "v@example.org")
            .expect("ok")
            .subject(evil)
            .message_id("a\r\nBcc: x@y")
            .header("List-Unsubscribe", "<https://x>\r\nBcc: z@y")
            .text_body("body\r\nBcc: not a header, the body");
        let head = raw.split("\r\n\r\n").next().expect("head");
        for line in head.split("\r\n") {
            assert!(!line.starts_with("Bcc") && !line.starts_with("X-Evil"), "{head}");
        }
        assert!(head.split("\r\n").all(|l| !l.contains('\n') && !l.contains('\r')), "{head}");
        // Non-ASCII names with line breaks: encoded, the break a space inside the word.
        let raw = Message::new("Zoë\r\nBcc: x@y", "s@example.com", "v@example.org").expect("ok").text_body("");
        assert!(raw.lines().all(|l| !l.starts_with("Bcc")), "{raw}");
        // Addresses that are not one plain token are refused.
        for bad in ["v@example.org\r\nBcc: x@y", "a b@c", "<a@b>", "a@b>, <c@d", "", "no-at", "\"q\"@x"] {
            assert!(Message::new("S", "s@example.com", bad).is_none(), "{bad:?}");
            assert!(Message::new("S", bad, "v@example.org").is_none(), "{bad:?}");
        }
    }
}
