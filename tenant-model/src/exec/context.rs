//! Who a request acts for: a tenant context built from verified JWT claims.

use serde_json::Value;
use uuid::Uuid;

use crate::error::Error;
use crate::model::tenant_id::TenantId;

/// The tenant a request acts for, and whether its user may ask for
/// cross-tenant (admin) access.
///
/// Built from JWT claims **the caller has already verified** (signature,
/// expiry, audience): this type reads claims, it does not authenticate.
///
/// ```
/// use tenant_model::TenantContext;
/// use serde_json::json;
///
/// let ctx = TenantContext::from_claims(&json!({
///     "sub": "user-1",
///     "tenant_id": "5f0c6e4a-9a53-4f3e-8d7e-2d1c4b0a9e11",
///     "is_superuser": false,
/// }))?;
/// assert_eq!(ctx.tenant_id().to_string(), "5f0c6e4a-9a53-4f3e-8d7e-2d1c4b0a9e11");
/// assert!(!ctx.is_superuser());
///
/// let err = TenantContext::from_claims(&json!({ "sub": "user-1" })).unwrap_err();
/// assert_eq!(err.to_string(), "invalid tenant context: claim `tenant_id` is missing");
/// # Ok::<(), tenant_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantContext {
    tenant_id: TenantId,
    is_superuser: bool,
}

/// The claim holding the tenant id.
pub const TENANT_CLAIM: &str = "tenant_id";
/// The claim holding the superuser flag.
pub const SUPERUSER_CLAIM: &str = "is_superuser";

impl TenantContext {
    /// A context for `tenant_id`, without admin rights.
    pub fn new(tenant_id: impl Into<TenantId>) -> TenantContext {
        TenantContext {
            tenant_id: tenant_id.into(),
            is_superuser: false,
        }
    }

    /// Reads `tenant_id` (a UUID string, required) and `is_superuser` (a
    /// boolean, optional, default false) from verified claims.
    pub fn from_claims(claims: &Value) -> Result<TenantContext, Error> {
        let invalid = |msg: String| Error::InvalidContext(msg);
        let Some(claims) = claims.as_object() else {
            return Err(invalid("claims must be a JSON object".to_owned()));
        };
        let tenant = match claims.get(TENANT_CLAIM) {
            None | Some(Value::Null) => {
                return Err(invalid(format!("claim `{TENANT_CLAIM}` is missing")))
            }
            Some(Value::String(s)) => Uuid::parse_str(s)
                .map_err(|e| invalid(format!("claim `{TENANT_CLAIM}` is not a UUID ({e})")))?,
            Some(other) => {
                return Err(invalid(format!(
                    "claim `{TENANT_CLAIM}` must be a UUID string, found {}",
                    kind(other)
                )))
            }
        };
        let is_superuser = match claims.get(SUPERUSER_CLAIM) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(invalid(format!(
                    "claim `{SUPERUSER_CLAIM}` must be a boolean, found {}",
                    kind(other)
                )))
            }
        };
        Ok(TenantContext {
            tenant_id: tenant.into(),
            is_superuser,
        })
    }

    /// The tenant.
    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    /// Whether the user may open an admin (cross-tenant) scope.
    pub fn is_superuser(&self) -> bool {
        self.is_superuser
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(claims: Value) -> String {
        TenantContext::from_claims(&claims).unwrap_err().to_string()
    }

    #[test]
    fn reads_tenant_and_flag() {
        let id = Uuid::now_v7();
        let ctx =
            TenantContext::from_claims(&json!({"tenant_id": id.to_string(), "is_superuser": true}))
                .unwrap();
        assert_eq!(ctx.tenant_id().as_uuid(), id);
        assert!(ctx.is_superuser());
    }

    #[test]
    fn rejects_bad_claims_with_clear_messages() {
        assert!(err(json!([])).contains("must be a JSON object"));
        assert!(err(json!({"tenant_id": null})).contains("`tenant_id` is missing"));
        assert!(err(json!({"tenant_id": 42})).contains("must be a UUID string, found a number"));
        assert!(err(json!({"tenant_id": "acme' OR 1=1 --"})).contains("is not a UUID"));
        let id = Uuid::now_v7().to_string();
        assert!(err(json!({"tenant_id": id, "is_superuser": "yes"}))
            .contains("must be a boolean, found a string"));
    }
}
