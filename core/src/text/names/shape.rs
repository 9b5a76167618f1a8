//! The letter model: how much a word no lexicon holds looks like a person's name.

/// Tells a person's name from an English word by its letters, for the names no lexicon
/// holds (`Szczepańska`, `Nishiyama`): a logistic regression over the hashed 1- to 4-letter
/// n-grams of `^WORD$`, trained by `scripts/gen-name-shape.py` on the lexicons against
/// Debian's English word list. Scores are log-odds times [`SHAPE_SCALE`], summed in integers.
pub(super) struct NameShape {
    bias: i32,
    weights: &'static [u8],
}

/// Hashed n-gram buckets of the model, one signed byte of weight each.
const SHAPE_BUCKETS: usize = 1 << 14;
/// Scores are log-odds times this, so they sum as integers.
pub(super) const SHAPE_SCALE: i32 = 32;
/// A lone unknown word mid-sentence: 2.6% of English words score this high, and 62% of
/// names (both held out from training).
pub(super) const SHAPE_ALONE: i32 = 2 * SHAPE_SCALE;
/// A lone unknown word at a sentence's start (0.5% of English words, 32% of names).
pub(super) const SHAPE_START: i32 = 4 * SHAPE_SCALE;
/// Each of two or more unknown words in a row (6% of words, 77% of names, alone).
pub(super) const SHAPE_PAIR: i32 = SHAPE_SCALE;
/// Two unknown words in a row whose scores sum to this, neither below its negation
/// (`Wisława Szczepańska`: 160 and -61).
pub(super) const SHAPE_PAIR_SUM: i32 = 2 * SHAPE_SCALE;
/// A lone unknown word that a person's verb follows (`Irenka lives`, `Tomomi is from`) or a
/// speaker's verb precedes (`said Maslin`).
pub(super) const SHAPE_CUED: i32 = 0;
/// An unknown word of five letters or more before a name found otherwise (short words'
/// scores say less: the model saw few of them).
pub(super) const SHAPE_JOIN: i32 = SHAPE_SCALE;

impl NameShape {
    /// The model from `shape.bin`: the bias (4 bytes, little-endian), then the weights.
    pub(super) fn load(bytes: &'static [u8]) -> Self {
        let (bias, weights) = match bytes.split_first_chunk::<4>() {
            Some((b, w)) if w.len() == SHAPE_BUCKETS => (i32::from_le_bytes(*b), w),
            // A damaged model predicts no name; the lexicons still work.
            _ => (i32::MIN / 2, &[][..]),
        };
        NameShape { bias, weights }
    }

    /// How much `key` (upper case) looks like a name, in log-odds times [`SHAPE_SCALE`].
    pub(super) fn score(&self, key: &str) -> i32 {
        if self.weights.is_empty() || key.len() > 96 {
            return i32::MIN / 2;
        }
        // The bytes of `^KEY$`, read in place: this runs once per unknown capitalised word.
        let key = key.as_bytes();
        let len = key.len() + 2;
        let byte = |i: usize| match i {
            0 => b'^',
            i if i == len - 1 => b'$',
            i => key.get(i - 1).copied().unwrap_or(b'$'),
        };
        let char_start = |i: usize| i >= len || byte(i) & 0xc0 != 0x80;
        let mut sum = self.bias;
        let mut start = 0;
        while start < len {
            // FNV-1a over the n-gram's bytes, then its order: the n-grams from one position
            // share the hash of their common prefix.
            let mut h: u32 = 0x811c_9dc5;
            let mut at = start;
            for order in b'1'..=b'4' {
                if at >= len {
                    break;
                }
                loop {
                    h = (h ^ u32::from(byte(at))).wrapping_mul(0x0100_0193);
                    at += 1;
                    if char_start(at) {
                        break;
                    }
                }
                let g = (h ^ u32::from(order)).wrapping_mul(0x0100_0193);
                let w = self
                    .weights
                    .get(g as usize % SHAPE_BUCKETS)
                    .copied()
                    .unwrap_or(0);
                sum += i32::from(w as i8);
            }
            start += 1;
            while !char_start(start) {
                start += 1;
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_shape_scores_as_its_generator_does() {
        let shape = NameShape::load(include_bytes!("../../../data/names/shape.bin"));
        // Sums computed from shape.bin by the hashing in scripts/gen-name-shape.py; they
        // change when the model is regenerated.
        assert_eq!(shape.score("MONJEAU"), 169);
        assert_eq!(shape.score("HYPERTENSION"), -245);
        assert_eq!(shape.score("SZCZEPAŃSKA"), -61);
        // A damaged model never predicts a name.
        assert!(NameShape::load(b"\0\0\0\0short").score("MONJEAU") < SHAPE_JOIN);
        assert!(NameShape::load(&[]).score("MONJEAU") < SHAPE_JOIN);
        let long = "A".repeat(200);
        assert!(shape.score(&long) < SHAPE_JOIN);
    }
}
