//! From candidates to the answer: a match trimmed and checked into a span (`push_span`),
//! then overlapping spans resolved and character offsets filled in (`resolve`).

use super::CONTEXT_WINDOW;
use super::patterns::Spec;
use super::span::Span;
use super::window::window_before;

/// Adds the match `value` at byte `start` of `text` as a span of `spec`, trimmed, when it
/// passes the spec's validator and its context words stand before it.
pub(super) fn push_span(found: &mut Vec<Span>, spec: &Spec, text: &str, start: usize, value: &str) {
    let (start, end, value) = trim_span(start, value);
    // A possessive is not part of a name (`I'm Jennifer's daughter`).
    let (end, value) = match value
        .strip_suffix("'s")
        .or_else(|| value.strip_suffix("’s"))
    {
        Some(v) if spec.category == "name" => (start + v.len(), v),
        _ => (end, value),
    };
    if start == end || spec.validate.is_some_and(|v| !v(value)) {
        return;
    }
    if !spec.context.is_empty() {
        let window = window_before(text, start, CONTEXT_WINDOW).to_lowercase();
        if !spec.context.iter().any(|w| window.contains(w.as_str())) {
            return;
        }
    }
    found.push(Span {
        start,
        end,
        char_start: 0,
        char_end: 0,
        category: spec.category.clone(),
        detector: spec.id.clone(),
        confidence: spec.confidence,
    });
}

/// `value` (the match at `start`) without leading white space and trailing spaces, periods,
/// commas, semicolons, colons and hyphens, which a pattern's edges take in: its start, end
/// and text.
fn trim_span(start: usize, value: &str) -> (usize, usize, &str) {
    let t = value.trim_end_matches([' ', '.', ',', ';', ':', '-']);
    let lead = t.len() - t.trim_start().len();
    let t = t.trim_start();
    (start + lead, start + lead + t.len(), t)
}

/// Merges overlapping spans of one category into their union (a partial phone match inside a
/// longer one, two date forms), then keeps the best of overlapping spans across categories
/// (confidence, then length, then earlier), and fills in character offsets.
pub(super) fn resolve(mut spans: Vec<Span>, text: &str) -> Vec<Span> {
    spans.sort_by(|a, b| a.category.cmp(&b.category).then(a.start.cmp(&b.start)));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(m) if m.category == s.category && s.start < m.end => {
                m.end = m.end.max(s.end);
                if s.confidence > m.confidence {
                    m.confidence = s.confidence;
                    m.detector = s.detector;
                }
            }
            _ => merged.push(s),
        }
    }
    let mut spans = merged;
    spans.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    // A span that loses an overlap keeps the parts no better span covers (`123-45-` of an
    // SSN whose tail a street took), so losing never leaves PHI in clear. Kept spans never
    // overlap, so a map by start finds the ones `s` meets in O(log n).
    let mut taken: std::collections::BTreeMap<usize, usize> = std::collections::BTreeMap::new();
    let mut kept: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        let mut covered: Vec<(usize, usize)> = taken
            .range(..s.end)
            .rev()
            .take_while(|&(_, &end)| end > s.start)
            .map(|(&start, &end)| (start, end))
            .collect();
        let has_text = |a: usize, b: usize| {
            text.get(a..b)
                .is_some_and(|t| t.chars().any(char::is_alphanumeric))
        };
        if covered.is_empty() {
            // The common case: nothing better overlaps, so the span is kept whole.
            if has_text(s.start, s.end) {
                taken.insert(s.start, s.end);
                kept.push(s);
            }
            continue;
        }
        covered.reverse();
        let mut at = s.start;
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        for (start, end) in covered {
            if start > at {
                pieces.push((at, start));
            }
            at = at.max(end);
        }
        if at < s.end {
            pieces.push((at, s.end));
        }
        for (start, end) in pieces {
            if has_text(start, end) {
                taken.insert(start, end);
                kept.push(Span {
                    start,
                    end,
                    ..s.clone()
                });
            }
        }
    }
    kept.sort_by_key(|s| s.start);
    // Character offsets in one forward pass.
    let mut chars = 0usize;
    let mut byte = 0usize;
    for s in &mut kept {
        chars += text.get(byte..s.start).map_or(0, |t| t.chars().count());
        s.char_start = chars;
        chars += text.get(s.start..s.end).map_or(0, |t| t.chars().count());
        s.char_end = chars;
        byte = s.end;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::super::Detector;

    #[test]
    fn a_span_that_loses_an_overlap_keeps_its_uncovered_part() {
        let d = Detector::builtin().unwrap();
        let text = "ref 123-45-6789 12 Main St";
        let spans = d.detect(text);
        // Every digit of the SSN is inside some span, whichever wins the shared part.
        let ssn = text.find("123-45-6789").unwrap();
        for i in (ssn..ssn + 11).filter(|&i| text.as_bytes()[i].is_ascii_digit()) {
            assert!(
                spans.iter().any(|s| s.start <= i && i < s.end),
                "byte {i} of the SSN left in clear: {spans:?}"
            );
        }
        // Spans never overlap.
        for w in spans.windows(2) {
            assert!(w[0].end <= w[1].start, "{spans:?}");
        }
    }

    #[test]
    fn offsets_are_bytes_and_chars() {
        let d = Detector::builtin().unwrap();
        let text = "Émile — SSN 123-45-6789";
        let spans = d.detect(text);
        let found: Vec<(&str, String)> = spans
            .iter()
            .map(|s| {
                let by_char: String = text
                    .chars()
                    .skip(s.char_start)
                    .take(s.char_end - s.char_start)
                    .collect();
                assert_eq!(&text[s.start..s.end], by_char);
                (s.category.as_ref(), by_char)
            })
            .collect();
        assert_eq!(
            found,
            [("name", "Émile".into()), ("ssn", "123-45-6789".into())]
        );
    }
}
