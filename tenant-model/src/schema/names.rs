//! Names of constraints, indexes, policies and triggers.
//!
//! Defaults follow PostgreSQL's own conventions (`users_pkey`,
//! `users_tenant_id_email_key`, `users_organization_id_fkey`) and the
//! standard's `idx_<table>_<columns>` for indexes. PostgreSQL cuts names at
//! 63 bytes; longer names are shortened here, deterministically, with a
//! hash of the full name so two long names never collide.

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1).
const MAX_LEN: usize = 63;

/// Joins parts with `_`, shortened to 63 bytes when needed.
pub(crate) fn join(parts: &[&str]) -> String {
    fit(parts.join("_"))
}

/// Shortens `name` to 63 bytes, ending it with 8 hex digits of its hash.
pub(crate) fn fit(name: String) -> String {
    if name.len() <= MAX_LEN {
        return name;
    }
    let hash = fnv1a(name.as_bytes());
    let mut cut = MAX_LEN - 9;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:08x}", &name[..cut], hash as u32)
}

/// FNV-1a: a small, stable hash (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(join(&["users", "email", "key"]), "users_email_key");
    }

    #[test]
    fn long_names_are_cut_with_a_hash() {
        let a = join(&[&"x".repeat(60), "one", "key"]);
        let b = join(&[&"x".repeat(60), "two", "key"]);
        assert_eq!(a.len(), 63);
        assert_ne!(a, b);
        assert_eq!(a, join(&[&"x".repeat(60), "one", "key"]));
    }
}
