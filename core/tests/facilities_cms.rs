//! Does the facility grammar carry to names it never saw? 4,793 real US hospital names (CMS,
//! `../shared/data/us-hospitals-cms`, read at test time only and never copied here) are put
//! into sentences written here, and each must come out covered by detected spans. Skipped,
//! with a line saying so, when the shared data is not there.

use phiguard::Engine;

const SENTENCES: &[&str] = &[
    "Patient was transferred from {} yesterday.",
    "She was admitted to {} for chest pain.",
    "Records were requested from {} on arrival.",
    "Follow-up at {} in two weeks, per cardiology.",
];

/// `ABBOTT NORTHWESTERN HOSPITAL` as a note writes it: `Abbott Northwestern Hospital`.
fn title_case(name: &str) -> String {
    name.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}

#[test]
fn real_hospital_names_in_sentences_of_our_own() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/us-hospitals-cms/hospitals.txt");
    let Ok(list) = std::fs::read_to_string(&path) else {
        println!("facility names: skipped, {} not found", path.display());
        return;
    };
    let engine = Engine::builder().build().unwrap();
    let (mut total, mut covered) = (0usize, 0usize);
    let mut missed = Vec::new();
    for (i, raw) in list.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        // A company form after the name (`, LLC`, ` INC`) is not what a note would write.
        let name = title_case(
            raw.trim()
                .trim_end_matches(", LLC")
                .trim_end_matches(" LLC")
                .trim_end_matches(" INC")
                .trim_end_matches(','),
        );
        let template = SENTENCES[i % SENTENCES.len()];
        let text = template.replace("{}", &name);
        let at = template.find("{}").unwrap();
        let spans = engine.detect(&text).unwrap();
        let ok = name.char_indices().all(|(j, c)| {
            !c.is_alphanumeric() || spans.iter().any(|s| s.start <= at + j && at + j < s.end)
        });
        total += 1;
        covered += usize::from(ok);
        if !ok && missed.len() < 15 {
            missed.push(name);
        }
    }
    let recall = covered as f64 / total as f64;
    println!(
        "facility names: {covered} of {total} covered ({recall:.3}); first misses: {missed:?}"
    );
    // A floor that catches a regression; the figure itself goes to BENCHMARKS.md.
    assert!(recall >= 0.80, "facility recall {recall:.3}");
}
