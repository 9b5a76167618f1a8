//! Packs the name lexicons (`data/names/*.txt`, kept as text for review) into one sorted,
//! front-coded list with a flag byte per name: a third less to ship, gzip or not, which
//! counts most in the browser package.

use std::collections::BTreeMap;
use std::path::Path;

/// Flags of a name: given name, surname, also an English word.
const LISTS: [(&str, u8); 3] = [("first.txt", 1), ("last.txt", 2), ("ambiguous.txt", 4)];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new("data/names");
    let mut names: BTreeMap<String, u8> = BTreeMap::new();
    for (file, flag) in LISTS {
        let path = dir.join(file);
        println!("cargo::rerun-if-changed={}", path.display());
        for line in std::fs::read_to_string(&path)?.lines() {
            let word = line.trim();
            if !word.is_empty() {
                *names.entry(word.to_owned()).or_default() |= flag;
            }
        }
    }
    // Each entry: bytes shared with the previous name (at most 255), the flags, the length
    // of the rest of the name, the rest.
    let mut out = Vec::new();
    let mut prev: &[u8] = &[];
    for (word, flags) in &names {
        let w = word.as_bytes();
        let shared = w
            .iter()
            .zip(prev)
            .take_while(|(a, b)| a == b)
            .count()
            .min(255);
        let rest = w.get(shared..).unwrap_or_default();
        out.push(u8::try_from(shared)?);
        out.push(*flags);
        out.push(u8::try_from(rest.len())?);
        out.extend_from_slice(rest);
        prev = w;
    }
    let dest = Path::new(&std::env::var("OUT_DIR")?).join("names.fc");
    std::fs::write(dest, out)?;
    Ok(())
}
