//! Who is calling: a bearer JWT verified against the issuers' keys, or (development mode
//! only) headers naming the caller.

use std::collections::HashMap;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::Value;

use crate::config::Issuer;
use crate::error::ServerError;

/// The caller, as the token (or development headers) says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Principal {
    /// The user id.
    pub user: String,
    /// The user's roles.
    pub roles: Vec<String>,
}

/// Why a token is refused. Answered as 401; the reason is logged by kind, never with the
/// token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("a bearer token is required")]
    Missing,
    /// Not a JWT, or an algorithm this server does not accept (`none`, HS*).
    #[error("the token is malformed or its algorithm is not accepted")]
    Malformed,
    /// No configured issuer has its key (`kid`).
    #[error("the token's key is not known")]
    UnknownKey,
    /// Bad signature, wrong `iss` or `aud`, expired or not yet valid.
    #[error("the token is not valid for this server")]
    Invalid,
    /// The token names no user or roles in the configured claims.
    #[error("the token names no user or roles")]
    NoPrincipal,
}

/// The accepted algorithms: asymmetric only, so a public key can never verify an
/// HMAC-signed token made with it (the HS-with-public-key confusion).
const ACCEPTED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

struct IssuerKeys {
    cfg: Issuer,
    /// `kid` -> key and its algorithm.
    keys: HashMap<String, (DecodingKey, Algorithm)>,
}

/// Verifies bearer tokens against the configured issuers.
pub(crate) struct Verifier {
    issuers: Vec<IssuerKeys>,
}

impl Verifier {
    /// Loads each issuer's JWKS file; keys without `kid`, or of an algorithm not accepted,
    /// are skipped.
    pub(crate) fn load(issuers: &[Issuer]) -> Result<Verifier, ServerError> {
        let mut out = Vec::new();
        for cfg in issuers {
            let text = std::fs::read_to_string(&cfg.jwks_file)
                .map_err(|e| ServerError::Config(format!("{}: {e}", cfg.jwks_file.display())))?;
            let set: JwkSet = serde_json::from_str(&text).map_err(|e| {
                ServerError::Config(format!("{}: not a JWKS: {e}", cfg.jwks_file.display()))
            })?;
            let mut keys = HashMap::new();
            for jwk in &set.keys {
                let Some(kid) = jwk.common.key_id.clone() else {
                    continue;
                };
                let Some(alg) = key_algorithm(jwk) else {
                    continue;
                };
                if let Ok(key) = DecodingKey::from_jwk(jwk) {
                    keys.insert(kid, (key, alg));
                }
            }
            if keys.is_empty() {
                return Err(ServerError::Config(format!(
                    "{}: no RS256, ES256 or EdDSA key with a `kid`",
                    cfg.jwks_file.display()
                )));
            }
            out.push(IssuerKeys {
                cfg: cfg.clone(),
                keys,
            });
        }
        Ok(Verifier { issuers: out })
    }

    /// The principal of a verified token.
    pub(crate) fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(AuthError::Malformed);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let (issuer, key, alg) = self
            .issuers
            .iter()
            .find_map(|i| i.keys.get(&kid).map(|(k, a)| (&i.cfg, k, *a)))
            .ok_or(AuthError::UnknownKey)?;
        // The key decides the algorithm, not the token's header.
        if alg != header.alg {
            return Err(AuthError::Invalid);
        }
        let mut v = Validation::new(alg);
        v.set_issuer(&[&issuer.issuer]);
        v.set_audience(&[&issuer.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud"]);
        v.leeway = 30;
        let data = decode::<serde_json::Map<String, Value>>(token, key, &v)
            .map_err(|_| AuthError::Invalid)?;
        let claims = data.claims;
        let user = claims
            .get(&issuer.user_claim)
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or(AuthError::NoPrincipal)?
            .to_owned();
        let roles: Vec<String> = match claims.get(&issuer.roles_claim) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        if roles.is_empty() {
            return Err(AuthError::NoPrincipal);
        }
        Ok(Principal { user, roles })
    }
}

/// The algorithm a JWK is for: its `alg` if it says, else by key type (RSA keys RS256, P-256
/// keys ES256, Ed25519 keys EdDSA).
fn key_algorithm(jwk: &jsonwebtoken::jwk::Jwk) -> Option<Algorithm> {
    use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, KeyAlgorithm};
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
            Some(Algorithm::ES256)
        }
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
            Some(Algorithm::EdDSA)
        }
        _ => None,
    }?;
    match jwk.common.key_algorithm {
        None => Some(by_type),
        Some(KeyAlgorithm::RS256) if by_type == Algorithm::RS256 => Some(by_type),
        Some(KeyAlgorithm::ES256) if by_type == Algorithm::ES256 => Some(by_type),
        Some(KeyAlgorithm::EdDSA) if by_type == Algorithm::EdDSA => Some(by_type),
        Some(_) => None,
    }
}
