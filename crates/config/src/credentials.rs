//! The default account's access key: generated on first start into
//! `<data_dir>/credentials.json` (mode 0600, written atomically), read back on every later start,
//! and printed as the `export AWS_…` lines a user pastes into a shell.
//!
//! The default account id is [`DEFAULT_ACCOUNT_ID`] (`000000000000`), the id LocalStack uses, so
//! tools and docs written for local AWS emulators work unchanged.

use crate::config::is_account_id;
use crate::secret::Secret;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Account id of the default account.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// File name of the default credentials inside the data directory.
pub const CREDENTIALS_FILE: &str = "credentials.json";

/// Version of the `credentials.json` layout written by this code.
const CREDENTIALS_VERSION: u32 = 1;

/// One access key and the account it belongs to. `Debug` hides the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountKey {
    /// The 12-digit account id.
    pub account_id: String,
    /// The access key id (`AKIA…`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
}

/// The on-disk layout of `credentials.json`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    version: u32,
    account_id: String,
    access_key_id: String,
    secret_access_key: Secret,
}

/// A new access key id: `AKIA` followed by 16 upper-case letters and digits (20 characters).
pub fn generate_access_key_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rngs::OsRng;
    let mut id = String::from("AKIA");
    for _ in 0..16 {
        id.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
    }
    id
}

/// A new secret access key: 40 characters of `A-Z a-z 0-9 + /`, like AWS's.
pub fn generate_secret_access_key() -> Secret {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rngs::OsRng;
    let secret: String = (0..40)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    Secret::new(secret)
}

/// Read `<data_dir>/credentials.json`, or create it with a new key for account
/// [`DEFAULT_ACCOUNT_ID`]. Returns the key and whether it was created now.
///
/// Creation is atomic and never replaces an existing file: the key is written to a temporary
/// file (mode 0600), fsynced, then linked into place; if another process won the race, its
/// key is read and returned. A present but unreadable or malformed file is an error (it is
/// never overwritten, since that would change the user's keys).
pub fn load_or_create_default_credentials(data_dir: &Path) -> io::Result<(AccountKey, bool)> {
    let path = data_dir.join(CREDENTIALS_FILE);
    match read_credentials(&path) {
        Ok(key) => return Ok((key, false)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    fs::create_dir_all(data_dir)?;
    let key = AccountKey {
        account_id: DEFAULT_ACCOUNT_ID.to_owned(),
        access_key_id: generate_access_key_id(),
        secret_access_key: generate_secret_access_key(),
    };
    let file = CredentialsFile {
        version: CREDENTIALS_VERSION,
        account_id: key.account_id.clone(),
        access_key_id: key.access_key_id.clone(),
        secret_access_key: key.secret_access_key.clone(),
    };
    let mut body = serde_json::to_vec_pretty(&file).map_err(io::Error::other)?;
    body.push(b'\n');
    if write_new_file_atomically(&path, &body)? {
        tracing::info!(path = %path.display(), account = %key.account_id, access_key_id = %key.access_key_id, "default credentials created");
        Ok((key, true))
    } else {
        Ok((read_credentials(&path)?, false))
    }
}

/// The shell lines that point an AWS SDK or CLI at this server, each ending in a newline:
/// `export AWS_ACCESS_KEY_ID=…`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`, `AWS_DEFAULT_REGION`.
pub fn export_lines(key: &AccountKey, endpoint_url: &str, region: &str) -> String {
    format!(
        "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\nexport AWS_ENDPOINT_URL={}\nexport AWS_DEFAULT_REGION={}\n",
        key.access_key_id,
        key.secret_access_key.expose(),
        endpoint_url,
        region
    )
}

fn invalid(path: &Path, message: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {message}", path.display()),
    )
}

fn read_credentials(path: &Path) -> io::Result<AccountKey> {
    let bytes = fs::read(path)?;
    let file: CredentialsFile = serde_json::from_slice(&bytes).map_err(|err| invalid(path, err))?;
    if file.version != CREDENTIALS_VERSION {
        return Err(invalid(
            path,
            format!(
                "unsupported version {} (expected {CREDENTIALS_VERSION})",
                file.version
            ),
        ));
    }
    if !is_account_id(&file.account_id) {
        return Err(invalid(path, "account_id is not a 12-digit account id"));
    }
    if file.access_key_id.len() < 16
        || !file
            .access_key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    {
        return Err(invalid(
            path,
            "access_key_id must be at least 16 letters and digits",
        ));
    }
    if file.secret_access_key.expose().is_empty() {
        return Err(invalid(path, "secret_access_key is empty"));
    }
    warn_if_readable_by_others(path);
    Ok(AccountKey {
        account_id: file.account_id,
        access_key_id: file.access_key_id,
        secret_access_key: file.secret_access_key,
    })
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "credentials file is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Write `body` to `path` only if `path` does not exist yet: temp file (0600) + fsync + link
/// (or rename where links are unsupported) + directory fsync. Returns false if `path` existed.
fn write_new_file_atomically(path: &Path, body: &[u8]) -> io::Result<bool> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp: PathBuf = dir.join(format!(
        ".{}.tmp-{}-{:08x}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(body)?;
        file.sync_all()?;
        drop(file);
        let created = match fs::hard_link(&tmp, path) {
            Ok(()) => true,
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => false,
            Err(_) if !path.exists() => {
                // The file system has no hard links: rename (may replace a file created in
                // the meantime by a concurrent start, which is then the one both report).
                fs::rename(&tmp, path)?;
                true
            }
            Err(err) => return Err(err),
        };
        sync_dir(dir)?;
        Ok(created)
    })();
    let _ = fs::remove_file(&tmp);
    result
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_look_like_aws() {
        for _ in 0..20 {
            let id = generate_access_key_id();
            assert_eq!(id.len(), 20);
            assert!(id.starts_with("AKIA"));
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
            let secret = generate_secret_access_key();
            assert_eq!(secret.expose().len(), 40);
            assert!(secret
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'));
        }
        assert_ne!(generate_access_key_id(), generate_access_key_id());
    }

    #[test]
    fn create_then_reload() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data"); // does not exist yet
        let (key, created) = load_or_create_default_credentials(&data_dir).unwrap();
        assert!(created);
        assert_eq!(key.account_id, DEFAULT_ACCOUNT_ID);
        assert_eq!(key.access_key_id.len(), 20);

        let (again, created) = load_or_create_default_credentials(&data_dir).unwrap();
        assert!(!created);
        assert_eq!(again, key);

        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(&data_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![CREDENTIALS_FILE.to_owned()]);

        let text = fs::read_to_string(data_dir.join(CREDENTIALS_FILE)).unwrap();
        assert!(text.contains(&key.access_key_id));
        assert!(text.contains(key.secret_access_key.expose()));
        assert!(!format!("{key:?}").contains(key.secret_access_key.expose()));
    }

    #[cfg(unix)]
    #[test]
    fn file_mode_is_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create_default_credentials(dir.path()).unwrap();
        let mode = fs::metadata(dir.path().join(CREDENTIALS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn malformed_file_is_an_error_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CREDENTIALS_FILE);
        fs::write(&path, "{ not json").unwrap();
        let err = load_or_create_default_credentials(dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(CREDENTIALS_FILE), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "{ not json");
    }

    #[test]
    fn existing_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CREDENTIALS_FILE);
        assert!(write_new_file_atomically(&path, b"first").unwrap());
        assert!(!write_new_file_atomically(&path, b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
    }

    #[test]
    fn export_lines_exact() {
        let key = AccountKey {
            account_id: DEFAULT_ACCOUNT_ID.into(),
            access_key_id: "AKIAABCDEFGHIJKLMNOP".into(),
            secret_access_key: Secret::new("abcdEFGH1234/+abcdEFGH1234/+abcdEFGH1234"),
        };
        let config = crate::Config {
            listen: "0.0.0.0:4566".parse().unwrap(),
            ..crate::Config::default()
        };
        assert_eq!(
            export_lines(&key, &config.endpoint_url(), &config.region),
            "export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP\n\
             export AWS_SECRET_ACCESS_KEY=abcdEFGH1234/+abcdEFGH1234/+abcdEFGH1234\n\
             export AWS_ENDPOINT_URL=http://127.0.0.1:4566\n\
             export AWS_DEFAULT_REGION=us-east-1\n"
        );
    }
}
