//! Routes, the views cached per caller, the audit, and the serve loop.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use phiguard::audit::{AuditSink, ChainedLog};
use phiguard::{AccessRequest, Engine, KeyRing, PackSources, View};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use crate::auth::{AuthError, Principal, Verifier};
use crate::config::{Auth, Config, Limits};
use crate::error::{ApiError, ServerError};

/// The header every response carries with the pack version (its content hash).
const PACK_HEADER: &str = "x-phiguard-pack";
/// Views kept per caller, purpose and catalog; past this many the cache starts again (each
/// view's plans are compiled anew on its first record).
const MAX_VIEWS: usize = 10_000;

type AuditLog = ChainedLog<std::io::BufWriter<std::fs::File>>;

/// How callers are identified at run time.
enum Callers {
    Jwt(Verifier),
    Development,
}

/// One version of the pack, and the views made from it. A request takes one snapshot and
/// uses it throughout, so no answer mixes two versions.
struct Snapshot {
    engine: Engine,
    version: HeaderValue,
    views: Mutex<HashMap<ViewKey, Arc<View>>>,
}

/// What every request reads: the current snapshot, key, audit and callers.
struct AppState {
    current: std::sync::RwLock<Arc<Snapshot>>,
    /// Where the pack comes from (reloaded from there).
    policies: Option<std::path::PathBuf>,
    /// Roles that may reload the pack.
    admin_roles: Vec<String>,
    metrics: crate::metrics::Metrics,
    key: Option<KeyRing>,
    audit: Option<Arc<AuditLog>>,
    callers: Callers,
    limits: Limits,
    as_of_year: Option<i64>,
}

impl AppState {
    fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// Loads and checks a pack: every policy, catalog and FHIR rule validated, before any
/// request can see it.
fn load_snapshot(policies: Option<&std::path::Path>) -> Result<Snapshot, ServerError> {
    let sources = match policies {
        Some(dir) => PackSources::from_dir(dir)?,
        None => PackSources::default_pack(),
    };
    let version = sources.content_hash();
    let engine = Engine::builder().sources(sources).build()?;
    phiguard::fhir::check_rules(engine.pack())?;
    Ok(Snapshot {
        engine,
        version: HeaderValue::from_str(&version)
            .map_err(|_| ServerError::Config("pack version".into()))?,
        views: Mutex::new(HashMap::new()),
    })
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct ViewKey {
    principal: Principal,
    purpose: String,
    break_glass_reason: Option<String>,
    catalog: String,
}

/// A server bound and serving (what [`start`] returns).
#[derive(Debug)]
#[non_exhaustive]
pub struct Started {
    /// The address it listens on (the port chosen when the configuration said 0).
    pub addr: SocketAddr,
    /// The pack version it serves.
    pub pack_version: String,
}

fn load_state(config: &Config) -> Result<AppState, ServerError> {
    let snapshot = load_snapshot(config.policies.as_deref())?;
    let metrics = crate::metrics::Metrics::new();
    metrics.set_pack(snapshot.version.to_str().unwrap_or(""));
    let key = match &config.key_file {
        Some(p) => Some(KeyRing::from_file(p)?),
        None => None,
    };
    let audit = match (&config.audit_log, &key) {
        (Some(p), Some(k)) => Some(Arc::new(ChainedLog::open(p, k)?)),
        _ => None,
    };
    let callers = match &config.auth {
        Auth::Jwt { issuers } => Callers::Jwt(Verifier::load(issuers)?),
        Auth::Development => Callers::Development,
    };
    Ok(AppState {
        current: std::sync::RwLock::new(Arc::new(snapshot)),
        policies: config.policies.clone(),
        admin_roles: config.admin_roles.clone(),
        metrics,
        key,
        audit,
        callers,
        limits: config.limits.clone(),
        as_of_year: config.as_of_year,
    })
}

/// The routes of a server for `config` (pack, key and audit loaded now).
///
/// # Errors
/// [`ServerError`] when the pack, key, audit log or JWKS cannot be loaded.
pub fn router(config: &Config) -> Result<Router, ServerError> {
    Ok(router_and_version(config)?.0)
}

fn router_and_version(config: &Config) -> Result<(Router, String), ServerError> {
    let state = Arc::new(load_state(config)?);
    let version = state.snapshot().version.to_str().unwrap_or("").to_owned();
    let limit = state.limits.body_bytes;
    let concurrency = state.limits.concurrency;
    let timeout = std::time::Duration::from_millis(state.limits.timeout_ms);
    let request_id = HeaderName::from_static("x-request-id");
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi_json))
        .route("/v1/records/apply", post(apply_one))
        .route("/v1/records/batch", post(apply_batch))
        .route("/v1/explain", get(explain))
        .route("/v1/fhir", post(fhir_document))
        .route("/v1/fhir/ndjson", post(fhir_ndjson))
        .route("/admin/reload", post(reload))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
        .layer(DefaultBodyLimit::disable())
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(shed))
                .load_shed()
                .concurrency_limit(concurrency),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
    Ok((app, version))
}

/// Binds `config.listen` and serves in the background of the current tokio runtime until
/// `shutdown` completes; in-flight requests finish first.
///
/// # Errors
/// [`ServerError`] when loading or binding fails.
pub async fn start(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(Started, tokio::task::JoinHandle<std::io::Result<()>>), ServerError> {
    if matches!(config.auth, Auth::Development) {
        eprintln!(
            "phiguard serve: WARNING: development mode, NO AUTHENTICATION: callers name themselves in headers; loopback only ({})",
            config.listen
        );
    }
    let (app, version) = router_and_version(config)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    Ok((
        Started {
            addr,
            pack_version: version,
        },
        handle,
    ))
}

/// Runs the server for `config` on a new tokio runtime until SIGTERM or Ctrl-C, then drains
/// in-flight requests (what `phiguard serve` calls).
///
/// # Errors
/// [`ServerError`] when loading, binding or serving fails.
pub fn run(config: &Config) -> Result<(), ServerError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (started, handle) = start(config, shutdown_signal()).await?;
        eprintln!(
            "phiguard serve: listening on http://{} (pack {})",
            started.addr,
            started.pack_version.get(..12).unwrap_or("")
        );
        handle
            .await
            .map_err(|e| ServerError::Io(std::io::Error::other(e.to_string())))??;
        eprintln!("phiguard serve: stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// A request past the concurrency limit: shed at once, told when to come back.
async fn shed(_: tower::BoxError) -> Response {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        "the server is at its concurrency limit; retry shortly",
    )
    .into_response()
}

/// Counts and times every request by its route template (never the path itself).
async fn track(
    State(s): State<Arc<AppState>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let r = next.run(req).await;
    s.metrics
        .duration
        .get_or_create(&crate::metrics::RouteLabel {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    s.metrics
        .requests
        .get_or_create(&crate::metrics::RouteStatus {
            route,
            status: r.status().as_u16(),
        })
        .inc();
    r
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let snap = s.snapshot();
    let views = snap.views.lock().map_or(0, |m| m.len());
    s.metrics
        .views
        .set(i64::try_from(views).unwrap_or(i64::MAX));
    let mut r = s.metrics.encode().into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready once a pack is loaded, which the router's construction guarantees.
async fn readyz(State(s): State<Arc<AppState>>) -> Response {
    let snap = s.snapshot();
    with_version(&snap, axum::Json(json!({"ready": true})).into_response())
}

async fn openapi_json() -> axum::Json<Value> {
    axum::Json(openapi())
}

fn with_version(s: &Snapshot, mut r: Response) -> Response {
    r.headers_mut().insert(PACK_HEADER, s.version.clone());
    r
}

/// Who calls and why: checked before the body is read, so an unauthenticated caller learns
/// nothing about their input.
struct Caller {
    principal: Principal,
    purpose: String,
    break_glass_reason: Option<String>,
}

fn caller(s: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let principal = match &s.callers {
        Callers::Jwt(v) => {
            let token = text("authorization")
                .and_then(|a| {
                    a.strip_prefix("Bearer ")
                        .or_else(|| a.strip_prefix("bearer "))
                })
                .ok_or(AuthError::Missing)
                .map_err(|e| ApiError::unauthorized(e.to_string()))?;
            v.verify(token.trim())
                .map_err(|e| ApiError::unauthorized(e.to_string()))?
        }
        Callers::Development => Principal {
            user: text("x-phiguard-user")
                .ok_or_else(|| ApiError::unauthorized("development mode: send X-Phiguard-User"))?
                .to_owned(),
            roles: text("x-phiguard-roles")
                .ok_or_else(|| ApiError::unauthorized("development mode: send X-Phiguard-Roles"))?
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect(),
        },
    };
    let purpose = text("x-purpose-of-use")
        .ok_or_else(|| ApiError::bad_request("send the purpose of use in X-Purpose-Of-Use"))?
        .to_owned();
    Ok(Caller {
        principal,
        purpose,
        break_glass_reason: text("x-break-glass-reason").map(str::to_owned),
    })
}

/// The view of the pack `who` gets for `catalog` (cached per caller, purpose and catalog).
fn view_for(
    s: &AppState,
    snap: &Snapshot,
    who: Caller,
    catalog: &str,
) -> Result<Arc<View>, ApiError> {
    let key = ViewKey {
        principal: who.principal,
        purpose: who.purpose,
        break_glass_reason: who.break_glass_reason,
        catalog: catalog.to_owned(),
    };
    if let Some(v) = snap.views.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(v);
    }
    let mut req = AccessRequest::new(
        key.principal.user.clone(),
        key.principal.roles.clone(),
        key.purpose.clone(),
        key.catalog.clone(),
    );
    req.break_glass_reason = key.break_glass_reason.clone();
    req.as_of_year = s.as_of_year;
    let mut view = snap.engine.view(&req)?;
    if let Some(k) = &s.key {
        view = view.with_key(k.clone());
    }
    if let Some(a) = &s.audit {
        view = view.with_audit(a.clone() as Arc<dyn AuditSink>);
    }
    let view = Arc::new(view);
    if let Ok(mut m) = snap.views.lock() {
        if m.len() >= MAX_VIEWS {
            m.clear();
        }
        m.insert(key, view.clone());
    }
    Ok(view)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogQuery {
    catalog: Option<String>,
}

/// The catalog a request names, or the one matching the record's keys.
fn catalog_for(s: &Snapshot, q: &CatalogQuery, record: Option<&Value>) -> Result<String, ApiError> {
    if let Some(c) = &q.catalog {
        return Ok(c.clone());
    }
    let keys: Vec<&str> = record
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    Ok(s.engine.match_catalog(&keys)?.name.clone())
}

fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::from(phiguard::Error::malformed_json("<body>", 1, &e)))
}

/// Writes the audit events of the request through before anything is answered: a record
/// whose disclosure cannot be audited is not disclosed.
fn flush_audit(s: &AppState) -> Result<(), ApiError> {
    match &s.audit {
        Some(a) => a.flush().map_err(ApiError::from),
        None => Ok(()),
    }
}

async fn apply_one(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CatalogQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let snap = s.snapshot();
    let who = caller(&s, &headers)?;
    let mut record = parse_json(&body)?;
    if !record.is_object() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input",
            "the body must be one JSON object (a record)",
        ));
    }
    let catalog = catalog_for(&snap, &q, Some(&record))?;
    let view = view_for(&s, &snap, who, &catalog)?;
    view.apply_json_records(std::slice::from_mut(&mut record), "<body>")?;
    flush_audit(&s)?;
    Ok(with_version(&snap, axum::Json(record).into_response()))
}

async fn apply_batch(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CatalogQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let snap = s.snapshot();
    let who = caller(&s, &headers)?;
    let body = parse_json(&body)?;
    let Value::Object(mut body) = body else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input",
            "the body must be {\"records\": [...]}",
        ));
    };
    let Some(Value::Array(mut records)) = body.remove("records") else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input",
            "the body must be {\"records\": [...]}",
        ));
    };
    if records.len() > s.limits.batch {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch_too_large",
            format!(
                "a batch holds at most {} records; this one has {}",
                s.limits.batch,
                records.len()
            ),
        ));
    }
    if let Some(i) = records.iter().position(|r| !r.is_object()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input",
            format!("records[{i}] is not a JSON object"),
        ));
    }
    let catalog = catalog_for(&snap, &q, records.first())?;
    let view = view_for(&s, &snap, who, &catalog)?;
    view.apply_json_records(&mut records, "<body>")?;
    flush_audit(&s)?;
    Ok(with_version(
        &snap,
        axum::Json(json!({"records": records})).into_response(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FhirQuery {
    /// `stop` (default) or `withhold`.
    on_error: Option<String>,
}

fn fhir_on_error(q: &FhirQuery) -> Result<phiguard::fhir::OnError, ApiError> {
    match q.on_error.as_deref() {
        None | Some("stop") => Ok(phiguard::fhir::OnError::Stop),
        Some("withhold") => Ok(phiguard::fhir::OnError::Withhold),
        Some(_) => Err(ApiError::bad_request("on_error is `stop` or `withhold`")),
    }
}

/// The headers that say what a FHIR run left out.
fn fhir_outcome(s: &Snapshot, mut r: Response, summary: &phiguard::fhir::FhirSummary) -> Response {
    let count = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
    for (name, n) in [
        ("x-phiguard-withheld", count(&summary.withheld)),
        ("x-phiguard-hidden", count(&summary.hidden)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&n.to_string()) {
            r.headers_mut().insert(name, v);
        }
    }
    with_version(s, r)
}

/// A FHIR R4 resource or Bundle, as the caller may see it (the pack's `fhir` catalog). A
/// document the caller may not see at all is 403.
async fn fhir_document(
    State(s): State<Arc<AppState>>,
    Query(q): Query<FhirQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let snap = s.snapshot();
    let who = caller(&s, &headers)?;
    let on_error = fhir_on_error(&q)?;
    let mut doc = parse_json(&body)?;
    let view = view_for(&s, &snap, who, "fhir")?;
    let mut run = phiguard::fhir::Fhir::new(&view)?.on_error(on_error);
    run.apply(&mut doc, "<body>")?;
    flush_audit(&s)?;
    if doc.is_null() {
        let r = ApiError::new(
            StatusCode::FORBIDDEN,
            "not_visible",
            "nothing of this document may be shown to the caller",
        )
        .into_response();
        return Ok(fhir_outcome(&snap, r, run.summary()));
    }
    let mut r = axum::Json(doc).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    Ok(fhir_outcome(&snap, r, run.summary()))
}

/// FHIR NDJSON (a bulk export file), one resource a line, in one run: ids, references and
/// per-patient date shifts agree across its lines.
async fn fhir_ndjson(
    State(s): State<Arc<AppState>>,
    Query(q): Query<FhirQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let snap = s.snapshot();
    let who = caller(&s, &headers)?;
    let on_error = fhir_on_error(&q)?;
    let view = view_for(&s, &snap, who, "fhir")?;
    let mut run = phiguard::fhir::Fhir::new(&view)?.on_error(on_error);
    let mut out = Vec::with_capacity(body.len());
    phiguard::fhir::deidentify_ndjson(&mut run, &body[..], &mut out, "<body>")?;
    flush_audit(&s)?;
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+ndjson"),
    );
    Ok(fhir_outcome(&snap, r, run.summary()))
}

/// Builds the pack anew from its directory off the request path and swaps it in whole; a pack
/// that does not load is refused (422, counted) and the old one keeps serving.
async fn reload(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let who = caller(&s, &headers)?;
    if !who
        .principal
        .roles
        .iter()
        .any(|r| s.admin_roles.contains(r))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "reloading the pack needs an admin role (admin_roles)",
        ));
    }
    let dir = s.policies.clone();
    let built = tokio::task::spawn_blocking(move || load_snapshot(dir.as_deref()))
        .await
        .map_err(|_| ApiError::from(phiguard::Error::request("the reload task failed")))?;
    match built {
        Ok(snap) => {
            let version = snap.version.clone();
            let old = {
                let mut g = match s.current.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                std::mem::replace(&mut *g, Arc::new(snap))
            };
            let changed = old.version != version;
            s.metrics.set_pack(version.to_str().unwrap_or(""));
            let mut r = axum::Json(json!({
                "version": version.to_str().unwrap_or(""),
                "changed": changed,
            }))
            .into_response();
            r.headers_mut().insert(PACK_HEADER, version);
            Ok(r)
        }
        Err(e) => {
            s.metrics.reload_failures.inc();
            let message = match e {
                ServerError::Engine(e) => e.to_string(),
                other => other.to_string(),
            };
            let snap = s.snapshot();
            let r = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "pack_refused",
                format!("the new pack was refused; the old one keeps serving: {message}"),
            )
            .into_response();
            Ok(with_version(&snap, r))
        }
    }
}

async fn explain(
    State(s): State<Arc<AppState>>,
    Query(q): Query<CatalogQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let snap = s.snapshot();
    let Some(catalog) = q.catalog.clone() else {
        return Err(ApiError::bad_request(
            "name the catalog: /v1/explain?catalog=NAME",
        ));
    };
    let view = view_for(&s, &snap, caller(&s, &headers)?, &catalog)?;
    let plan = view.plan_for_others()?;
    let fields: Vec<Value> = plan
        .fields
        .iter()
        .map(|f| {
            json!({
                "field": f.field,
                "category": f.category,
                "treatment": f.treatment.name(),
                "reason": f.reason(),
            })
        })
        .collect();
    Ok(with_version(
        &snap,
        axum::Json(json!({"catalog": catalog, "plan": plan.id, "fields": fields})).into_response(),
    ))
}

/// The OpenAPI 3.1 document of the endpoints (served at `/openapi.json`).
///
/// # Examples
/// ```
/// let doc = phiguard_server::openapi();
/// assert_eq!(doc["openapi"], "3.1.0");
/// assert!(doc["paths"]["/v1/records/apply"]["post"].is_object());
/// ```
pub fn openapi() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let errors = json!({
        "400": {"description": "No purpose of use, or a malformed query", "content": {"application/json": {"schema": error}}},
        "401": {"description": "No valid bearer token", "content": {"application/json": {"schema": error}}},
        "413": {"description": "The body is larger than the configured limit"},
        "422": {"description": "Not valid input for the catalog (located, never quoting values)", "content": {"application/json": {"schema": error}}},
        "503": {"description": "The audit log cannot be written: nothing disclosed", "content": {"application/json": {"schema": error}}}
    });
    let headers = json!([
        {"name": "X-Purpose-Of-Use", "in": "header", "required": true, "schema": {"type": "string"}, "description": "HL7 purpose of use (TREAT, HPAYMT, HOPERAT, HRESCH, ETREAT, BTG, ...)"},
        {"name": "X-Break-Glass-Reason", "in": "header", "required": false, "schema": {"type": "string"}, "description": "Required with ETREAT and BTG; audited"},
        {"name": "catalog", "in": "query", "required": false, "schema": {"type": "string"}, "description": "The pack catalog; matched from the record's keys when absent"}
    ]);
    let record = json!({"type": "object", "additionalProperties": true});
    let fhir_params = json!([
        {"name": "X-Purpose-Of-Use", "in": "header", "required": true, "schema": {"type": "string"}},
        {"name": "X-Break-Glass-Reason", "in": "header", "required": false, "schema": {"type": "string"}},
        {"name": "on_error", "in": "query", "required": false, "schema": {"type": "string", "enum": ["stop", "withhold"]},
         "description": "A resource that cannot be treated stops the request (422) or is withheld and counted"}
    ]);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "phiguard", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Records on request, each field shown as the caller's policies decide for their role and purpose; every disclosure audited."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "message"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
            }
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/records/apply": {"post": {
                "summary": "One record, as the caller may see it",
                "parameters": headers,
                "requestBody": {"required": true, "content": {"application/json": {"schema": record}}},
                "responses": merge(json!({"200": {"description": "The record, treated", "content": {"application/json": {"schema": record}}}}), &errors)
            }},
            "/v1/records/batch": {"post": {
                "summary": "Up to the configured limit of records (100 by default)",
                "parameters": headers,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["records"],
                    "properties": {"records": {"type": "array", "items": record}}}}}},
                "responses": merge(json!({"200": {"description": "The records, treated, in order", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"records": {"type": "array", "items": record}}}}}}}), &errors)
            }},
            "/v1/explain": {"get": {
                "summary": "How the caller sees each field of a catalog, and which policies decided",
                "parameters": headers,
                "responses": merge(json!({"200": {"description": "The caller's plan"}}), &errors)
            }},
            "/v1/fhir": {"post": {
                "summary": "A FHIR R4 resource or Bundle, as the caller may see it",
                "parameters": fhir_params,
                "requestBody": {"required": true, "content": {"application/fhir+json": {"schema": record}, "application/json": {"schema": record}}},
                "responses": merge(json!({"200": {"description": "The document, treated; X-Phiguard-Withheld and X-Phiguard-Hidden count what was left out", "content": {"application/fhir+json": {"schema": record}}},
                                          "403": {"description": "Nothing of the document may be shown to the caller", "content": {"application/json": {"schema": error}}}}), &errors)
            }},
            "/v1/fhir/ndjson": {"post": {
                "summary": "FHIR NDJSON (a bulk export file) in one run",
                "parameters": fhir_params,
                "requestBody": {"required": true, "content": {"application/fhir+ndjson": {"schema": {"type": "string"}}}},
                "responses": merge(json!({"200": {"description": "The resources, treated, one a line", "content": {"application/fhir+ndjson": {"schema": {"type": "string"}}}}}), &errors)
            }},
            "/admin/reload": {"post": {
                "summary": "Load the pack anew and swap it in whole (an admin role); a broken pack is refused and the old one keeps serving",
                "parameters": [{"name": "X-Purpose-Of-Use", "in": "header", "required": true, "schema": {"type": "string"}}],
                "responses": merge(json!({"200": {"description": "The version now served"},
                                          "403": {"description": "Not an admin role", "content": {"application/json": {"schema": error}}}}), &errors)
            }},
            "/metrics": {"get": {"summary": "Prometheus metrics (route templates and statuses only)", "security": [], "responses": {"200": {"description": "Text exposition format"}}}},
            "/healthz": {"get": {"summary": "The process is up", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/readyz": {"get": {"summary": "A pack is loaded", "security": [], "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/openapi.json": {"get": {"summary": "This document", "security": [], "responses": {"200": {"description": "OpenAPI 3.1"}}}}
        }
    })
}

fn merge(mut a: Value, b: &Value) -> Value {
    if let (Value::Object(a), Value::Object(b)) = (&mut a, b) {
        for (k, v) in b {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}
