//! What stands around a position in a text: bounded windows before and after it, cut to
//! character boundaries, and where it stands in its sentence or line.

/// Whether a number stands right before the word at `at` (`30102 Kaevu 94`: a street).
pub(super) fn after_number(text: &str, at: usize) -> bool {
    window_before(text, at, 8)
        .trim_end_matches([' ', '\t'])
        .ends_with(|c: char| c.is_ascii_digit())
}

/// Whether the word at `at` stands on a Markdown heading line (`# Chief Complaint`), which
/// names a section, not a person.
pub(super) fn in_heading(text: &str, at: usize) -> bool {
    // A bounded look back: a heading is short, and a long line must not cost a scan per word.
    let window = window_before(text, at, 128);
    let line = match window.rfind('\n') {
        Some(n) => window.get(n + 1..).unwrap_or(""),
        None if window.len() == at => window,
        None => return false,
    };
    line.trim_start().starts_with('#')
}

/// Whether the word at `at` stands inside a sentence rather than at its start, where any
/// word is capitalised.
pub(super) fn mid_sentence(text: &str, at: usize) -> bool {
    let before = window_before(text, at, 8).trim_end_matches([' ', '\t']);
    before.chars().next_back().is_some_and(|c| {
        !matches!(
            c,
            '.' | '!'
                | '?'
                | '\n'
                | '"'
                | '“'
                | '”'
                | '\''
                | '‘'
                | '’'
                | '>'
                | '*'
                | '•'
                | '-'
                | '('
                | '['
        )
    })
}

/// Whether the word at `at` follows a lower-case word in the same sentence, where a
/// capitalised word is a proper noun rather than a sentence's first word.
pub(super) fn after_lowercase(text: &str, at: usize) -> bool {
    let window = window_before(text, at, 32);
    let before = window.trim_end_matches([' ', '\t']);
    before.len() < window.len() && before.chars().next_back().is_some_and(char::is_lowercase)
}

/// Up to `len` bytes of `text` before `at`, cut forward to a character boundary.
pub(super) fn window_before(text: &str, at: usize, len: usize) -> &str {
    let mut from = at.saturating_sub(len);
    while from < at && !text.is_char_boundary(from) {
        from += 1;
    }
    text.get(from..at).unwrap_or("")
}

/// Up to `len` bytes of `text` from `at`, cut back to a character boundary.
pub(super) fn window_after(text: &str, at: usize, len: usize) -> &str {
    let mut end = at.saturating_add(len).min(text.len());
    while end > at && !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(at..end).unwrap_or("")
}
