//! The default pack, end to end through the public API: the golden role x field matrix,
//! sensitive records, break-glass, fail-closed evaluation errors and located pack errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;
use common::sources_with;

use phiguard::{AccessRequest, Engine, Error, KeyRing, PackSources, RecordAttrs, Source};

fn engine() -> Engine {
    Engine::builder().build().expect("default pack loads")
}

fn plan_for(engine: &Engine, role: &str, purpose: &str, attrs: &RecordAttrs) -> phiguard::Plan {
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("u-1", [role], purpose, "synthea-patients")
    };
    let view = engine
        .view(&req)
        .unwrap()
        .with_key(KeyRing::from_bytes(&[1; 32]).unwrap());
    (*view.plan(attrs).unwrap()).clone()
}

fn treatment(plan: &phiguard::Plan, field: &str) -> &'static str {
    plan.fields
        .iter()
        .find(|f| f.field == field)
        .unwrap()
        .treatment
        .name()
}

const ROLES: [(&str, &str); 9] = [
    ("physician", "TREAT"),
    ("nurse", "TREAT"),
    ("coder", "HOPERAT"),
    ("billing_analyst", "HPAYMT"),
    ("data_analyst", "HRESCH"),
    ("researcher", "HRESCH"),
    ("supervisor", "HOPERAT"),
    ("compliance_specialist", "HOPERAT"),
    ("patient", "PATRQT"),
];

fn matrix(attrs: &RecordAttrs) -> String {
    let e = engine();
    let plans: Vec<_> = ROLES
        .iter()
        .map(|(r, p)| plan_for(&e, r, p, attrs))
        .collect();
    let mut out = format!("{:<20}", "field");
    for (r, _) in ROLES {
        out.push_str(&format!(" {:<13}", r.get(..r.len().min(13)).unwrap()));
    }
    out.push('\n');
    for (i, f) in plans[0].fields.iter().enumerate() {
        out.push_str(&format!("{:<20}", f.field));
        for p in &plans {
            out.push_str(&format!(" {:<13}", p.fields[i].treatment.name()));
        }
        out.push('\n');
    }
    out
}

/// The whole default pack as a table: any change to who sees what shows up here in review.
/// Regenerate with `UPDATE_GOLDEN=1 cargo test -p phiguard --test pack`.
#[test]
fn golden_role_field_matrix() {
    let mut text =
        String::from("# synthea-patients, record without labels, not on the care team\n");
    text.push_str(&matrix(&RecordAttrs {
        confidentiality: "N".into(),
        ..Default::default()
    }));
    text.push_str("\n# the same record, principal on the care team\n");
    text.push_str(&matrix(&RecordAttrs {
        confidentiality: "N".into(),
        treating: true,
        ..Default::default()
    }));
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/golden/synthea-patients-matrix.txt"
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("golden file exists");
    assert_eq!(
        text, golden,
        "the role x field matrix changed; review and regenerate"
    );
}

#[test]
fn safe_harbor_releases_no_direct_identifier() {
    let e = engine();
    let plan = plan_for(&e, "data_analyst", "HRESCH", &RecordAttrs::default());
    let cats = e.pack().categories();
    for f in &plan.fields {
        let direct = cats
            .get(&f.category)
            .unwrap()
            .groups
            .iter()
            .any(|g| g == "direct_identifier");
        if direct {
            assert_eq!(
                f.treatment.name(),
                "redact",
                "{} must be redacted for Safe Harbor",
                f.field
            );
        }
        assert_ne!(
            f.treatment.name(),
            "pseudonymize",
            "no derived ids in Safe Harbor: {}",
            f.field
        );
    }
    assert_eq!(treatment(&plan, "birth_date"), "generalize");
    assert_eq!(treatment(&plan, "postal_code"), "generalize");
    assert_eq!(treatment(&plan, "city"), "redact");
}

#[test]
fn sensitive_records_need_care_relationship_and_consent() {
    let e = engine();
    let hiv = |treating: bool, consent: &[&str]| RecordAttrs {
        labels: vec!["HIV".into()],
        confidentiality: "N".into(),
        treating,
        consent: consent.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    for (role, purpose) in [
        ("billing_analyst", "HPAYMT"),
        ("coder", "HOPERAT"),
        ("data_analyst", "HRESCH"),
        ("researcher", "HRESCH"),
    ] {
        let plan = plan_for(&e, role, purpose, &hiv(false, &["TREAT"]));
        assert!(
            plan.fields.iter().all(|f| f.treatment.name() == "redact"),
            "{role} sees part of an HIV record"
        );
        assert!(
            plan.fields
                .iter()
                .any(|f| f.denied_by.iter().any(|p| p == "base.sensitive-records"))
        );
    }
    let no_consent = plan_for(&e, "physician", "TREAT", &hiv(true, &[]));
    assert!(
        no_consent
            .fields
            .iter()
            .all(|f| f.treatment.name() == "redact")
    );
    let consented = plan_for(&e, "physician", "TREAT", &hiv(true, &["TREAT"]));
    assert_eq!(treatment(&consented, "ssn"), "clear");
    let sud_nurse = plan_for(
        &e,
        "nurse",
        "TREAT",
        &RecordAttrs {
            labels: vec!["42CFRPart2".into(), "SUD".into()],
            treating: true,
            consent: vec!["TREAT".into()],
            confidentiality: "N".into(),
            ..Default::default()
        },
    );
    assert_eq!(treatment(&sud_nurse, "given"), "clear");
    assert_eq!(
        treatment(&sud_nurse, "ssn"),
        "mask",
        "nurses see SSNs masked"
    );
}

#[test]
fn break_glass_needs_reason_and_is_flagged() {
    let e = engine();
    let mut req = AccessRequest::new("dr-1", ["physician"], "BTG", "synthea-patients");
    req.as_of_year = Some(2026);
    let err = e.view(&req).unwrap_err();
    assert_eq!(err.code(), "request");
    assert!(err.to_string().contains("needs a stated reason"));
    req.break_glass_reason = Some("unconscious patient".into());
    let sink = std::sync::Arc::new(phiguard::audit::MemorySink::default());
    let view = e.view(&req).unwrap().with_audit(sink.clone());
    let plan = view
        .plan(&RecordAttrs {
            labels: vec!["PSY".into()],
            confidentiality: "R".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        plan.fields
            .iter()
            .find(|f| f.field == "ssn")
            .unwrap()
            .treatment
            .name(),
        "clear"
    );
    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert!(events[0].break_glass);
    assert_eq!(
        events[0].break_glass_reason.as_deref(),
        Some("unconscious patient")
    );
    // Break-glass is for clinicians only.
    let coder = AccessRequest {
        roles: vec!["coder".into()],
        ..req.clone()
    };
    let plan = e
        .view(&coder)
        .unwrap()
        .with_key(KeyRing::from_bytes(&[1; 32]).unwrap())
        .plan(&RecordAttrs::default())
        .unwrap();
    assert!(plan.fields.iter().all(|f| f.treatment.name() == "redact"));
    // A reason without an emergency purpose is refused.
    let odd = AccessRequest {
        purpose: "TREAT".into(),
        ..req
    };
    assert!(
        e.view(&odd)
            .unwrap_err()
            .to_string()
            .contains("not emergency access")
    );
}

#[test]
fn unknown_role_purpose_operation_and_catalog_are_request_errors() {
    let e = engine();
    for req in [
        AccessRequest::new("u", ["janitor"], "TREAT", "synthea-patients"),
        AccessRequest::new("u", ["coder"], "SHOPPING", "synthea-patients"),
        AccessRequest::new("u", ["coder"], "HOPERAT", "nope"),
        AccessRequest {
            operation: "delete".into(),
            ..AccessRequest::new("u", ["coder"], "HOPERAT", "synthea-patients")
        },
    ] {
        let err = e.view(&req).unwrap_err();
        assert_eq!(err.code(), "request", "{err}");
    }
}

#[test]
fn missing_key_is_an_error_not_a_leak() {
    let e = engine();
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("u", ["coder"], "HOPERAT", "synthea-patients")
    };
    let err = e
        .view(&req)
        .unwrap()
        .plan(&RecordAttrs::default())
        .unwrap_err();
    assert_eq!(err.code(), "key");
    assert!(err.to_string().contains("needs a key"), "{err}");
}

/// A permit whose condition errors at evaluation grants nothing; a forbid whose condition
/// errors still denies (Cedar alone would skip it and let the permit through).
#[test]
fn evaluation_errors_fail_closed() {
    // `extra` is declared by the schema but never supplied: reading it errors at evaluation.
    let permit = r#"@id("t.erroring-permit") permit (principal, action == Phi::Action::"clear", resource) when { context.extra > 0 };"#;
    let e = Engine::builder()
        .sources(sources_with("\n    \"extra\": Long,", permit))
        .build()
        .unwrap();
    let plan = plan_for(&e, "data_analyst", "HRESCH", &RecordAttrs::default());
    assert_eq!(treatment(&plan, "ssn"), "redact");
    let f = plan.fields.iter().find(|f| f.field == "ssn").unwrap();
    assert!(!f.errors.is_empty(), "the error is reported");

    let forbid = r#"@id("t.erroring-forbid") forbid (principal, action in Phi::Action::"disclose", resource) when { context.extra > 0 };"#;
    let e = Engine::builder()
        .sources(sources_with("\n    \"extra\": Long,", forbid))
        .build()
        .unwrap();
    let plan = plan_for(&e, "billing_analyst", "HPAYMT", &RecordAttrs::default());
    assert!(
        plan.fields.iter().all(|f| f.treatment.name() == "redact"),
        "an erroring forbid still denies"
    );
}

#[test]
fn broken_policies_are_located() {
    let mut src = PackSources::default_pack();
    src.policies.push(Source::new("typo.cedar", "permit (principal, action == Phi::Action::\"clear\", resource)\nwhen { context.purpse == \"x\" };\n"));
    let err = Engine::builder().sources(src).build().unwrap_err();
    assert_eq!(err.code(), "policy");
    let loc = err.location().unwrap();
    assert_eq!((loc.source.as_str(), loc.line), ("typo.cedar", 2), "{err}");

    let mut src = PackSources::default_pack();
    src.policies.push(Source::new(
        "syntax.cedar",
        "permit (principal, action, resource)\nwhen { ( };\n",
    ));
    let err = Engine::builder().sources(src).build().unwrap_err();
    assert_eq!(err.location().unwrap().line, 2, "{err}");

    let mut src = PackSources::default_pack();
    src.catalogs.push(Source::new(
        "bad.toml",
        "name = \"bad\"\n[fields]\nx = { category = \"sssn\" }\n",
    ));
    let err = Engine::builder().sources(src).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad.toml:3:18: catalog error: unknown category `sssn`"
    );
}

#[test]
fn every_pack_catalog_category_is_known_and_explainable() {
    let e = engine();
    for cat in e.pack().catalogs() {
        let req = AccessRequest {
            as_of_year: Some(2026),
            ..AccessRequest::new("u", ["physician"], "TREAT", cat.name.clone())
        };
        let plan = e
            .view(&req)
            .unwrap()
            .plan(&RecordAttrs {
                treating: true,
                confidentiality: "N".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(
            plan.fields.iter().all(|f| f.treatment.name() == "clear"),
            "care team sees all of {}",
            cat.name
        );
    }
}

#[test]
fn error_type_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Error>();
    check::<phiguard::View>();
    check::<Engine>();
}

#[test]
fn policies_naming_undefined_entities_are_rejected() {
    for (typo, what) in [
        ("resource == Phi::Field::\"snn\"", "Phi::Field::\"snn\""),
        (
            "resource in Phi::Group::\"direct_identifiers\"",
            "Phi::Group::\"direct_identifiers\"",
        ),
    ] {
        let mut src = PackSources::default_pack();
        src.policies.push(Source::new(
            "typo.cedar",
            format!("@id(\"t.typo\")\nforbid (principal, action in Phi::Action::\"disclose\",\n  {typo});\n"),
        ));
        let err = Engine::builder().sources(src).build().unwrap_err();
        assert_eq!(err.code(), "policy");
        assert!(err.to_string().starts_with("typo.cedar:3:"), "{err}");
        assert!(err.to_string().contains(what), "{err}");
    }
    let mut src = PackSources::default_pack();
    src.policies.push(Source::new(
        "role.cedar",
        "permit (principal in Phi::Role::\"billing\", action == Phi::Action::\"clear\", resource);\n",
    ));
    assert!(
        Engine::builder()
            .sources(src)
            .build()
            .unwrap_err()
            .to_string()
            .contains("Phi::Role::\"billing\"")
    );
}

/// Free text: each detected identifier is treated as the role's policies treat its category.
#[test]
fn notes_are_scrubbed_span_by_span_per_role() {
    let e = engine();
    let note = "Seen by Dr. Maria Lopez on 03/04/2024. MRN: 00412345. Call (316) 555-0123.";
    let run = |role: &str, purpose: &str| {
        let req = AccessRequest {
            as_of_year: Some(2026),
            ..AccessRequest::new("u-1", [role], purpose, "encounters")
        };
        let view = e
            .view(&req)
            .unwrap()
            .with_key(KeyRing::from_bytes(&[3; 32]).unwrap());
        let mut rec =
            serde_json::json!({"patient_id": "p-9", "admit_date": "2024-03-04", "note": note});
        view.apply_json(&mut rec, "<t>", 1).unwrap();
        (
            rec["note"].as_str().unwrap_or("<null>").to_owned(),
            rec["admit_date"].clone(),
        )
    };
    let (sh, _) = run("data_analyst", "HRESCH");
    assert_eq!(sh, "Seen by Dr. [NAME] on 2024. MRN: [MRN]. Call [PHONE].");
    let (lds, _) = run("researcher", "HRESCH");
    assert_eq!(
        lds,
        "Seen by Dr. [NAME] on 03/04/2024. MRN: [MRN]. Call [PHONE]."
    );
    let (coder, admit) = run("coder", "HOPERAT");
    assert!(
        coder.starts_with("Seen by Dr. [name-") && coder.contains("MRN: [mrn-"),
        "{coder}"
    );
    // The date in the note moves by the same per-patient offset as the admit date column.
    let admit = admit.as_str().unwrap().to_owned();
    let (y, m, d) = (&admit[0..4], &admit[5..7], &admit[8..10]);
    assert!(
        coder.contains(&format!("on {m}/{d}/{y}.")),
        "{coder} vs {admit}"
    );
    let (billing, _) = run("billing_analyst", "HPAYMT");
    assert_eq!(billing, "<null>", "no notes for payment");
}

#[test]
fn custom_detectors_are_checked_at_load_and_used_when_scrubbing() {
    let with = |toml: &str| {
        let mut src = PackSources::default_pack();
        src.detectors = Some(Source::new("detectors.toml", toml));
        Engine::builder().sources(src).build()
    };
    let ok = with(
        "[[detector]]\nid = \"study-id\"\ncategory = \"mrn\"\npattern = '\\bSUBJ-(\\d{6})\\b'\ngroup = 1\ncontext = [\"subject\"]\n",
    )
    .unwrap();
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("a", ["data_analyst"], "HRESCH", "free-text")
    };
    let view = ok.view(&req).unwrap();
    assert_eq!(
        view.scrub_text("Subject SUBJ-123456 enrolled.")
            .unwrap()
            .as_deref(),
        Some("Subject SUBJ-[MRN] enrolled.")
    );
    assert_eq!(
        view.scrub_text("Code SUBJ-123456 listed.")
            .unwrap()
            .as_deref(),
        Some("Code SUBJ-123456 listed."),
        "context word required"
    );

    for (toml, want) in [
        (
            "[[detector]]\nid = \"x\"\ncategory = \"nope\"\npattern = 'a'\n",
            "unknown category `nope`",
        ),
        (
            "[[detector]]\nid = \"x\"\ncategory = \"mrn\"\npattern = '(unclosed'\n",
            "pattern does not compile",
        ),
        (
            "[[detector]]\nid = \"x\"\ncategory = \"mrn\"\npattern = 'a'\ngroup = 2\n",
            "no capture group 2",
        ),
        (
            "[[detector]]\nid = \"x\"\ncategory = \"mrn\"\npattern = '(a)\\1'\n",
            "pattern does not compile",
        ),
        (
            "[[detector]]\nid = \"x\"\ncategory = \"mrn\"\npattern = '\\w{1000}\\w{1000}\\w{1000}'\n",
            "pattern does not compile",
        ),
        (
            "[[detector]]\nid = \"x\"\ncategory = \"mrn\"\npattern = 'a'\nvalidator = \"crc\"\n",
            "unknown validator",
        ),
    ] {
        let err = with(toml).unwrap_err();
        assert_eq!(err.code(), "catalog", "{err}");
        assert!(
            err.to_string().starts_with("detectors.toml:1:1:")
                || err.to_string().starts_with("detectors.toml:"),
            "{err}"
        );
        assert!(err.to_string().contains(want), "{err} lacks {want}");
    }
}
