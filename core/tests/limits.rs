//! Resource limits: each cap refuses what exceeds it, with an error that names it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use phiguard::{AccessRequest, Engine, Limits, PackSources, Source};

fn view(limits: Limits, catalog: &str) -> phiguard::View {
    let e = Engine::builder().limits(limits).build().unwrap();
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("u", ["physician"], "TREAT", catalog)
    };
    e.view(&req).unwrap()
}

#[test]
fn defaults_are_bounded() {
    let d = Limits::default();
    assert!(d.max_depth > 0 && d.max_depth <= 64);
    assert!(d.max_field_bytes <= 1 << 20 && d.max_text_bytes <= 1 << 20);
    assert!(d.max_policies <= 10_000);
    assert!(d.max_record_bytes <= 64 << 20);
}

#[test]
fn too_many_policies_is_a_policy_error() {
    let n = Engine::builder().build().unwrap().pack().policy_count();
    let tight = Limits {
        max_policies: n,
        ..Limits::default()
    };
    assert!(Engine::builder().limits(tight).build().is_ok());
    let mut src = PackSources::default_pack();
    src.policies.push(Source::new(
        "one-more.cedar",
        r#"permit (principal in Phi::Role::"coder", action == Phi::Action::"generalize", resource);"#,
    ));
    let err = Engine::builder()
        .sources(src)
        .limits(tight)
        .build()
        .unwrap_err();
    assert_eq!(err.code(), "policy");
    assert!(err.to_string().contains("max_policies"), "{err}");
    assert!(err.to_string().contains("one-more.cedar"), "{err}");
}

#[test]
fn nesting_and_value_size_caps_apply_to_json_records() {
    let v = view(
        Limits {
            max_depth: 3,
            max_field_bytes: 32,
            ..Limits::default()
        },
        "fhir-patient",
    );
    let mut ok = serde_json::json!({"name": [{"family": "Goldner995"}]});
    v.apply_json(&mut ok, "<t>", 1).unwrap();
    let mut deep = serde_json::json!({"a": {"b": {"c": {"d": 1}}}});
    let err = v.apply_json(&mut deep, "<t>", 7).unwrap_err();
    assert!(err.to_string().contains("deeper than 3"), "{err}");
    assert!(err.to_string().contains("<t>:7"), "{err}");
    let mut long = serde_json::json!({"name": [{"family": "x".repeat(33)}]});
    let err = v.apply_json(&mut long, "<t>", 2).unwrap_err();
    assert_eq!(err.code(), "input");
    assert!(err.to_string().contains("field limit of 32"), "{err}");
}

#[test]
fn detector_text_cap() {
    let v = view(
        Limits {
            max_text_bytes: 64,
            ..Limits::default()
        },
        "free-text",
    );
    assert!(v.scrub_text(&"a".repeat(64)).is_ok());
    let err = v.scrub_text(&"a".repeat(65)).unwrap_err();
    assert_eq!(err.code(), "input");
    assert!(err.to_string().contains("max_text_bytes"), "{err}");
}

/// A reader that yields `len` bytes of `x` with no newline, and counts what was asked of it.
struct Endless {
    left: u64,
    served: std::rc::Rc<std::cell::Cell<u64>>,
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.left).unwrap());
        buf[..n].fill(b'x');
        self.left -= n as u64;
        self.served.set(self.served.get() + n as u64);
        Ok(n)
    }
}

#[test]
fn ndjson_lines_are_capped_while_reading() {
    use phiguard::io::{IoOptions, deidentify_ndjson};
    let v = view(Limits::default(), "fhir-patient");
    let opts = IoOptions {
        source: "big.ndjson".into(),
        max_record_bytes: 16 << 10,
        ..IoOptions::default()
    };
    // A first good record, then a 1 GiB line with no newline: refused at line 2 after
    // reading about the cap (16 KiB), not the whole line.
    let served = std::rc::Rc::new(std::cell::Cell::new(0));
    let input = std::io::Read::chain(
        &b"{\"id\": \"p1\"}\n"[..],
        Endless {
            left: 1 << 30,
            served: served.clone(),
        },
    );
    let mut out = Vec::new();
    let err = deidentify_ndjson(&v, std::io::BufReader::new(input), &mut out, &opts, &|_| {})
        .unwrap_err();
    assert_eq!(err.code(), "input");
    assert!(err.to_string().contains("big.ndjson:2"), "{err}");
    assert!(err.to_string().contains("size limit"), "{err}");
    assert!(served.get() < 1 << 20, "read {} bytes", served.get());
    // Invalid UTF-8 is an error at its line, never a lossy record.
    let err = deidentify_ndjson(
        &v,
        &b"{\"id\": \"p1\"}\n{\"id\": \"\xff\"}\n"[..],
        &mut Vec::new(),
        &opts,
        &|_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("big.ndjson:2"), "{err}");
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn engine_limits_bound_file_records_and_fields() {
    use phiguard::io::{CsvPush, IoOptions, deidentify_csv};
    let v = view(
        Limits {
            max_record_bytes: 4096,
            max_field_bytes: 100,
            ..Limits::default()
        },
        "synthea-patients",
    );
    assert_eq!(v.limits().max_record_bytes, 4096);
    let opts = IoOptions {
        source: "p.csv".into(),
        ..IoOptions::default()
    };
    // A quote never closed makes one endless record: refused at the engine's record cap.
    let mut open_quote = b"Id,SSN\np1,\"".to_vec();
    open_quote.extend(std::iter::repeat_n(b'x', 10_000));
    let err = deidentify_csv(&v, &open_quote[..], Vec::new(), &opts, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("exceeds 4096 bytes"), "{err}");
    // The engine's field cap applies to CSV fields too (the stricter of it and the options).
    let long_field = format!("Id,SSN\np1,{}\n", "9".repeat(101));
    let err = deidentify_csv(&v, long_field.as_bytes(), Vec::new(), &opts, &|_| {}).unwrap_err();
    assert!(err.to_string().contains("the limit is 100"), "{err}");
    // The push path applies the same record cap.
    let mut push = CsvPush::new(std::sync::Arc::new(v), opts);
    let err = push.push(&open_quote).unwrap_err();
    assert!(err.to_string().contains("exceeds 4096 bytes"), "{err}");
}
