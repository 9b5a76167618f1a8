//! The name lexicons: given names and surnames (US Census 1990 and Faker's locales, see
//! `core/data/names/SOURCE.md`), with the ones that are also common English words, packed by
//! `build.rs` and unpacked once.

/// Upper-case name to its flags; foldhash because lookups run once per capitalised word.
type NameMap = std::collections::HashMap<Box<str>, u8, foldhash::fast::FixedState>;

/// Flag of a given name.
pub(super) const GIVEN: u8 = 1;
/// Flag of a surname.
pub(super) const SURNAME: u8 = 2;
/// Flag of a name that is also a common English word (`Brown`), which needs more evidence.
pub(super) const ENGLISH: u8 = 4;

/// Reads the front-coded lexicon `build.rs` writes: per name, the bytes it shares with the
/// previous one, its flags, the length of the rest of it, and the rest.
fn unpack_names(mut packed: &[u8]) -> NameMap {
    let mut names = NameMap::default();
    let mut word: Vec<u8> = Vec::new();
    while let [shared, flags, len, tail @ ..] = packed {
        let (rest, next) = tail.split_at(usize::from(*len).min(tail.len()));
        packed = next;
        word.truncate(usize::from(*shared));
        word.extend_from_slice(rest);
        // Always valid: the entries were cut from UTF-8 text and put back together whole.
        if let Ok(w) = std::str::from_utf8(&word) {
            names.insert(w.into(), *flags);
        }
    }
    names
}

/// Given names and surnames, and the ones that are also common English words, which need
/// more evidence.
pub(super) struct NameLexicon {
    /// Upper-case name to its flags: [`GIVEN`], [`SURNAME`], [`ENGLISH`].
    names: NameMap,
}

impl NameLexicon {
    /// Unpacks the lexicon `build.rs` embedded.
    pub(super) fn load() -> Self {
        NameLexicon {
            names: unpack_names(include_bytes!(concat!(env!("OUT_DIR"), "/names.fc"))),
        }
    }

    /// The flags of `key` (upper case), 0 for a word no lexicon holds.
    pub(super) fn flags(&self, key: &str) -> u8 {
        self.names.get(key).copied().unwrap_or(0)
    }

    /// Whether `key` (upper case) is a given name.
    pub(super) fn is_given(&self, key: &str) -> bool {
        self.flags(key) & GIVEN != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_lexicon_holds_every_name_with_its_flags() {
        let lex = NameLexicon::load();
        let count = |file: &str| file.lines().filter(|l| !l.trim().is_empty()).count();
        let lists = [
            (include_str!("../../../data/names/first.txt"), GIVEN),
            (include_str!("../../../data/names/last.txt"), SURNAME),
            (include_str!("../../../data/names/ambiguous.txt"), ENGLISH),
        ];
        for (file, flag) in lists {
            for name in file.lines().map(str::trim).filter(|l| !l.is_empty()) {
                assert!(lex.flags(name) & flag != 0, "{name}");
            }
            let flagged = lex.names.values().filter(|&&f| f & flag != 0).count();
            assert_eq!(flagged, count(file));
        }
        assert_eq!(lex.flags("NOT-A-NAME-AT-ALL"), 0);
    }
}
