//! `phiguard serve`: the policy-enforcing record service.
//!
//! A caller proves who they are with a bearer JWT (verified against the configured issuers'
//! JWKS) and says why they ask (`X-Purpose-Of-Use`). The server hands back each record as
//! that caller's policies show it, and audits every disclosure in the core's HMAC-chained log.
//! The rules all live in the core crate. This crate only turns HTTP into engine calls and
//! engine errors into HTTP statuses:
//!
//! - `config`: the TOML file and its environment overrides;
//! - `auth`: callers (JWTs, or the loud development mode bound to loopback);
//! - `app`: routes, the views cached per caller, the audit, and the `serve` loop;
//! - `metrics`: Prometheus metrics, labelled by route template and status only.
//!
//! The endpoints are described by [`openapi`], served at `/openapi.json`.

mod app;
mod auth;
mod config;
mod error;
mod metrics;

pub use app::{Started, openapi, router, run, start};
pub use auth::{AuthError, Principal};
pub use config::{Auth, Config, Issuer, Limits};
pub use error::ServerError;
