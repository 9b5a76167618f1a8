//! Resource ids and references: one mapping per run, so an id and every reference to it
//! (`Type/id`, `urn:uuid:`, absolute URLs, `fullUrl`, `request.url`) are rewritten alike.

use std::collections::HashMap;

use crate::keys::KeyRing;
use crate::plan::Treatment;
use crate::treat::{self, PseudonymParams};

/// The id category of a resource type: a patient's id is a `patient_id`, an encounter's an
/// `encounter_id`, every other resource's a `resource_id`.
pub(crate) fn id_category(resource_type: &str) -> &'static str {
    match resource_type {
        "Patient" => "patient_id",
        "Encounter" => "encounter_id",
        _ => "resource_id",
    }
}

/// How ids come out of a run.
#[derive(Debug, Default)]
pub(crate) struct IdMap {
    /// Category -> original id -> new id (looked up per reference without a key copy).
    map: HashMap<&'static str, HashMap<String, String>>,
    /// Codes handed out so far (ids recoded in order of first appearance).
    next: u64,
}

/// What happened to an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdOutcome {
    /// Shown as is.
    Clear,
    /// A keyed pseudonym, or a code given in order of first appearance.
    Recoded,
}

impl IdMap {
    /// The id `id` of category `cat` becomes, under `treatment`:
    /// - clear: itself;
    /// - pseudonymize: a UUID made of the keyed pseudonym (the same in every run with the
    ///   key, and valid wherever FHIR wants an id or a `urn:uuid:`);
    /// - anything else (redact, mask, generalize): a code in order of first appearance in
    ///   this run, also shaped as a UUID. It is derived from no information about the
    ///   patient (HIPAA §164.514(c)), so a Safe Harbor release keeps its references whole.
    ///
    /// Returns `None` when pseudonymizing needs a key the view lacks.
    pub(crate) fn rewrite(
        &mut self,
        cat: &'static str,
        id: &str,
        treatment: &Treatment,
        key: Option<&KeyRing>,
    ) -> Option<(String, IdOutcome)> {
        if matches!(treatment, Treatment::Clear) {
            return Some((id.to_owned(), IdOutcome::Clear));
        }
        if let Some(new) = self.map.get(cat).and_then(|m| m.get(id)) {
            return Some((new.clone(), IdOutcome::Recoded));
        }
        let new = match treatment {
            Treatment::Pseudonymize { params } => {
                let key = key?;
                let p = PseudonymParams {
                    prefix: String::new(),
                    length: 32,
                    ..params.clone()
                };
                let mut hex = String::new();
                let domain = params.domain.as_deref().unwrap_or(cat);
                treat::pseudonymize(id, key.pseudonym_mac(), domain, &p, &mut hex);
                uuid_from_hex(&hex)
            }
            _ => {
                self.next += 1;
                uuid_from_hex(&format!("{:032x}", self.next))
            }
        };
        self.map
            .entry(cat)
            .or_default()
            .insert(id.to_owned(), new.clone());
        Some((new, IdOutcome::Recoded))
    }
}

/// 32 hex digits as an RFC 9562 (4122) UUID of version 8 (custom) and variant `10`.
fn uuid_from_hex(hex: &str) -> String {
    let mut h: Vec<u8> = hex
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(32)
        .collect();
    if let Some(v) = h.get_mut(12) {
        *v = b'8';
    }
    if let Some(v) = h.get_mut(16) {
        // Variant 10xx: 8, 9, a or b.
        let nibble = (*v as char).to_digit(16).unwrap_or(0);
        *v = b"89ab".get((nibble & 3) as usize).copied().unwrap_or(b'8');
    }
    let s = String::from_utf8(h).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// A reference string taken apart: what stands before the id, the resource type (when the
/// string says it), the id, and what follows it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ref<'a> {
    /// `urn:uuid:ID`.
    Uuid(&'a str),
    /// `[base/]Type/id[/_history/v]`: (everything before the id, type, id, the rest).
    Literal(&'a str, &'a str, &'a str, &'a str),
    /// `#id`: a contained resource, local to its container.
    Contained,
    /// `Type?query`: (type, query).
    Conditional(&'a str, &'a str),
}

/// Parses a reference; `None` for a form FHIR does not define.
pub(crate) fn parse_ref(s: &str) -> Option<Ref<'_>> {
    if let Some(u) = s.strip_prefix("urn:uuid:") {
        return Some(Ref::Uuid(u));
    }
    if s.starts_with('#') {
        return Some(Ref::Contained);
    }
    if let Some((ty, q)) = s.split_once('?') {
        let ty = ty.rsplit('/').next().unwrap_or(ty);
        return super::schema::schema()
            .is_resource(ty)
            .then_some(Ref::Conditional(ty, q));
    }
    let (head, rest) = match s.find("/_history/") {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let (before_id, id) = head.rsplit_once('/')?;
    let ty = before_id.rsplit('/').next().unwrap_or(before_id);
    let valid_id = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    (super::schema::schema().is_resource(ty) && valid_id).then(|| {
        let prefix_len = head.len() - id.len();
        Ref::Literal(&s[..prefix_len], ty, id, rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_of_every_form() {
        assert_eq!(parse_ref("urn:uuid:abc"), Some(Ref::Uuid("abc")));
        assert_eq!(
            parse_ref("Patient/p1"),
            Some(Ref::Literal("Patient/", "Patient", "p1", ""))
        );
        assert_eq!(
            parse_ref("https://x.org/fhir/Encounter/e.1/_history/2"),
            Some(Ref::Literal(
                "https://x.org/fhir/Encounter/",
                "Encounter",
                "e.1",
                "/_history/2"
            ))
        );
        assert_eq!(parse_ref("#med1"), Some(Ref::Contained));
        assert_eq!(
            parse_ref("Patient?identifier=http://x|123"),
            Some(Ref::Conditional("Patient", "identifier=http://x|123"))
        );
        assert_eq!(parse_ref("Nope/1"), None);
        assert_eq!(parse_ref("Patient/has space"), None);
    }

    #[test]
    fn codes_are_uuids_in_order_and_stable() {
        let mut m = IdMap::default();
        let red = Treatment::Redact(Default::default());
        let (a, _) = m.rewrite("patient_id", "p1", &red, None).unwrap();
        let (b, _) = m.rewrite("resource_id", "o1", &red, None).unwrap();
        let (a2, _) = m.rewrite("patient_id", "p1", &red, None).unwrap();
        assert_eq!(a, "00000000-0000-8000-8000-000000000001");
        assert_eq!(b, "00000000-0000-8000-8000-000000000002");
        assert_eq!(a, a2);
        let key = KeyRing::from_bytes(&[7; 32]).unwrap();
        let ps = Treatment::Pseudonymize {
            params: PseudonymParams {
                prefix: String::new(),
                length: 16,
                domain: None,
                case_insensitive: false,
            },
        };
        let (p, _) = m.rewrite("patient_id", "p9", &ps, Some(&key)).unwrap();
        assert_eq!(p.len(), 36);
        assert_eq!(p.as_bytes()[14], b'8');
        assert!(matches!(p.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert!(m.rewrite("patient_id", "p10", &ps, None).is_none());
    }
}
