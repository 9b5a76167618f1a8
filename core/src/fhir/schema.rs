//! The FHIR R4 element table (`core/data/fhir/elements.tsv`, written by
//! `scripts/gen-fhir-types.py` from HL7's definitions): which element of which resource,
//! data type or backbone element has which type, and whether it repeats. The walk asks it
//! the type of every element it meets; an element the table does not know is reported.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

type Fast = foldhash::fast::FixedState;

/// One element's type and cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Element {
    /// A primitive (`date`, `string`), a data type (`HumanName`) or a backbone element
    /// (`PatientContact`).
    pub(crate) ty: &'static str,
    /// Whether it repeats (a JSON array).
    pub(crate) many: bool,
}

/// The element table, read once.
pub(crate) struct Schema {
    elements: HashMap<(&'static str, &'static str), Element, Fast>,
    /// Owner -> its elements, in the table's order.
    names: HashMap<&'static str, Vec<&'static str>, Fast>,
    /// Owner -> its required elements (minimum cardinality 1).
    required: HashMap<&'static str, Vec<&'static str>, Fast>,
    resources: HashSet<&'static str, Fast>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let text = include_str!("../../data/fhir/elements.tsv");
    let mut elements = HashMap::with_hasher(Fast::default());
    let mut resources = HashSet::with_hasher(Fast::default());
    let mut required: HashMap<&'static str, Vec<&'static str>, Fast> =
        HashMap::with_hasher(Fast::default());
    let mut names: HashMap<&'static str, Vec<&'static str>, Fast> =
        HashMap::with_hasher(Fast::default());
    for line in text.lines() {
        if let Some(list) = line.strip_prefix("# resources: ") {
            resources.extend(list.split(' '));
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let mut f = line.split('\t');
        if let (Some(owner), Some(name), Some(ty)) = (f.next(), f.next(), f.next()) {
            let many = f.next() == Some("*");
            if f.next() == Some("1") {
                required.entry(owner).or_default().push(name);
            }
            names.entry(owner).or_default().push(name);
            elements.insert((owner, name), Element { ty, many });
        }
    }
    Schema {
        elements,
        names,
        required,
        resources,
    }
});

/// The table.
pub(crate) fn schema() -> &'static Schema {
    &SCHEMA
}

impl Schema {
    /// The element `name` of `owner` (a resource, data type or backbone element).
    pub(crate) fn element(&self, owner: &str, name: &str) -> Option<Element> {
        self.elements.get(&(owner, name)).copied()
    }

    /// The elements of `owner`, in the table's order.
    pub(crate) fn elements_of(&self, owner: &str) -> &[&'static str] {
        self.names.get(owner).map_or(&[], Vec::as_slice)
    }

    /// The required elements of `owner`.
    pub(crate) fn required(&self, owner: &str) -> &[&'static str] {
        self.required.get(owner).map_or(&[], Vec::as_slice)
    }

    /// Whether `ty` is a resource type (`Patient`, `Bundle`).
    pub(crate) fn is_resource(&self, ty: &str) -> bool {
        self.resources.contains(ty)
    }

    /// Whether `owner` has any element at all (a known type).
    pub(crate) fn knows_type(&self, owner: &str) -> bool {
        self.names.contains_key(owner)
    }
}

/// Whether `ty` is a FHIR primitive type (its JSON value is a string, number or boolean).
pub(crate) fn is_primitive(ty: &str) -> bool {
    ty.starts_with(|c: char| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_knows_resources_types_and_backbones() {
        let s = schema();
        assert!(s.is_resource("Patient") && s.is_resource("Bundle") && !s.is_resource("HumanName"));
        assert_eq!(
            s.element("Patient", "name"),
            Some(Element {
                ty: "HumanName",
                many: true
            })
        );
        assert_eq!(
            s.element("Patient", "birthDate"),
            Some(Element {
                ty: "date",
                many: false
            })
        );
        assert_eq!(
            s.element("PatientContact", "name").map(|e| e.ty),
            Some("HumanName")
        );
        assert_eq!(
            s.element("Observation", "valueQuantity").map(|e| e.ty),
            Some("Quantity")
        );
        assert_eq!(s.element("Patient", "nickname"), None);
        assert!(is_primitive("dateTime") && !is_primitive("Period"));
        assert!(s.knows_type("Address"));
        assert!(s.required("Observation").contains(&"status"));
        assert!(s.required("ImagingStudySeries").contains(&"uid"));
    }
}
