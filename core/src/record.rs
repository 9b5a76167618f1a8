//! What a record says about itself: the columns (or JSON paths) that carry record-level
//! attributes, and the attributes read from them that a decision depends on.
//!
//! A plan is compiled once per distinct [`RecordAttrs`]; reading them from a row is the only
//! per-record work a decision needs.

use serde::{Deserialize, Serialize};

/// Columns (or JSON paths) that carry record-level attributes Cedar policies read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordColumns {
    /// Record id written to the audit log.
    #[serde(default)]
    pub id: Option<String>,
    /// Patient id: keys the date shift and decides `own_record`.
    #[serde(default)]
    pub patient: Option<String>,
    /// Sensitivity labels (HL7 codes such as `HIV`, `PSY`, `SUD`, `42CFRPart2`), separated by
    /// `;`, `,`, `|` or spaces.
    #[serde(default)]
    pub labels: Option<String>,
    /// Confidentiality code (`N`, `R`, `V`, ...).
    #[serde(default)]
    pub confidentiality: Option<String>,
    /// User ids of the patient's care team, separated like labels.
    #[serde(default)]
    pub care_team: Option<String>,
    /// Purposes of use the patient consented to (for 42 CFR Part 2), separated like labels.
    #[serde(default)]
    pub consent: Option<String>,
}

impl RecordColumns {
    /// Whether any column that makes plans differ between records (labels, confidentiality,
    /// care team, consent) is among `has`.
    pub(crate) fn any_varying(&self, has: impl Fn(&str) -> bool) -> bool {
        [
            &self.labels,
            &self.confidentiality,
            &self.care_team,
            &self.consent,
        ]
        .into_iter()
        .any(|c| c.as_deref().is_some_and(&has))
    }

    /// The attributes of one record for `user`, given a way to read a column or path as text.
    pub(crate) fn attrs<'a>(
        &self,
        user: &str,
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> RecordAttrs {
        let col = |c: &Option<String>| c.as_deref().and_then(&get).unwrap_or("");
        let confidentiality = col(&self.confidentiality).trim();
        RecordAttrs {
            labels: split_list(col(&self.labels)),
            confidentiality: if confidentiality.is_empty() {
                "N".to_owned()
            } else {
                confidentiality.to_owned()
            },
            treating: self.care_team.is_some()
                && split_list(col(&self.care_team)).iter().any(|u| u == user),
            own_record: self.patient.is_some() && col(&self.patient) == user,
            consent: split_list(col(&self.consent)),
        }
    }
}

/// Record attributes a decision depends on (the plan cache key).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordAttrs {
    /// Sensitivity labels (HL7 codes).
    pub labels: Vec<String>,
    /// Confidentiality code; `N` when unknown.
    pub confidentiality: String,
    /// The principal is on the patient's care team.
    pub treating: bool,
    /// The principal is the patient.
    pub own_record: bool,
    /// Purposes of use the patient consented to.
    pub consent: Vec<String>,
}

impl RecordAttrs {
    /// A record that carries no attribute and is not the principal's own (confidentiality
    /// `N`): what every row of a table without attribute columns is.
    pub fn others() -> Self {
        RecordAttrs {
            confidentiality: "N".into(),
            ..RecordAttrs::default()
        }
    }
}

/// A list cell (`HIV; PSY`, `a,b`, `x|y`) as a sorted set.
fn split_list(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .split([';', ',', '|', ' '])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_from_columns() {
        let cols = RecordColumns {
            patient: Some("pid".into()),
            labels: Some("lab".into()),
            care_team: Some("team".into()),
            ..RecordColumns::default()
        };
        let row = |c: &str| match c {
            "pid" => Some("u1"),
            "lab" => Some(" PSY;HIV | PSY "),
            "team" => Some("dr-2, u1"),
            _ => None,
        };
        let a = cols.attrs("u1", row);
        assert_eq!(a.labels, ["HIV", "PSY"]);
        assert_eq!(a.confidentiality, "N", "no column: normal");
        assert!(a.treating && a.own_record);
        assert!(!cols.attrs("u2", row).own_record);
        assert!(cols.any_varying(|c| c == "lab"));
        assert!(
            !cols.any_varying(|c| c == "pid"),
            "a patient id alone varies only own_record"
        );
    }
}
