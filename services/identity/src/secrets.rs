//! Secrets: the server key that signs cookies, session and API-token secrets, and passwords.
//!
//! The server key is 32 random bytes in `DATA_DIR/secret.key` (mode 0600), made on first start.
//! Session and token secrets are random; only their SHA-256 goes into the log. Passwords are
//! hashed with argon2id.

use std::io::Write as _;
use std::path::Path;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

/// Prefix of every API token, so a leaked one is easy to recognise in a scan.
pub const TOKEN_PREFIX: &str = "heard_";

/// The server key.
#[derive(Clone)]
pub struct Secrets {
    key: [u8; 32],
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

impl Secrets {
    /// Reads `DIR/secret.key`, creating it (readable by the owner only) if it is missing.
    pub fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join("secret.key");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "secret.key is not 32 bytes"))?;
                Ok(Secrets { key })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir)?;
                let key = random_bytes();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path)?;
                file.write_all(&key)?;
                file.sync_all()?;
                Ok(Secrets { key })
            }
            Err(error) => Err(error),
        }
    }

    /// A key for tests.
    pub fn from_key(key: [u8; 32]) -> Self {
        Secrets { key }
    }

    fn mac(&self, purpose: &str, payload: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The cookie value for a session: `session.secret.signature`.
    pub fn session_cookie(&self, session: Uuid, secret: &[u8]) -> String {
        let payload = format!("{}.{}", session.simple(), URL_SAFE_NO_PAD.encode(secret));
        let signature = URL_SAFE_NO_PAD.encode(self.mac("session", &payload));
        format!("{payload}.{signature}")
    }

    /// Checks a cookie's signature and returns the session id and secret it carries.
    pub fn open_session_cookie(&self, value: &str) -> Option<(Uuid, Vec<u8>)> {
        let (payload, signature) = value.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        if !bool::from(self.mac("session", payload).ct_eq(&signature)) {
            return None;
        }
        let (session, secret) = payload.split_once('.')?;
        Some((Uuid::parse_str(session).ok()?, URL_SAFE_NO_PAD.decode(secret).ok()?))
    }

    /// The CSRF token of a session: forms and cookie-authenticated GraphQL posts must carry it.
    pub fn csrf_token(&self, session: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("csrf", &session.simple().to_string()))
    }

    /// The token a login form carries for the visit named by its `heard_login` cookie: a page
    /// on another site can neither read the cookie nor work out the token.
    pub fn login_token(&self, visit: Uuid) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("login", &visit.simple().to_string()))
    }

    pub fn login_token_matches(&self, visit: Uuid, given: &str) -> bool {
        bool::from(self.login_token(visit).as_bytes().ct_eq(given.as_bytes()))
    }

    /// The value of a flash cookie carrying `payload` for `session`: `payload.signature`, the
    /// payload in base64url and the signature an HMAC of the session id and the payload. A page
    /// on another site can neither read the server key nor set an HttpOnly cookie of ours, and
    /// a value made for one session does not open for another.
    pub fn flash_cookie(&self, session: Uuid, payload: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(self.mac("flash", &format!("{}.{payload}", session.simple())));
        format!("{payload}.{signature}")
    }

    /// The payload of a flash cookie, when it was made for `session` by this server.
    pub fn open_flash_cookie(&self, session: Uuid, value: &str) -> Option<String> {
        let (payload, signature) = value.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let expected = self.mac("flash", &format!("{}.{payload}", session.simple()));
        if !bool::from(expected.ct_eq(&signature)) {
            return None;
        }
        String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    /// What the saved directory indexes an account's email by: HMAC-SHA256 of the email (as
    /// normalised by the caller) under the server key, in hex. Neither reversed nor a guess
    /// tested without `secret.key`, which is never saved with the model.
    pub fn email_key(&self, email: &str) -> String {
        hex::encode(self.mac("account email", email))
    }

    /// Names the server key an email index was made under, without revealing it: an index
    /// made under another key is made again.
    pub fn email_index_id(&self) -> String {
        hex::encode(&self.mac("account email index", "")[..16])
    }

    /// What login throttling keys a client's address by, shared between replicas: HMAC-SHA256
    /// of the address under the server key, in hex (an address is personal data too).
    pub fn address_key(&self, address: std::net::IpAddr) -> String {
        hex::encode(self.mac("login address", &address.to_string()))
    }

    /// Names the server key without revealing it, so that replicas over one database can
    /// check they all hold the same one.
    pub fn key_id(&self) -> String {
        hex::encode(&self.mac("server key id", "")[..16])
    }

    /// A key for another part of Heard, for `purpose` alone: HMAC-SHA256 of the purpose under the
    /// server key. Every replica holding the same `secret.key` derives the same key, and the
    /// server key cannot be worked out from it. Spreadsheet drafts kept in PostgreSQL are sealed
    /// under keys derived from `derived_key("import drafts")` (see heard-feedback's
    /// `imports::postgres`).
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        let mut key = [0; 32];
        key.copy_from_slice(&self.mac("derived key", purpose));
        key
    }

    pub fn csrf_matches(&self, session: Uuid, given: &str) -> bool {
        bool::from(self.csrf_token(session).as_bytes().ct_eq(given.as_bytes()))
    }
}

/// 32 bytes from the operating system's random source.
pub fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    bytes
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A new API token secret, as shown once to its owner.
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes()))
}

/// A password people can read aloud and type: five groups of four from an alphabet without
/// look-alikes (about 100 bits).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bytes = random_bytes();
    let chars: Vec<char> = bytes.iter().take(20).map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// An argon2id hash in PHC form. Slow on purpose: call it off the async threads.
pub fn hash_password(password: &str) -> Result<String, String> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| format!("cannot hash a password: {error}"))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    argon2::Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_cookie_opens_only_with_its_own_signature() {
        let secrets = Secrets::from_key([7; 32]);
        let session = Uuid::new_v4();
        let cookie = secrets.session_cookie(session, b"secret-bytes");
        assert_eq!(secrets.open_session_cookie(&cookie), Some((session, b"secret-bytes".to_vec())));
        let mut forged = cookie.clone();
        forged.replace_range(0..1, if cookie.starts_with('a') { "b" } else { "a" });
        assert_eq!(secrets.open_session_cookie(&forged), None);
        assert_eq!(Secrets::from_key([8; 32]).open_session_cookie(&cookie), None);
    }

    #[test]
    fn a_flash_opens_only_for_the_session_it_was_made_for_and_only_unaltered() {
        let secrets = Secrets::from_key([7; 32]);
        let (mine, theirs) = (Uuid::new_v4(), Uuid::new_v4());
        let value = secrets.flash_cookie(mine, "Shared. It has left the queue.");
        assert_eq!(secrets.open_flash_cookie(mine, &value).as_deref(), Some("Shared. It has left the queue."));
        assert_eq!(secrets.open_flash_cookie(theirs, &value), None, "another session's flash does not open");
        assert_eq!(Secrets::from_key([8; 32]).open_flash_cookie(mine, &value), None, "another server's neither");
        let (payload, signature) = value.split_once('.').unwrap();
        let forged = format!("{}.{signature}", URL_SAFE_NO_PAD.encode("Your account is locked. Call 0800 …"));
        assert_ne!(forged.split_once('.').unwrap().0, payload);
        assert_eq!(secrets.open_flash_cookie(mine, &forged), None, "a message put in by hand does not open");
        for junk in ["", ".", "abc", "abc.", ".abc", "%%%.%%%"] {
            assert_eq!(secrets.open_flash_cookie(mine, junk), None, "{junk:?}");
        }
        assert!(value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "a plain cookie value");
    }

    #[test]
    fn a_derived_key_is_the_same_for_the_same_server_key_and_purpose_only() {
        let secrets = Secrets::from_key([7; 32]);
        assert_eq!(secrets.derived_key("import drafts"), Secrets::from_key([7; 32]).derived_key("import drafts"));
        assert_ne!(secrets.derived_key("import drafts"), secrets.derived_key("something else"));
        assert_ne!(secrets.derived_key("import drafts"), Secrets::from_key([8; 32]).derived_key("import drafts"));
        assert_ne!(secrets.derived_key("import drafts"), [7; 32], "never the server key itself");
    }

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
    }

    #[test]
    fn generated_passwords_are_long_enough_to_be_accepted() {
        let password = generate_password();
        assert_eq!(password.len(), 24);
        assert!(crate::domain::password("password", &password).is_ok());
    }
}
