//! The server over real HTTP on 127.0.0.1 (an ephemeral port): who may call (every 401
//! case), what each caller gets, the limits, the audit chain, the pack version header.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use phiguard_server::{Config, Started, start};
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "phiguard";

/// A signing key from a fixed seed (test only), its JWK, and its encoding key.
fn signer(seed: u8, kid: &str) -> (EncodingKey, Value) {
    let sk = SigningKey::from_bytes(&[seed; 32]);
    let der = sk.to_pkcs8_der().unwrap();
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                     "x": URL_SAFE_NO_PAD.encode(sk.verifying_key().as_bytes())});
    (EncodingKey::from_ed_der(der.as_bytes()), jwk)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(key: &EncodingKey, kid: &str, claims: &Value) -> String {
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(kid.into());
    encode(&h, claims, key).unwrap()
}

fn claims(user: &str, roles: &[&str]) -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": user, "roles": roles,
           "exp": now() + 300, "iat": now()})
}

struct Server {
    base: String,
    started: Started,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
    key_path: std::path::PathBuf,
    audit_path: std::path::PathBuf,
}

impl Server {
    async fn stop(mut self) -> (std::path::PathBuf, std::path::PathBuf, tempfile::TempDir) {
        let _ = self.stop.take().unwrap().send(());
        self.handle.await.unwrap().unwrap();
        (self.key_path, self.audit_path, self._dir)
    }
}

async fn serve(extra: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (_, jwk) = signer(1, "k1");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, json!({"keys": [jwk]}).to_string()).unwrap();
    let key_path = dir.path().join("master.key");
    phiguard::KeyRing::generate_file(&key_path).unwrap();
    let audit_path = dir.path().join("audit.log");
    let text = format!(
        "listen = \"127.0.0.1:0\"\nkey_file = {:?}\naudit_log = {:?}\nas_of_year = 2026\n{extra}\n[auth]\nmode = \"jwt\"\n[[auth.issuers]]\nissuer = \"{ISSUER}\"\naudience = \"{AUDIENCE}\"\njwks_file = {:?}\n",
        key_path.display().to_string(),
        audit_path.display().to_string(),
        jwks.display().to_string()
    );
    let config = Config::from_toml(&text, "serve.toml").unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (started, handle) = start(&config, async {
        let _ = rx.await;
    })
    .await
    .unwrap();
    Server {
        base: format!("http://{}", started.addr),
        started,
        stop: Some(tx),
        handle,
        _dir: dir,
        key_path,
        audit_path,
    }
}

/// The first patient of the demo CSV as a JSON record (synthea-patients catalog).
fn patient() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/patients.csv");
    let mut r = csv::Reader::from_path(root).unwrap();
    let headers = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let mut m = serde_json::Map::new();
    for (h, v) in headers.iter().zip(row.iter()) {
        m.insert(h.to_owned(), Value::String(v.to_owned()));
    }
    Value::Object(m)
}

async fn post(
    s: &Server,
    path: &str,
    bearer: Option<&str>,
    purpose: Option<&str>,
    body: String,
) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(format!("{}{path}", s.base))
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    if let Some(p) = purpose {
        r = r.header("x-purpose-of-use", p);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn every_bad_token_is_401_and_a_good_one_is_served() {
    let s = serve("").await;
    let (k1, _) = signer(1, "k1");
    let (other, _) = signer(2, "k2");
    let body = patient().to_string();
    let good = token(&k1, "k1", &claims("dr-1", &["data_analyst"]));
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "k1"})),
        b64(&claims("dr-1", &["data_analyst"]))
    );
    // HS256 signed with the issuer's public key bytes as the secret: the classic confusion.
    let public = SigningKey::from_bytes(&[1; 32]).verifying_key().to_bytes();
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    let hs = encode(
        &hs,
        &claims("dr-1", &["data_analyst"]),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    let mut wrong_iss = claims("dr-1", &["data_analyst"]);
    wrong_iss["iss"] = json!("https://evil.test");
    let mut wrong_aud = claims("dr-1", &["data_analyst"]);
    wrong_aud["aud"] = json!("someone-else");
    let mut expired = claims("dr-1", &["data_analyst"]);
    expired["exp"] = json!(now() - 3600);
    let mut no_roles = claims("dr-1", &[]);
    no_roles["roles"] = json!([]);
    let bad: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("not a jwt", Some("abc.def".into())),
        ("alg none", Some(none)),
        ("hs256 with the public key", Some(hs)),
        (
            "unknown kid",
            Some(token(&other, "k2", &claims("dr-1", &["data_analyst"]))),
        ),
        (
            "kid k1, other key",
            Some(token(&other, "k1", &claims("dr-1", &["data_analyst"]))),
        ),
        ("wrong iss", Some(token(&k1, "k1", &wrong_iss))),
        ("wrong aud", Some(token(&k1, "k1", &wrong_aud))),
        ("expired", Some(token(&k1, "k1", &expired))),
        ("no roles", Some(token(&k1, "k1", &no_roles))),
    ];
    for (why, t) in &bad {
        let r = post(
            &s,
            "/v1/records/apply",
            t.as_deref(),
            Some("HRESCH"),
            body.clone(),
        )
        .await;
        assert_eq!(r.status(), 401, "{why}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer", "{why}");
        let text = r.text().await.unwrap();
        assert!(
            !text.contains("Goldner") && !text.contains("999-53"),
            "{why}: {text}"
        );
    }
    // The caller is checked before the body is read.
    let r = post(
        &s,
        "/v1/records/apply",
        None,
        Some("HRESCH"),
        "{not json".into(),
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = post(
        &s,
        "/v1/records/apply",
        Some(&good),
        Some("HRESCH"),
        body.clone(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-phiguard-pack"],
        s.started.pack_version.as_str()
    );
    assert!(r.headers().contains_key("x-request-id"));
    let out: Value = r.json().await.unwrap();
    // Safe Harbor for the data analyst: no SSN, no name, birth date to the year.
    assert!(out["ssn"].is_null() && out["family"].is_null(), "{out}");
    assert_eq!(out["birth_date"], "1943");
    s.stop().await;
}

#[tokio::test]
async fn each_caller_gets_their_view_and_every_disclosure_is_in_the_chain() {
    let s = serve("").await;
    let (k1, _) = signer(1, "k1");
    let body = patient().to_string();
    let doctor = token(&k1, "k1", &claims("dr-2", &["physician"]));
    let analyst = token(&k1, "k1", &claims("an-1", &["data_analyst"]));
    let r = post(
        &s,
        "/v1/records/apply",
        Some(&doctor),
        Some("TREAT"),
        body.clone(),
    )
    .await;
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["family"], "Goldner995");
    let r = post(
        &s,
        "/v1/records/apply",
        Some(&analyst),
        Some("HRESCH"),
        body.clone(),
    )
    .await;
    let masked: Value = r.json().await.unwrap();
    assert!(masked["family"].is_null());

    // No purpose: 400, nothing disclosed.
    let r = post(&s, "/v1/records/apply", Some(&doctor), None, body.clone()).await;
    assert_eq!(r.status(), 400);
    // Malformed JSON: 422, located, no value.
    let r = post(
        &s,
        "/v1/records/apply",
        Some(&doctor),
        Some("TREAT"),
        "{\"ssn\": \"999-53-8547\",".into(),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains("999-53"));
    // A batch: in order; over the limit: 422.
    let batch = json!({"records": [patient(), patient()]}).to_string();
    let r = post(
        &s,
        "/v1/records/batch",
        Some(&analyst),
        Some("HRESCH"),
        batch,
    )
    .await;
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["records"].as_array().unwrap().len(), 2);
    let many = json!({"records": vec![json!({"id": "x"}); 101]}).to_string();
    let r = post(
        &s,
        "/v1/records/batch",
        Some(&analyst),
        Some("HRESCH"),
        many,
    )
    .await;
    assert_eq!(r.status(), 422);
    // Explain: the caller's own plan.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/explain?catalog=synthea-patients", s.base))
        .bearer_auth(&analyst)
        .header("x-purpose-of-use", "HRESCH")
        .send()
        .await
        .unwrap();
    let plan: Value = r.json().await.unwrap();
    let ssn = plan["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "ssn")
        .unwrap();
    assert_eq!(ssn["treatment"], "redact");

    let (key, audit, _dir) = s.stop().await;
    let key = phiguard::KeyRing::from_file(&key).unwrap();
    let log = std::fs::read_to_string(&audit).unwrap();
    let (tail, _) = phiguard::audit::verify(std::io::BufReader::new(log.as_bytes()), &key).unwrap();
    // One event per disclosing request at least (two single records and one batch).
    assert!(tail.seq >= 3, "{}", tail.seq);
    assert!(!log.contains("Goldner") && !log.contains("999-53"));
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_before_parsing() {
    let s = serve("[limits]\nbody_bytes = 2048\n").await;
    let (k1, _) = signer(1, "k1");
    let t = token(&k1, "k1", &claims("an-1", &["data_analyst"]));
    let big = json!({"id": "x".repeat(4096)}).to_string();
    let r = post(&s, "/v1/records/apply", Some(&t), Some("HRESCH"), big).await;
    assert_eq!(r.status(), 413);
    s.stop().await;
}

#[tokio::test]
async fn health_and_openapi_need_no_token() {
    let s = serve("").await;
    let c = reqwest::Client::new();
    assert_eq!(
        c.get(format!("{}/healthz", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{}/readyz", s.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let doc: Value = c
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/records/apply",
        "/v1/records/batch",
        "/v1/explain",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"][path].is_object(), "{path}");
    }
    s.stop().await;
}

#[test]
fn development_mode_is_loopback_only() {
    let e = Config::from_toml(
        "listen = \"0.0.0.0:8707\"\n[auth]\nmode = \"development\"\n",
        "serve.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("loopback"), "{e}");
    let e = Config::from_toml("[auth]\nmode = \"jwt\"\nissuers = []\n", "serve.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least one"), "{e}");
    let e = Config::from_toml("[auth]\nmode = \"none\"\n", "serve.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("serve.toml"), "{e}");
}

#[tokio::test]
async fn fhir_documents_and_ndjson_per_caller_audited() {
    let s = serve("").await;
    let (k1, _) = signer(1, "k1");
    let analyst = token(&k1, "k1", &claims("an-1", &["data_analyst"]));
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:00000000-0000-4000-8000-0000000000a1",
         "resource": {"resourceType": "Patient", "id": "00000000-0000-4000-8000-0000000000a1",
                      "name": [{"family": "Quarrie"}], "gender": "female", "birthDate": "1980-04-02"}},
        {"resource": {"resourceType": "Condition",
            "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HIV"}]},
            "code": {"text": "x"},
            "subject": {"reference": "urn:uuid:00000000-0000-4000-8000-0000000000a1"}}}]});
    let r = post(
        &s,
        "/v1/fhir",
        Some(&analyst),
        Some("HRESCH"),
        bundle.to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/fhir+json");
    // The HIV-labelled Condition is not the analyst's to see at all.
    assert_eq!(r.headers()["x-phiguard-hidden"], "1");
    let out: Value = r.json().await.unwrap();
    let entries = out["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["resource"]["gender"], "female");
    assert!(!out.to_string().contains("Quarrie") && !out.to_string().contains("1980-04"));

    let nd = format!(
        "{}\n{}\n",
        json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "Quarrie"}]}),
        json!({"resourceType": "Observation", "status": "final", "code": {"text": "x"},
               "subject": {"reference": "Patient/p1"}})
    );
    let r = post(&s, "/v1/fhir/ndjson", Some(&analyst), Some("HRESCH"), nd).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1]["subject"]["reference"],
        format!("Patient/{}", lines[0]["id"].as_str().unwrap())
    );
    // A bad resource: 422 by default, withheld on request.
    let bad = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"name": [{"family": "Quarrie"}]}}]})
    .to_string();
    let r = post(&s, "/v1/fhir", Some(&analyst), Some("HRESCH"), bad.clone()).await;
    assert_eq!(r.status(), 422);
    assert!(!r.text().await.unwrap().contains("Quarrie"));
    let r = post(
        &s,
        "/v1/fhir?on_error=withhold",
        Some(&analyst),
        Some("HRESCH"),
        bad,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-phiguard-withheld"], "1");

    let (key, audit, _dir) = s.stop().await;
    let key = phiguard::KeyRing::from_file(&key).unwrap();
    let log = std::fs::read_to_string(&audit).unwrap();
    phiguard::audit::verify(std::io::BufReader::new(log.as_bytes()), &key).unwrap();
    assert!(log.contains("\"disclosure\""), "{log}");
    assert!(!log.contains("Quarrie"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[tokio::test]
async fn reload_swaps_the_pack_whole_and_refuses_a_broken_one_under_load() {
    let packs = tempfile::tempdir().unwrap();
    let pack = packs.path().join("policies");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies"),
        &pack,
    );
    let s = serve(&format!(
        "policies = {:?}\nadmin_roles = [\"compliance_specialist\"]\n",
        pack.display().to_string()
    ))
    .await;
    let (k1, _) = signer(1, "k1");
    let admin = token(&k1, "k1", &claims("adm-1", &["compliance_specialist"]));
    let analyst = token(&k1, "k1", &claims("an-1", &["data_analyst"]));
    let v1 = s.started.pack_version.clone();
    let reload = |t: String| {
        let url = format!("{}/admin/reload", s.base);
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(t)
                .header("x-purpose-of-use", "HOPERAT")
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(reload(analyst.clone()).await.status(), 403);

    // Requests keep coming while the pack changes: every one answered, each by one version.
    let body = patient().to_string();
    let mut load = Vec::new();
    for _ in 0..8 {
        let (base, t, body) = (s.base.clone(), analyst.clone(), body.clone());
        load.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut versions = Vec::new();
            for _ in 0..25 {
                let r = c
                    .post(format!("{base}/v1/records/apply"))
                    .bearer_auth(&t)
                    .header("x-purpose-of-use", "HRESCH")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                versions.push(r.headers()["x-phiguard-pack"].to_str().unwrap().to_owned());
            }
            versions
        }));
    }
    let research = pack.join("research.cedar");
    let text = std::fs::read_to_string(&research).unwrap();
    std::fs::write(&research, format!("{text}\n// reviewed\n")).unwrap();
    let r = reload(admin.clone()).await;
    assert_eq!(r.status(), 200);
    let v2 = r.headers()["x-phiguard-pack"].to_str().unwrap().to_owned();
    assert_ne!(v1, v2);
    let mut seen = std::collections::BTreeSet::new();
    for l in load {
        seen.extend(l.await.unwrap());
    }
    assert!(seen.iter().all(|v| *v == v1 || *v == v2), "{seen:?}");

    // A broken pack: refused, counted, and the last good one keeps serving.
    std::fs::write(&research, "permit (principal, action, resource) when {").unwrap();
    let r = reload(admin.clone()).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["x-phiguard-pack"], v2.as_str());
    let msg = r.text().await.unwrap();
    assert!(
        msg.contains("research.cedar") && msg.contains("refused"),
        "{msg}"
    );
    let r = post(
        &s,
        "/v1/records/apply",
        Some(&analyst),
        Some("HRESCH"),
        body,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-phiguard-pack"], v2.as_str());
    s.stop().await;
}

/// Canary values sent through every endpoint never reach the metrics (labels are route
/// templates and statuses only); the metrics count what happened.
#[tokio::test]
async fn metrics_count_requests_and_carry_no_record_values() {
    let s = serve("").await;
    let (k1, _) = signer(1, "k1");
    let t = token(&k1, "k1", &claims("an-1", &["data_analyst"]));
    let mut canary = patient();
    canary["ssn"] = json!("987-65-4329");
    canary["family"] = json!("Zzyzxcanary");
    let _ = post(
        &s,
        "/v1/records/apply",
        Some(&t),
        Some("HRESCH"),
        canary.to_string(),
    )
    .await;
    let batch = json!({"records": [canary.clone()]}).to_string();
    let _ = post(&s, "/v1/records/batch", Some(&t), Some("HRESCH"), batch).await;
    let fhir = json!({"resourceType": "Patient", "id": "Zzyzxcanary-id",
                      "name": [{"family": "Zzyzxcanary"}]})
    .to_string();
    let _ = post(&s, "/v1/fhir", Some(&t), Some("HRESCH"), fhir).await;
    let _ = post(
        &s,
        "/v1/records/apply",
        None,
        Some("HRESCH"),
        canary.to_string(),
    )
    .await;
    let m = reqwest::get(format!("{}/metrics", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in ["987-65-4329", "Zzyzxcanary", "an-1"] {
        assert!(!m.contains(needle), "{needle} in metrics");
    }
    assert!(
        m.contains("phiguard_http_requests_total{route=\"/v1/records/apply\",status=\"200\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("route=\"/v1/records/apply\",status=\"401\"} 1"),
        "{m}"
    );
    assert!(m.contains(&format!(
        "phiguard_pack{{version=\"{}\"}} 1",
        s.started.pack_version
    )));
    assert!(m.contains("phiguard_http_request_duration_seconds_bucket"));
    s.stop().await;
}

/// Past the concurrency limit, requests are shed at once (503, Retry-After), never queued
/// without bound; the rest are served.
#[tokio::test]
async fn requests_past_the_concurrency_limit_are_shed() {
    let s = serve("[limits]\nconcurrency = 1\n").await;
    let (k1, _) = signer(1, "k1");
    let t = token(&k1, "k1", &claims("an-1", &["data_analyst"]));
    let batch = json!({"records": vec![patient(); 100]}).to_string();
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let (base, t, batch) = (s.base.clone(), t.clone(), batch.clone());
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/v1/records/batch"))
                .bearer_auth(t)
                .header("x-purpose-of-use", "HRESCH")
                .body(batch)
                .send()
                .await
                .unwrap();
            let retry = r.headers().get("retry-after").is_some();
            (r.status().as_u16(), retry)
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert!(
        codes
            .iter()
            .all(|(c, retry)| *c == 200 || (*c == 503 && *retry)),
        "{codes:?}"
    );
    assert!(codes.iter().any(|(c, _)| *c == 503), "{codes:?}");
    assert!(codes.iter().any(|(c, _)| *c == 200), "{codes:?}");
    s.stop().await;
}
