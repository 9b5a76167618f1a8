#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![warn(clippy::missing_errors_doc)]

pub mod audit;
pub mod catalog;
mod engine;
mod error;
pub mod fhir;
pub mod io;
mod keys;
mod limits;
mod plan;
mod policy;
mod record;
pub mod text;
pub mod treat;
mod util;

pub use engine::{AccessRequest, AttrUse, Disclosures, Engine, EngineBuilder, View};
pub use error::{Error, Location, Result};
pub use keys::KeyRing;
pub use limits::Limits;
pub use plan::{Counted, FieldPlan, Plan, Tally, Treatment};
pub use policy::{Level, Pack, PackSources, Source};
pub use record::{RecordAttrs, RecordColumns};
pub use treat::kind::TreatmentKind;
