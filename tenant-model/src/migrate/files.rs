//! Migration files: a folder of `<version>_<name>/up.sql` (and `down.sql`),
//! read into [`Migrations`], sorted by version, each with the SHA-256
//! checksum of its `up.sql`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::MigrationError;
use super::script::Script;
use crate::Error;

/// The number of digits of a version (`YYYYMMDDHHMMSS`).
pub const VERSION_DIGITS: usize = 14;

/// One migration: a version, a name, the SQL of `up.sql` and, when there is
/// one, of `down.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    version: i64,
    name: Cow<'static, str>,
    up: Cow<'static, str>,
    down: Option<Cow<'static, str>>,
    checksum: String,
}

impl Migration {
    /// A migration from its parts (what a folder `<version>_<name>/` holds).
    ///
    /// # Errors
    ///
    /// [`MigrationError::Invalid`] for a name outside `[a-z0-9_]+` or a
    /// negative version, [`MigrationError::Directive`] for an unknown
    /// `-- tenant-model:` directive.
    ///
    /// ```
    /// use tenant_model::migrate::Migration;
    ///
    /// let m = Migration::new(20240101000000, "init", "CREATE TABLE t (id int);", Some("DROP TABLE t;"))?;
    /// assert_eq!(m.folder_name(), "20240101000000_init");
    /// assert_eq!(m.checksum().len(), 64);
    /// # Ok::<(), tenant_model::Error>(())
    /// ```
    pub fn new(
        version: i64,
        name: impl Into<Cow<'static, str>>,
        up: impl Into<Cow<'static, str>>,
        down: Option<impl Into<Cow<'static, str>>>,
    ) -> Result<Migration, Error> {
        let name = name.into();
        let folder = format!("{version}_{name}");
        if version < 0 || !valid_name(&name) {
            return Err(MigrationError::Invalid {
                path: PathBuf::from(&folder),
                reason: NAME_RULE.to_owned(),
            }
            .into());
        }
        let migration = Migration::unchecked(version, name, up.into(), down.map(Into::into));
        migration.up_script()?;
        migration.down_script().transpose()?;
        Ok(migration)
    }

    /// A migration whose name the caller checked (the embedding macro).
    fn unchecked(
        version: i64,
        name: Cow<'static, str>,
        up: Cow<'static, str>,
        down: Option<Cow<'static, str>>,
    ) -> Migration {
        let checksum = checksum(up.as_bytes());
        Migration {
            version,
            name,
            up,
            down,
            checksum,
        }
    }

    /// The version (`YYYYMMDDHHMMSS`, UTC).
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The name (the folder name after the version).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `<version>_<name>`, the folder's name.
    pub fn folder_name(&self) -> String {
        format!("{}_{}", self.version, self.name)
    }

    /// The SQL of `up.sql`.
    pub fn up_sql(&self) -> &str {
        &self.up
    }

    /// The SQL of `down.sql`, if there is one.
    pub fn down_sql(&self) -> Option<&str> {
        self.down.as_deref()
    }

    /// The SHA-256 of `up.sql`'s exact bytes, lowercase hex: what the ledger
    /// records and compares.
    pub fn checksum(&self) -> &str {
        &self.checksum
    }

    /// Whether `up.sql` runs outside a transaction (the directive
    /// `-- tenant-model: no-transaction` heads it).
    pub fn no_transaction(&self) -> bool {
        self.up_script().is_ok_and(|s| s.no_transaction)
    }

    /// `up.sql`, its directives read.
    pub(crate) fn up_script(&self) -> Result<Script<'_>, Error> {
        Script::parse(&self.up).map_err(|reason| self.directive_error("up.sql", reason))
    }

    /// `down.sql`, its directives read.
    pub(crate) fn down_script(&self) -> Option<Result<Script<'_>, Error>> {
        self.down.as_deref().map(|down| {
            Script::parse(down).map_err(|reason| self.directive_error("down.sql", reason))
        })
    }

    fn directive_error(&self, file: &str, reason: String) -> Error {
        MigrationError::Directive {
            version: self.version,
            name: self.name.to_string(),
            reason: format!("{file}: {reason}"),
        }
        .into()
    }
}

/// The migrations of a folder, sorted by version.
///
/// From the folder at run time ([`Migrations::from_dir`]) or compiled into
/// the binary ([`embed_migrations!`](crate::embed_migrations)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Migrations {
    migrations: Vec<Migration>,
    dir: Option<PathBuf>,
}

/// One migration as the embedding macro writes it.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    pub version: i64,
    pub name: &'static str,
    pub up: &'static str,
    pub down: Option<&'static str>,
}

impl Migrations {
    /// Reads `dir`: every folder `<version>_<name>` in it is a migration
    /// with an `up.sql` and, optionally, a `down.sql`. Hidden entries and
    /// files whose name does not start with a digit (a README) are skipped.
    ///
    /// # Errors
    ///
    /// [`MigrationError`] inside [`Error::Migration`], naming the path: the
    /// folder cannot be read, a bad folder name, a missing `up.sql`, a file
    /// that is not UTF-8, two folders with one version, an unknown
    /// directive.
    ///
    /// ```no_run
    /// let migrations = tenant_model::migrate::Migrations::from_dir("migrations")?;
    /// for m in migrations.iter() {
    ///     println!("{} {}", m.version(), m.name());
    /// }
    /// # Ok::<(), tenant_model::Error>(())
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrations, Error> {
        let dir = dir.as_ref();
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| MigrationError::Io { path, source }
        };
        let mut found: Vec<(Migration, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let path = entry.path();
            let file_name = entry.file_name();
            let Some(folder) = file_name.to_str() else {
                return Err(invalid(&path, "the name is not UTF-8"));
            };
            if folder.starts_with('.') {
                continue;
            }
            if !entry.file_type().map_err(io(&path))?.is_dir() {
                if folder.starts_with(|c: char| c.is_ascii_digit()) {
                    return Err(invalid(
                        &path,
                        "a migration is a folder <version>_<name>/ holding up.sql (and down.sql), not a file",
                    ));
                }
                continue;
            }
            let (version, name) = parse_folder_name(folder).map_err(|r| invalid(&path, &r))?;
            let up = read_sql(&path.join("up.sql"))?
                .ok_or_else(|| invalid(&path, "the folder has no up.sql"))?;
            let down = read_sql(&path.join("down.sql"))?;
            let migration = Migration::unchecked(
                version,
                name.to_owned().into(),
                up.into(),
                down.map(Into::into),
            );
            migration.up_script()?;
            migration.down_script().transpose()?;
            found.push((migration, path));
        }
        found.sort_by_key(|(m, _)| m.version);
        if let Some(pair) = found.windows(2).find(|w| w[0].0.version == w[1].0.version) {
            return Err(MigrationError::DuplicateVersion {
                version: pair[0].0.version,
                first: pair[0].1.clone(),
                second: pair[1].1.clone(),
            }
            .into());
        }
        Ok(Migrations {
            migrations: found.into_iter().map(|(m, _)| m).collect(),
            dir: Some(dir.to_owned()),
        })
    }

    /// Migrations from a list (sorted here).
    ///
    /// # Errors
    ///
    /// [`MigrationError::DuplicateVersion`] when two share a version.
    pub fn from_vec(mut migrations: Vec<Migration>) -> Result<Migrations, Error> {
        migrations.sort_by_key(|m| m.version);
        if let Some(pair) = migrations.windows(2).find(|w| w[0].version == w[1].version) {
            return Err(MigrationError::DuplicateVersion {
                version: pair[0].version,
                first: PathBuf::from(pair[0].folder_name()),
                second: PathBuf::from(pair[1].folder_name()),
            }
            .into());
        }
        Ok(Migrations {
            migrations,
            dir: None,
        })
    }

    /// What [`embed_migrations!`](crate::embed_migrations) expands to: the
    /// macro has checked the names, the order and the versions.
    #[doc(hidden)]
    pub fn from_embedded(dir: &'static str, list: &[EmbeddedMigration]) -> Migrations {
        Migrations {
            migrations: list
                .iter()
                .map(|m| {
                    Migration::unchecked(
                        m.version,
                        m.name.into(),
                        m.up.into(),
                        m.down.map(Into::into),
                    )
                })
                .collect(),
            dir: Some(PathBuf::from(dir)),
        }
    }

    /// The folder they came from (for embedded ones, where it was at
    /// compile time).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The migrations, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'_, Migration> {
        self.migrations.iter()
    }

    /// The migration with this version.
    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a Migration;
    type IntoIter = std::slice::Iter<'a, Migration>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

const NAME_RULE: &str =
    "a migration folder is named <version>_<name>: a 14-digit version (YYYYMMDDHHMMSS, UTC), `_`, and a name of a-z, 0-9 and `_`";

/// `(version, name)` of a folder named `<14 digits>_<[a-z0-9_]+>`.
pub(crate) fn parse_folder_name(folder: &str) -> Result<(i64, &str), String> {
    let bad = || format!("bad name `{folder}`: {NAME_RULE}");
    let (digits, name) = folder.split_at_checked(VERSION_DIGITS).ok_or_else(bad)?;
    let name = name.strip_prefix('_').ok_or_else(bad)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !valid_name(name) {
        return Err(bad());
    }
    let version = digits.parse().map_err(|_| bad())?;
    Ok((version, name))
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The file's text, `None` if it does not exist.
fn read_sql(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| invalid(path, "the file is not UTF-8")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(MigrationError::Io {
            path: path.to_owned(),
            source,
        }
        .into()),
    }
}

fn invalid(path: &Path, reason: &str) -> Error {
    MigrationError::Invalid {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
    .into()
}

/// SHA-256 of `bytes`, lowercase hex.
pub(crate) fn checksum(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_a_version_and_a_name() {
        assert_eq!(
            parse_folder_name("20240101120000_add_users").unwrap(),
            (20240101120000, "add_users")
        );
        for bad in [
            "2024010112000_short",
            "20240101120000",
            "20240101120000_",
            "20240101120000-x",
            "20240101120000_Add",
            "2024010112000x_x",
            "x",
        ] {
            let err = parse_folder_name(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    /// A temp folder with `(folder, up.sql)` migrations (`None`: no up.sql).
    fn folder(tag: &str, entries: &[(&str, Option<&str>)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tm_files_{tag}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, up) in entries {
            std::fs::create_dir_all(dir.join(name)).unwrap();
            if let Some(up) = up {
                std::fs::write(dir.join(name).join("up.sql"), up).unwrap();
            }
        }
        dir
    }

    fn load_error(dir: &Path) -> String {
        let err = Migrations::from_dir(dir).unwrap_err().to_string();
        std::fs::remove_dir_all(dir).unwrap();
        err
    }

    #[test]
    fn a_folder_reads_sorted_with_down_optional_and_extras_skipped() {
        let dir = folder(
            "ok",
            &[
                ("20240102000000_b", Some("SELECT 2;")),
                ("20240101000000_a", Some("SELECT 1;")),
            ],
        );
        std::fs::write(dir.join("20240101000000_a/down.sql"), "SELECT -1;").unwrap();
        std::fs::write(dir.join("README.md"), "notes").unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        let migrations = Migrations::from_dir(&dir).unwrap();
        let versions: Vec<i64> = migrations.iter().map(Migration::version).collect();
        assert_eq!(versions, [20240101000000, 20240102000000]);
        let a = migrations.get(20240101000000).unwrap();
        assert_eq!(
            (a.name(), a.up_sql(), a.down_sql()),
            ("a", "SELECT 1;", Some("SELECT -1;"))
        );
        assert_eq!(a.checksum(), checksum(b"SELECT 1;"));
        assert_eq!(migrations.get(20240102000000).unwrap().down_sql(), None);
        assert_eq!(migrations.dir(), Some(dir.as_path()));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_folders_are_errors_naming_the_path() {
        let err = load_error(&folder("name", &[("2024_a", Some(""))]));
        assert!(
            err.contains("2024_a") && err.contains("14-digit version"),
            "{err}"
        );
        let err = load_error(&folder("up", &[("20240101000000_a", None)]));
        assert!(
            err.contains("20240101000000_a") && err.contains("no up.sql"),
            "{err}"
        );
        let err = load_error(&folder(
            "dup",
            &[
                ("20240101000000_a", Some("")),
                ("20240101000000_b", Some("")),
            ],
        ));
        assert!(
            err.contains("duplicate migration version 20240101000000"),
            "{err}"
        );
        let err = load_error(&folder(
            "directive",
            &[(
                "20240101000000_a",
                Some("-- tenant-model: no-transation\nSELECT 1;"),
            )],
        ));
        assert!(
            err.contains("20240101000000_a") && err.contains("no-transation"),
            "{err}"
        );
        let dir = folder("file", &[]);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("20240101000000_a.sql"), "SELECT 1;").unwrap();
        assert!(load_error(&dir).contains("not a file"));
        let missing = std::env::temp_dir().join("tm_files_no_such_folder");
        let err = Migrations::from_dir(&missing).unwrap_err().to_string();
        assert!(err.contains("tm_files_no_such_folder"), "{err}");
    }

    #[test]
    fn migrations_from_code_are_checked() {
        assert!(Migration::new(1, "Bad Name", "SELECT 1;", None::<&str>).is_err());
        let m = Migration::new(
            20240101000000,
            "ok",
            "-- tenant-model: no-transaction\nSELECT 1;",
            None::<&str>,
        )
        .unwrap();
        assert!(m.no_transaction());
        let twice = vec![m.clone(), m];
        assert!(Migrations::from_vec(twice).is_err());
    }

    #[test]
    fn the_checksum_is_sha256_hex() {
        assert_eq!(
            checksum(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
