//! The Cedar work phiguard's browser package must do, and nothing else.
#![allow(unsafe_code)]

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema,
};
use std::str::FromStr;

fn decide(parts: &[&str]) -> Result<bool, String> {
    let [schema, policies, entities, principal, action, resource, context] = parts else {
        return Err("seven parts expected".into());
    };
    let err = |e: &dyn std::fmt::Display| e.to_string();
    #[cfg(not(feature = "lean"))]
    let schema = Schema::from_cedarschema_str(schema).map_err(|e| err(&e))?.0;
    #[cfg(feature = "lean")]
    let schema = Schema::from_json_str(schema).map_err(|e| err(&e))?;
    let set = PolicySet::from_str(policies).map_err(|e| err(&e))?;
    #[cfg(not(feature = "lean"))]
    {
        let v = cedar_policy::Validator::new(schema.clone());
        let res = v.validate(&set, cedar_policy::ValidationMode::Strict);
        if !res.validation_passed() {
            return Err(res.to_string());
        }
    }
    let entities = Entities::from_json_str(entities, Some(&schema)).map_err(|e| err(&e))?;
    let uid = |s: &str| EntityUid::from_str(s).map_err(|e| err(&e));
    let request = Request::new(
        uid(principal)?,
        uid(action)?,
        uid(resource)?,
        Context::from_json_str(context, None).map_err(|e| err(&e))?,
        Some(&schema),
    )
    .map_err(|e| err(&e))?;
    let response = Authorizer::new().is_authorized(&request, &set, &entities);
    Ok(response.decision() == Decision::Allow)
}

/// Decides a request given as seven NUL-separated texts at `ptr`: 1 allow, 0 deny, 2 error.
///
/// # Safety
/// `ptr` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn decide_raw(ptr: *const u8, len: usize) -> u32 {
    // SAFETY: the caller guarantees `len` readable bytes at `ptr`.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return 2;
    };
    let parts: Vec<&str> = text.split('\0').collect();
    match decide(&parts) {
        Ok(true) => 1,
        Ok(false) => 0,
        Err(_) => 2,
    }
}
