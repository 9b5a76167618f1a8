//! Every single-entry edit, deletion, insertion and reordering of a chained audit log, and every
//! truncation, is detected, with the index of the first bad entry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use phiguard::audit::{AuditEvent, AuditSink, ChainedLog, Tail, verify, verify_anchored};
use phiguard::{Error, KeyRing};

const N: usize = 7;

fn log() -> (KeyRing, Vec<String>, Tail) {
    let key = KeyRing::from_bytes(&[4; 32]).unwrap();
    let mut buf = Vec::new();
    {
        let log = ChainedLog::new(&mut buf, &key);
        for i in 0..N {
            log.record(&AuditEvent {
                kind: "disclosure".into(),
                time: format!("2026-11-25T00:00:0{i}Z"),
                user: format!("u-{i}"),
                roles: vec!["coder".into()],
                operation: "read".into(),
                purpose: "HOPERAT".into(),
                break_glass: i == 3,
                break_glass_reason: (i == 3).then(|| "cardiac arrest".into()),
                catalog: "synthea-patients".into(),
                plan: "p".into(),
                key_id: Some(key.id().into()),
                attrs: None,
                fields: vec![],
                records: vec![format!("rec-{i}")],
                count: 1,
            })
            .unwrap();
        }
    }
    let text = String::from_utf8(buf).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let anchor = verify(text.as_bytes(), &key).unwrap().0;
    (key, lines, anchor)
}

fn check(key: &KeyRing, lines: &[String], anchor: &Tail) -> Result<(), Option<u64>> {
    let text = lines.join("\n") + "\n";
    match verify_anchored(text.as_bytes(), key, anchor) {
        Ok(_) => Ok(()),
        Err(Error::Audit { entry, .. }) => Err(entry),
        Err(e) => panic!("not an audit error: {e}"),
    }
}

#[test]
fn intact_log_verifies_and_counts_break_glass() {
    let (key, lines, anchor) = log();
    assert_eq!(anchor.seq, N as u64);
    let (tail, break_glass) = verify((lines.join("\n") + "\n").as_bytes(), &key).unwrap();
    assert_eq!(tail, anchor);
    assert_eq!(break_glass, 1);
    assert_eq!(check(&key, &lines, &anchor), Ok(()));
    assert_eq!(Tail::parse_anchor(&anchor.anchor_text()).unwrap(), anchor);
}

#[test]
fn every_edit_is_found_at_its_entry() {
    let (key, lines, anchor) = log();
    for i in 0..N {
        for (from, to) in [("u-", "x-"), ("rec-", "REC-"), ("HOPERAT", "TREAT")] {
            let mut t = lines.clone();
            t[i] = t[i].replacen(from, to, 1);
            assert_eq!(
                check(&key, &t, &anchor),
                Err(Some(i as u64 + 1)),
                "edit {from} at {i}"
            );
        }
        // A forged MAC is an edit too.
        let mut t = lines.clone();
        let at = t[i].rfind("\"mac\":\"").unwrap() + 7;
        let c = if &t[i][at..=at] == "0" { "1" } else { "0" };
        t[i].replace_range(at..=at, c);
        assert_eq!(
            check(&key, &t, &anchor),
            Err(Some(i as u64 + 1)),
            "mac at {i}"
        );
    }
}

#[test]
fn every_deletion_insertion_and_swap_is_found() {
    let (key, lines, anchor) = log();
    for i in 0..N {
        let mut t = lines.clone();
        t.remove(i);
        // Deleting the last entry is a truncation: the anchor finds it at the missing entry.
        assert_eq!(
            check(&key, &t, &anchor),
            Err(Some(i as u64 + 1)),
            "delete {i}"
        );
        let mut t = lines.clone();
        t.insert(i, lines[i.saturating_sub(1)].clone());
        let first_bad = if i == 0 { 2 } else { i as u64 + 1 };
        assert_eq!(
            check(&key, &t, &anchor),
            Err(Some(first_bad)),
            "insert at {i}"
        );
        if i + 1 < N {
            let mut t = lines.clone();
            t.swap(i, i + 1);
            assert_eq!(
                check(&key, &t, &anchor),
                Err(Some(i as u64 + 1)),
                "swap {i}"
            );
        }
    }
}

#[test]
fn every_truncation_is_found_with_the_anchor_and_only_with_it() {
    let (key, lines, anchor) = log();
    for keep in 0..N {
        let t = &lines[..keep];
        let text = if t.is_empty() {
            String::new()
        } else {
            t.join("\n") + "\n"
        };
        assert!(
            verify(text.as_bytes(), &key).is_ok(),
            "a chain alone cannot see a cut end"
        );
        assert_eq!(
            check(&key, t, &anchor),
            Err(Some(keep as u64 + 1)),
            "keep {keep}"
        );
    }
    // An anchor from another chain of the same length (a rewritten log) fails at its entry.
    let other = Tail {
        seq: anchor.seq,
        mac: "0".repeat(64),
    };
    assert_eq!(check(&key, &lines, &other), Err(Some(N as u64)));
}
