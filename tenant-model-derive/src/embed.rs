//! `embed_migrations!("dir")`: the migration folders of `dir` (relative to
//! the invoking crate's `CARGO_MANIFEST_DIR`) compiled into the binary with
//! `include_str!` of each file, by absolute path, so cargo rebuilds the
//! crate when one of those files changes.
//!
//! The folder rules are the runtime's (`tenant_model::migrate`): folders
//! named `<14-digit version>_<[a-z0-9_]+>` holding `up.sql` and, optionally,
//! `down.sql`; hidden entries and files not starting with a digit skipped.
//! Every problem is a compile error at the macro's string literal.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

const VERSION_DIGITS: usize = 14;

/// One migration folder found.
struct Found {
    version: i64,
    name: String,
    up: String,
    down: Option<String>,
    folder: String,
}

/// The macro on tokens, with the crate's manifest folder.
pub(crate) fn expand(input: TokenStream, manifest_dir: Option<&str>) -> syn::Result<TokenStream> {
    let lit: LitStr = syn::parse2(input)?;
    let err = |message: String| syn::Error::new(lit.span(), message);
    let manifest_dir = manifest_dir
        .ok_or_else(|| err("CARGO_MANIFEST_DIR is not set: build with cargo".to_owned()))?;
    let dir = Path::new(manifest_dir).join(lit.value());
    let found = read(&dir, &lit.value()).map_err(err)?;
    let dir_str = utf8(&dir).map_err(err)?;
    let items = found.iter().map(|m| {
        let (version, name, up) = (m.version, &m.name, &m.up);
        let down = match &m.down {
            Some(down) => quote!(::core::option::Option::Some(::core::include_str!(#down))),
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::tenant_model::migrate::EmbeddedMigration {
                version: #version,
                name: #name,
                up: ::core::include_str!(#up),
                down: #down,
            }
        }
    });
    Ok(quote! {{
        const MIGRATIONS: &[::tenant_model::migrate::EmbeddedMigration] = &[#(#items),*];
        ::tenant_model::migrate::Migrations::from_embedded(#dir_str, MIGRATIONS)
    }})
}

/// The migrations of `dir`, sorted by version. Messages name paths as
/// `shown` (the macro's literal) joined with what is in it.
fn read(dir: &Path, shown: &str) -> Result<Vec<Found>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot read the migrations folder `{shown}` (relative to the crate's Cargo.toml): {e}"
        )
    })?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read `{shown}`: {e}"))?;
        let path = entry.path();
        let file_name = entry.file_name();
        let name = file_name
            .to_str()
            .ok_or_else(|| format!("{}: the name is not UTF-8", path.display()))?;
        let at = format!("{shown}/{name}");
        if name.starts_with('.') {
            continue;
        }
        if !path.is_dir() {
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                return Err(format!(
                    "`{at}`: a migration is a folder <version>_<name>/ holding up.sql (and down.sql), not a file"
                ));
            }
            continue;
        }
        let (version, migration_name) = parse_folder_name(name).ok_or_else(|| {
            format!(
                "`{at}`: bad migration folder name `{name}`: expected <version>_<name>, a 14-digit \
                 version (YYYYMMDDHHMMSS, UTC), `_`, and a name of a-z, 0-9 and `_`"
            )
        })?;
        let up = path.join("up.sql");
        if !up.is_file() {
            return Err(format!("`{at}`: the migration has no up.sql"));
        }
        let down = path.join("down.sql");
        found.push(Found {
            version,
            name: migration_name.to_owned(),
            up: utf8(&up)?,
            down: if down.is_file() {
                Some(utf8(&down)?)
            } else {
                None
            },
            folder: at,
        });
    }
    found.sort_by_key(|m| m.version);
    if let Some(pair) = found.windows(2).find(|w| w[0].version == w[1].version) {
        return Err(format!(
            "duplicate migration version {}: `{}` and `{}`",
            pair[0].version, pair[0].folder, pair[1].folder
        ));
    }
    Ok(found)
}

fn parse_folder_name(folder: &str) -> Option<(i64, &str)> {
    let (digits, rest) = folder.split_at_checked(VERSION_DIGITS)?;
    let name = rest.strip_prefix('_')?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !name_ok {
        return None;
    }
    Some((digits.parse().ok()?, name))
}

fn utf8(path: &Path) -> Result<String, String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: the path is not UTF-8", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tm_embed_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn expand_dir(dir: &Path) -> Result<String, String> {
        expand(quote!("m"), dir.to_str())
            .map(|t| t.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn folders_become_include_str_by_absolute_path_in_version_order() {
        let dir = temp_dir("ok");
        for (folder, down) in [
            ("20240102000000_second", false),
            ("20240101000000_first", true),
        ] {
            let m = dir.join("m").join(folder);
            std::fs::create_dir_all(&m).unwrap();
            std::fs::write(m.join("up.sql"), "SELECT 1;").unwrap();
            if down {
                std::fs::write(m.join("down.sql"), "SELECT 2;").unwrap();
            }
        }
        std::fs::write(dir.join("m").join("README.md"), "notes").unwrap();
        let out = expand_dir(&dir).unwrap();
        let first = out.find("20240101000000i64").unwrap();
        let second = out.find("20240102000000i64").unwrap();
        assert!(first < second, "{out}");
        assert!(
            out.contains(&format!(
                "{:?}",
                dir.join("m/20240101000000_first/down.sql")
                    .to_str()
                    .unwrap()
            )),
            "{out}"
        );
        assert!(out.contains(":: core :: option :: Option :: None"), "{out}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_folders_are_errors() {
        let dir = temp_dir("bad");
        assert!(expand_dir(&dir)
            .unwrap_err()
            .contains("cannot read the migrations folder"));
        std::fs::create_dir_all(dir.join("m/20240101000000_no_up")).unwrap();
        assert!(expand_dir(&dir).unwrap_err().contains("has no up.sql"));
        std::fs::remove_dir_all(dir.join("m/20240101000000_no_up")).unwrap();
        std::fs::create_dir_all(dir.join("m/2024_bad")).unwrap();
        assert!(expand_dir(&dir)
            .unwrap_err()
            .contains("bad migration folder name `2024_bad`"));
        std::fs::remove_dir_all(dir.join("m/2024_bad")).unwrap();
        for folder in ["20240101000000_a", "20240101000000_b"] {
            std::fs::create_dir_all(dir.join("m").join(folder)).unwrap();
            std::fs::write(dir.join("m").join(folder).join("up.sql"), "").unwrap();
        }
        assert!(expand_dir(&dir)
            .unwrap_err()
            .contains("duplicate migration version 20240101000000"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
