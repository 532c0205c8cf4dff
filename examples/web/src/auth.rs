//! JWT verification: the request's tenant comes from a verified token,
//! never from the URL or the body.
//!
//! Tokens are HS256, signed with the secret from `WEB_JWT_SECRET`; the
//! claims are `sub`, `tenant_id` (a UUID string), optional `is_superuser`
//! and `exp` (required; expired tokens are refused). After the signature
//! and expiry are checked, [`TenantContext::from_claims`] reads the tenant.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use tenant_model::{TenantContext, TenantId};

use crate::error::ApiError;
use crate::AppState;

/// The environment variable holding the signing secret.
pub const SECRET_VAR: &str = "WEB_JWT_SECRET";

/// The secret used when [`SECRET_VAR`] is unset: for local development
/// only, and announced loudly by [`secret_from_env`].
pub const DEV_SECRET: &str = "tenant-model-web-example-dev-secret-do-not-deploy";

/// The signing secret: `WEB_JWT_SECRET`, else [`DEV_SECRET`] with a
/// warning on stderr.
pub fn secret_from_env() -> Vec<u8> {
    match std::env::var(SECRET_VAR) {
        Ok(secret) if !secret.is_empty() => secret.into_bytes(),
        _ => {
            eprintln!(
                "WARNING: {SECRET_VAR} is not set; signing and verifying tokens with the \
                 PUBLIC development secret {DEV_SECRET:?}. Anyone can forge tokens: never \
                 deploy this."
            );
            DEV_SECRET.as_bytes().to_vec()
        }
    }
}

/// The claims this API issues and reads.
#[derive(Debug, Clone, Serialize)]
pub struct Claims {
    /// The user (free text here: the example has no login).
    pub sub: String,
    /// The tenant, as a UUID string.
    pub tenant_id: String,
    /// Whether the user may ask for cross-tenant access.
    pub is_superuser: bool,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

impl Claims {
    /// Claims for `tenant`, valid for `ttl` from now.
    pub fn for_tenant(tenant: TenantId, sub: &str, ttl: Duration) -> Claims {
        Claims {
            sub: sub.to_owned(),
            tenant_id: tenant.to_string(),
            is_superuser: false,
            exp: (now() + ttl).as_secs(),
        }
    }
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Signs and verifies tokens with one HS256 secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(HS256, secret hidden)")
    }
}

impl Keys {
    /// Keys for `secret`.
    pub fn new(secret: &[u8]) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A signed token carrying `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verifies `token` (signature, algorithm, expiry) and reads its tenant.
    pub fn verify(&self, token: &str) -> Result<TenantContext, ApiError> {
        let data =
            jsonwebtoken::decode::<serde_json::Value>(token, &self.decoding, &self.validation)
                .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))?;
        TenantContext::from_claims(&data.claims).map_err(|e| ApiError::Unauthorized(e.to_string()))
    }
}

/// The caller's verified tenant: a handler that takes it cannot run
/// without a valid token.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub TenantContext);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("missing Authorization header".to_owned()))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::Unauthorized("expected `Authorization: Bearer <token>`".to_owned())
            })?;
        state.keys.verify(token.trim()).map(Caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn a_signed_token_reads_back_its_tenant_and_others_do_not() {
        let tenant = TenantId::from(Uuid::now_v7());
        let keys = Keys::new(b"secret");
        let claims = Claims::for_tenant(tenant, "ann", Duration::from_secs(60));
        let token = keys.sign(&claims).unwrap();
        assert_eq!(keys.verify(&token).unwrap().tenant_id(), tenant);
        assert!(Keys::new(b"other").verify(&token).is_err());
        let expired = Claims {
            exp: now().as_secs() - 10,
            ..claims
        };
        assert!(keys.verify(&keys.sign(&expired).unwrap()).is_err());
    }
}
