//! Display names, visitors' and agents': what a name may be, so that none passes for blank, for
//! the desk's default name of an anonymous visitor ("Visitor 3F0C1A") or for a customer the host
//! site verified (the inbox's ✓ mark).
//!
//! Names are not unique and never prove who someone is: anyone may call themselves "Alice
//! Martin". What the inbox shows beside a name does (the ✓ of a verified identity), so a name may
//! not imitate it, and a name must not read as another one the desk gave or as nothing at all.

use super::MAX_NAME_CHARS;

/// Why a display name was refused: `bad_request` on an upgrade or an HTTP body, `bad_frame` on a
/// socket, with [`NameError::message`]. Always the sender's input; nothing is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Empty after trimming, or longer than [`MAX_NAME_CHARS`].
    Length,
    /// A control character or a bidirectional control, which can make a name read as another
    /// ("Bob\u{202E}gnp.exe" shows as "Bobexe.png").
    Control,
    /// Nothing visible: only white space, invisible characters or blank look-alikes (U+3164
    /// HANGUL FILLER, U+2800 BRAILLE PATTERN BLANK…).
    Blank,
    /// A blank look-alike or an invisible character beside visible ones.
    Invisible,
    /// Reads like the name the desk gives an anonymous visitor ("Visitor 3F0C1A").
    LooksDefault,
    /// Carries a check mark or says "verified": the inbox marks verified customers itself.
    LooksVerified,
}

impl NameError {
    /// What the refusal says to the person who chose the name.
    pub fn message(self) -> &'static str {
        match self {
            NameError::Length => "name must be 1 to 64 characters",
            NameError::Control => "name may not contain control or text-direction characters",
            NameError::Blank => "name must show something: not only spaces or invisible characters",
            NameError::Invisible => "name may not contain invisible or blank look-alike characters",
            NameError::LooksDefault => "name may not look like the desk's own \"Visitor 3F0C1A\" names",
            NameError::LooksVerified => {
                "name may not contain a check mark or \"verified\": the inbox marks verified customers"
            }
        }
    }
}

/// A display name as stored: trimmed, 1 to [`MAX_NAME_CHARS`] characters, something visible, and
/// none of the look-alikes [`NameError`] lists.
pub fn display_name(raw: &str) -> Result<String, NameError> {
    let name = raw.trim();
    if !(1..=MAX_NAME_CHARS).contains(&name.chars().count()) {
        return Err(NameError::Length);
    }
    if name.chars().any(|c| c.is_control() || direction_control(c)) {
        return Err(NameError::Control);
    }
    if name.chars().all(|c| c.is_whitespace() || blank(c) || joiner(c)) {
        return Err(NameError::Blank);
    }
    if name.chars().any(blank) {
        return Err(NameError::Invisible);
    }
    let skeleton = skeleton(name);
    if name.chars().any(check_mark) || skeleton.contains("verified") {
        return Err(NameError::LooksVerified);
    }
    if looks_default(&skeleton) {
        return Err(NameError::LooksDefault);
    }
    Ok(name.to_owned())
}

/// [`display_name`], for callers that only need to know whether a name is fine.
pub fn visitor_name(raw: &str) -> Option<String> {
    display_name(raw).ok()
}

/// Bidirectional controls: embeddings, overrides, isolates, the marks LRM, RLM and ALM, and the
/// deprecated format controls beside them.
pub fn direction_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{206F}')
}

/// Characters that show nothing and have no use in a name: blank look-alikes (Hangul fillers,
/// the blank Braille pattern, Khmer inherent vowels) and invisible format characters (zero-width
/// space, word joiner, invisible operators, the BOM, the soft hyphen, interlinear annotation,
/// musical and hieroglyph format controls).
fn blank(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}' | '\u{200B}'
        | '\u{2060}'..='\u{2064}' | '\u{2800}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}')
}

/// Invisible characters that real names use: ZWNJ (Persian), ZWJ and variation selectors (emoji
/// sequences, Indic scripts), Mongolian variation selectors, tags (flag sequences). Allowed, but
/// never what makes a name visible.
fn joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}' | '\u{180B}'..='\u{180D}' | '\u{180F}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Check marks and ballot boxes with one, which read as the inbox's verified mark.
fn check_mark(c: char) -> bool {
    matches!(
        c,
        '\u{221A}'
            | '\u{2611}'
            | '\u{2705}'
            | '\u{2713}'
            | '\u{2714}'
            | '\u{10102}'
            | '\u{1F5F8}'
            | '\u{1F5F9}'
            | '\u{1FBB1}'
    )
}

/// The name as it reads, for comparing with what it may not imitate: lowercase ASCII where a
/// character looks like an ASCII letter or digit (full-width forms, mathematical alphanumerics,
/// Cyrillic and Greek look-alikes), without white space, invisible characters and separators.
fn skeleton(name: &str) -> String {
    name.chars()
        .filter(|c| !(c.is_whitespace() || blank(*c) || joiner(*c) || "-_.,:;#*~/\\()[]{}<>\"'`·•".contains(*c)))
        .map(|c| look_alike(c).unwrap_or(c).to_ascii_lowercase())
        .collect()
}

/// The ASCII character `c` passes for, if it is one of the usual look-alikes.
fn look_alike(c: char) -> Option<char> {
    let code = c as u32;
    match code {
        // Full-width ASCII.
        0xFF01..=0xFF5E => char::from_u32(code - 0xFF01 + 0x21),
        // Mathematical alphanumerics: 13 alphabets of 52 letters (A-Z, a-z), then 5 of 10 digits.
        0x1D400..=0x1D6A3 => char::from_u32(u32::from(b'a') + (code - 0x1D400) % 52 % 26),
        0x1D7CE..=0x1D7FF => char::from_u32(u32::from(b'0') + (code - 0x1D7CE) % 10),
        _ => CONFUSABLES.iter().find(|(from, _)| from.contains(c)).map(|(_, to)| *to),
    }
}

/// Cyrillic, Greek and small-capital letters that look like Latin ones.
const CONFUSABLES: &[(&str, char)] = &[
    ("аАΑα", 'a'),
    ("вВΒβ", 'b'),
    ("сСϲ", 'c'),
    ("ԁ", 'd'),
    ("еЕΕε", 'e'),
    ("һНΗ", 'h'),
    ("іІΙιɪӏⅠⅰ", 'i'),
    ("јЈ", 'j'),
    ("кКΚκ", 'k'),
    ("мМΜ", 'm'),
    ("Νη", 'n'),
    ("оОΟοσᴏ", 'o'),
    ("рРΡρ", 'p'),
    ("ԛ", 'q'),
    ("ʀ", 'r'),
    ("ѕЅꜱ", 's'),
    ("тТΤτᴛ", 't'),
    ("ѵѴνᴠⅤⅴ", 'v'),
    ("ԝ", 'w'),
    ("хХΧχ", 'x'),
    ("уУΥγ", 'y'),
    ("Ζ", 'z'),
];

/// Whether a skeleton reads as "visitor" followed by nothing or by an id-like tag (hex, or letters
/// and digits): the desk's default names are "Visitor" and six characters of the visitor's id.
/// Digits that pass for letters in the word itself ("V1sit0r") count as those letters.
fn looks_default(skeleton: &str) -> bool {
    const WORD: [&str; 7] = ["v", "i1l|!", "s5$", "i1l|!", "t7+", "o0", "r"];
    let mut chars = skeleton.chars();
    if !WORD.iter().all(|alike| chars.next().is_some_and(|c| alike.contains(c))) {
        return false;
    }
    let tag = chars.as_str();
    tag.is_empty()
        || (tag.len() <= 16
            && tag.chars().all(|c| c.is_ascii_alphanumeric())
            && (tag.chars().all(|c| c.is_ascii_hexdigit()) || tag.chars().any(|c| c.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass_trimmed() {
        for name in [
            "Ada",
            "  Grace Hopper ",
            "Zoë",
            "李小龍",
            "محمد",
            "דוד",
            "Ana 👩‍💻",
            "Visitor Center",
            "Bob Visitor 42",
            "می‌خواهم",
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Iain",
            "Mark",
            "O'Brien",
            "Jean-Luc",
        ] {
            assert_eq!(display_name(name), Ok(name.trim().to_owned()), "{name:?}");
        }
    }

    #[test]
    fn blank_look_alikes_are_refused() {
        for name in [
            "\u{3164}",
            "\u{2800}\u{2800}",
            "\u{115F}\u{1160}",
            "\u{FFA0}",
            "\u{200B}",
            " \u{FEFF} ",
            "\u{200D}",
            "\u{17B5}",
            "\u{00AD}",
            "\u{FE0F}",
            "\u{E0041}",
        ] {
            assert_eq!(display_name(name), Err(NameError::Blank), "{name:?}");
        }
        for name in ["Ali\u{3164}ce", "Bob\u{2800}", "A\u{200B}B", "Eve\u{2060}"] {
            assert_eq!(display_name(name), Err(NameError::Invisible), "{name:?}");
        }
        assert_eq!(display_name("   "), Err(NameError::Length), "only spaces trims to nothing");
    }

    #[test]
    fn direction_and_control_characters_are_refused() {
        for name in ["Bob\u{202E}gnp.exe", "\u{2067}Eve", "A\u{200F}", "x\u{061C}", "a\u{0007}b", "tab\tname"] {
            assert_eq!(display_name(name), Err(NameError::Control), "{name:?}");
        }
    }

    #[test]
    fn names_that_imitate_the_verified_mark_are_refused() {
        for name in [
            "Alice Martin ✓",
            "✔ Bob",
            "☑Carol",
            "Dan ✅",
            "Eve √",
            "Fay 🗸",
            "Alice (verified)",
            "VERIFIED",
            "Ｖｅｒｉｆｉｅｄ buyer",
            "v e r i f i e d",
        ] {
            assert_eq!(display_name(name), Err(NameError::LooksVerified), "{name:?}");
        }
    }

    #[test]
    fn names_that_imitate_the_default_are_refused() {
        let default = crate::desk::default_name("3f0c1a2b-0000");
        assert_eq!(default, "Visitor 3F0C1A");
        for name in [
            default.as_str(),
            "visitor 3f0c1a",
            "Visitor",
            "Visitor #12",
            "Visitor-ABCDEF",
            "VISITOR_9Z",
            "Vis1t0r 3F0C1A",
            "Ⅴisitor 1",
            "Visitor\u{00A0}3F0C1A",
            "Ｖｉｓｉｔｏｒ ３Ｆ０Ｃ１Ａ",
            "Vіsіtor 3F0C1A",
            "𝐕𝐢𝐬𝐢𝐭𝐨𝐫 1",
            "Visitor 3F0C1A2B3C4D5E6F",
        ] {
            assert_eq!(display_name(name), Err(NameError::LooksDefault), "{name:?}");
        }
        for name in ["Visitor Bob", "Visitors welcome", "Visitor 3F0C1A2B3C4D5E6F7", "Revisitor 1"] {
            assert!(display_name(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn lengths_count_characters() {
        assert_eq!(display_name(&"é".repeat(64)).map(|n| n.chars().count()), Ok(64));
        assert_eq!(display_name(&"é".repeat(65)), Err(NameError::Length));
        assert_eq!(display_name(""), Err(NameError::Length));
    }
}
