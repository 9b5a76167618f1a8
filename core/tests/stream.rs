//! The push-based CSV stream gives byte for byte what the reader-based path gives, however
//! the input is cut.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use std::sync::Arc;

use phiguard::io::{CsvPush, IoOptions, deidentify_csv};
use phiguard::{AccessRequest, Engine, KeyRing};

const SAMPLE: &[u8] = include_bytes!("../../tests/data/patients.csv");
const ENCOUNTERS: &[u8] = include_bytes!("../../tests/data/encounters.csv");

fn view(role: &str, purpose: &str, catalog: &str) -> Arc<phiguard::View> {
    let req = AccessRequest {
        as_of_year: Some(2026),
        ..AccessRequest::new("u", [role], purpose, catalog)
    };
    Arc::new(
        Engine::builder()
            .build()
            .unwrap()
            .view(&req)
            .unwrap()
            .with_key(KeyRing::from_bytes(&[3; 32]).unwrap()),
    )
}

fn pushed(view: &Arc<phiguard::View>, input: &[u8], piece: usize) -> phiguard::Result<Vec<u8>> {
    let mut s = CsvPush::new(view.clone(), IoOptions::default());
    let mut out = Vec::new();
    for part in input.chunks(piece) {
        out.extend(s.push(part)?);
    }
    let (rest, summary) = s.finish()?;
    out.extend(rest);
    assert!(summary.rows > 0);
    Ok(out)
}

#[test]
fn any_cut_gives_the_same_bytes() {
    for (input, catalog, role, purpose) in [
        (SAMPLE, "synthea-patients", "coder", "HOPERAT"),
        (SAMPLE, "synthea-patients", "data_analyst", "HRESCH"),
        (ENCOUNTERS, "encounters", "physician", "TREAT"),
    ] {
        let v = view(role, purpose, catalog);
        let mut whole = Vec::new();
        deidentify_csv(&v, input, &mut whole, &IoOptions::default(), &|_| {}).unwrap();
        for piece in [1, 7, 100, 4096, 1 << 20] {
            assert_eq!(
                pushed(&v, input, piece).unwrap(),
                whole,
                "{role} piece {piece}"
            );
        }
    }
}

#[test]
fn errors_name_the_line_and_come_at_the_latest_at_finish() {
    let v = view("coder", "HOPERAT", "synthea-patients");
    let err = pushed(&v, b"id,ssn\np1,\"999-53-8547\np2,x\n", 3).unwrap_err();
    assert_eq!(err.code(), "input");
    assert!(err.to_string().contains(":2"), "{err}");
    let err = pushed(&v, b"id,ssn\np1,\xff\xfe\n", 2).unwrap_err();
    assert_eq!(err.code(), "input");
    assert!(err.to_string().contains("utf-8"), "{err}");
    let empty = CsvPush::new(v.clone(), IoOptions::default())
        .finish()
        .unwrap_err();
    assert!(empty.to_string().contains("no header"), "{empty}");
}

/// Inputs found by the `csv_push` fuzz target where the push path and the reader path
/// disagreed, checked at every cut position:
/// - a quote inside an unquoted field (`ow-up.",`) is text to the csv parser, but the splitter
///   used to count it as opening a quoted field, so chunk boundaries moved with the cut;
/// - blank lines before the header, which the parser skips, made either path report an empty
///   input when its first chunk held only them.
#[test]
fn fuzz_found_inputs_give_the_same_result_at_every_cut() {
    let found: [&[u8]; 3] = [
        include_bytes!("regressions/csv-quote-in-unquoted-field.bin"),
        include_bytes!("regressions/csv-blank-lines-before-header.bin"),
        include_bytes!("regressions/csv-blank-lines-then-unterminated-header.bin"),
    ];
    let v = view("physician", "TREAT", "encounters");
    for input in found {
        // The fuzz target's first byte is its cut; the rest is the CSV.
        let body = &input[1..];
        let mut whole = Vec::new();
        let expected = deidentify_csv(&v, body, &mut whole, &IoOptions::default(), &|_| {})
            .map(|_| whole.clone());
        for cut in 0..body.len() {
            let mut s = CsvPush::new(v.clone(), IoOptions::default());
            let got = (|| {
                let mut out = s.push(&body[..cut])?;
                out.extend(s.push(&body[cut..])?);
                out.extend(s.finish()?.0);
                Ok::<_, phiguard::Error>(out)
            })();
            match (&expected, &got) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "cut at {cut}"),
                (Err(_), Err(_)) => {}
                _ => panic!(
                    "cut at {cut}: {:?} vs {:?}",
                    expected.as_ref().err(),
                    got.err()
                ),
            }
        }
    }
}

#[test]
fn literal_quotes_in_unquoted_fields_keep_one_record_per_line() {
    // Heights in feet and inches are the everyday case.
    let heights = "id,gender\np1,\"male\"\np2,5'10\" male\np3,female\n";
    let v = view("physician", "TREAT", "synthea-patients");
    let mut out = Vec::new();
    let summary = deidentify_csv(
        &v,
        heights.as_bytes(),
        &mut out,
        &IoOptions::default(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(summary.rows, 3);
    assert_eq!(pushed(&v, heights.as_bytes(), 1).unwrap(), out);
}
