//! The word lists detection consults, kept as data in `core/data/words/` (one entry a line,
//! `#` comments, each file saying what its list is for): prose words, form labels, places,
//! roles, words that stop a name, words that are no name after an introduction, drug stems
//! and name particles. Each list is read once, on first use.

use std::sync::LazyLock;

/// A set of words; foldhash because lookups run once per capitalised word.
pub(super) type WordSet = std::collections::HashSet<&'static str, foldhash::fast::FixedState>;

/// The entries of a list file: each line without its comment, trimmed, if not empty.
fn entries(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|w| !w.is_empty())
}

fn set(list: &'static str) -> WordSet {
    entries(list).collect()
}

/// Lower-case English words that no street name holds (`lower_prose.txt`).
pub(super) static LOWER_PROSE: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/lower_prose.txt")));

/// Given names that label a line of a form or a person by rank (`label_words.txt`).
pub(super) static LABEL_WORDS: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/label_words.txt")));

/// Countries, nationalities and languages (`place_words.txt`).
pub(super) static PLACE_WORDS: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/place_words.txt")));

/// People by their role, and papers that speak (`role_nouns.txt`).
pub(super) static ROLE_NOUNS: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/role_nouns.txt")));

/// Capitalised words that never extend a name (`name_stop.txt`).
pub(super) static NAME_STOP: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/name_stop.txt")));

/// Words that follow a word introducing a name and are no name (`not_names.txt`).
pub(super) static NOT_NAMES: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/not_names.txt")));

/// Endings of drug names (`drug_stems.txt`), matched at a word's end, so a list, not a set.
pub(super) static DRUG_STEMS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| entries(include_str!("../../data/words/drug_stems.txt")).collect());

/// Lower-case particles inside a name (`name_particles.txt`).
pub(super) static NAME_PARTICLES: LazyLock<WordSet> =
    LazyLock::new(|| set(include_str!("../../data/words/name_particles.txt")));

#[cfg(test)]
mod tests {
    use super::*;

    /// Every list file: a header comment, then one entry a line (no blank line, no space
    /// inside or around an entry, no trailing comment), no entry twice.
    #[test]
    fn list_files_hold_one_entry_a_line_and_no_duplicates() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/words");
        let mut files = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with("# "), "{name}: no header comment");
            let mut seen = std::collections::HashSet::new();
            for (n, line) in text.lines().enumerate() {
                if line.starts_with('#') {
                    continue;
                }
                assert!(
                    !line.is_empty() && !line.contains(char::is_whitespace) && !line.contains('#'),
                    "{name}:{}: blank or malformed entry {line:?}",
                    n + 1
                );
                assert!(seen.insert(line), "{name}:{}: `{line}` twice", n + 1);
            }
            assert!(!seen.is_empty(), "{name}: no entries");
            files += 1;
        }
        assert_eq!(files, 8, "a list file that no static reads, or one missing");
    }

    /// The case each list is written in is the case it is looked up in.
    #[test]
    fn lists_are_in_the_case_they_are_looked_up_in() {
        let upper = |w: &&str| w.to_uppercase() == *w;
        let lower = |w: &&str| w.to_ascii_lowercase() == *w && w.is_ascii();
        for (name, list) in [
            ("label_words", &*LABEL_WORDS),
            ("place_words", &*PLACE_WORDS),
            ("role_nouns", &*ROLE_NOUNS),
            ("name_stop", &*NAME_STOP),
        ] {
            assert!(list.iter().all(upper), "{name}");
        }
        assert!(DRUG_STEMS.iter().all(upper));
        // `holds_prose` lower-cases a word to look it up: ASCII lower case only.
        assert!(LOWER_PROSE.iter().all(lower));
        assert!(NAME_PARTICLES.iter().all(lower));
        assert_eq!(
            (LOWER_PROSE.len(), NAME_STOP.len(), NOT_NAMES.len()),
            (51, 316, 113)
        );
    }
}
