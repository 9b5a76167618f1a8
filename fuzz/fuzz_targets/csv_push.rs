//! The push-based CSV stream, cut at a fuzzed position, gives what the reader path gives.
#![no_main]
mod common;

use libfuzzer_sys::fuzz_target;
use phiguard::io::{CsvPush, IoOptions, deidentify_csv};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else { return };
    let v = &common::views("synthea-patients")[1];
    let mut whole = Vec::new();
    let a = deidentify_csv(v, body, &mut whole, &IoOptions::default(), &|_| {});
    let mut s = CsvPush::new(v.clone(), IoOptions::default());
    let at = usize::from(cut).min(body.len());
    let b = (|| {
        let mut out = s.push(&body[..at])?;
        out.extend(s.push(&body[at..])?);
        out.extend(s.finish()?.0);
        Ok::<_, phiguard::Error>(out)
    })();
    match (a, b) {
        (Ok(_), Ok(out)) => assert_eq!(out, whole, "push and read paths differ"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("one path failed, the other did not: {:?} / {:?}", a.err(), b.err()),
    }
});
