// Shared by the fuzz targets: views built once per process.
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use phiguard::{AccessRequest, Engine, KeyRing, View};

pub const SSN: &str = "999-53-8547";

pub fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::builder().build().expect("the default pack loads"))
}

/// One view per (role, purpose, catalog) the targets use, keyed and pinned to a year.
pub fn view(role: &str, purpose: &str, catalog: &str) -> Arc<View> {
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("fuzz-user", [role], purpose, catalog)
    };
    Arc::new(
        engine()
            .view(&req)
            .expect("view")
            .with_key(KeyRing::from_bytes(&[7; 32]).expect("key")),
    )
}

pub fn views(catalog: &'static str) -> &'static [Arc<View>] {
    static P: OnceLock<Vec<Arc<View>>> = OnceLock::new();
    static E: OnceLock<Vec<Arc<View>>> = OnceLock::new();
    static F: OnceLock<Vec<Arc<View>>> = OnceLock::new();
    let cell = match catalog {
        "synthea-patients" => &P,
        "encounters" => &E,
        _ => &F,
    };
    cell.get_or_init(|| {
        [
            ("data_analyst", "HRESCH"),
            ("coder", "HOPERAT"),
            ("billing_analyst", "HPAYMT"),
            ("physician", "TREAT"),
        ]
        .iter()
        .map(|(r, p)| view(r, p, catalog))
        .collect()
    })
}
