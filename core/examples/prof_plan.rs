#![allow(clippy::unwrap_used, missing_docs)]
fn main() {
    let engine = phiguard::Engine::default_pack().unwrap();
    let key = phiguard::KeyRing::from_bytes(&[1; 32]).unwrap();
    let t = std::time::Instant::now();
    let n = 3000;
    let (mut tv, mut tp) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for i in 0..n {
        let req = phiguard::AccessRequest {
            as_of_year: Some(2026),
            ..phiguard::AccessRequest::new(
                format!("u{i}"),
                ["data_analyst"],
                "HRESCH",
                "synthea-patients",
            )
        };
        let a = std::time::Instant::now();
        let v = engine.view(&req).unwrap().with_key(key.clone());
        let b = std::time::Instant::now();
        std::hint::black_box(v.plan(&phiguard::RecordAttrs::default()).unwrap());
        tv += b - a;
        tp += b.elapsed();
    }
    eprintln!(
        "per plan {:?}: view {:?} plan {:?}",
        t.elapsed() / n,
        tv / n,
        tp / n
    );
}
