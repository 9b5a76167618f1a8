//! Helpers shared by the integration tests.

use phiguard::{PackSources, Source};

/// The default pack with `extra_schema` added to the `Access` context and `policy` added as
/// one more policy file.
pub fn sources_with(extra_schema: &str, policy: &str) -> PackSources {
    let mut src = PackSources::default_pack();
    if let Some(s) = src.schema.as_mut() {
        s.text = s.text.replace(
            "\"consent\": Set<String>,",
            &format!("\"consent\": Set<String>,{extra_schema}"),
        );
    }
    src.policies.push(Source::new("extra.cedar", policy));
    src
}
