#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod audit;
pub mod catalog;
mod engine;
pub mod error;
pub mod io;
pub mod keys;
mod limits;
pub mod plan;
pub mod policy;
mod record;
pub mod text;
pub mod treat;
mod util;

pub use engine::{AccessRequest, AttrUse, Disclosures, Engine, View};
pub use error::{Error, Location, Result};
pub use io::JsonOutcome;
pub use keys::KeyRing;
pub use limits::{Limits, MAX_JSON_DEPTH};
pub use plan::{Applied, Counted, FieldPlan, Plan, RowCtx, Tally, Treatment};
pub use policy::{Level, PackSources, Source};
pub use record::{RecordAttrs, RecordColumns};
pub use treat::TreatmentKind;
