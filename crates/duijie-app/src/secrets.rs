//! Webhook signing secrets encrypted at rest: ChaCha20-Poly1305 (ring, which the TLS stack
//! already carries) with a random nonce per value, stored as
//! `enc:v1:<key id>:<hex nonce + ciphertext + tag>`. The key comes from `[alerts]
//! secret_key` (64 hex digits; set `DUIJIE__ALERTS__SECRET_KEY` rather than a file). When
//! none is set, a key made at first start is kept in the database (`server_keys`), so every
//! server on one database opens what another sealed; that protects copies of the secrets
//! table, not a copy of the whole database — production sets its own key.
//!
//! Rotation: put the new key in `secret_key` and the old one in `previous_secret_keys`,
//! restart, run `duijie admin rotate-webhook-secrets` (every secret is sealed again under
//! the new key), then drop the old key. Values written before encryption existed are read
//! as they are and sealed by the same command.

use crate::auth::sha256_hex;
use crate::error::AppError;
use crate::settings::Settings;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

const PREFIX: &str = "enc:v1:";
/// Name of the key kept in the database when none is configured.
pub const STORED_KEY: &str = "webhook_secrets";

struct Key {
    id: String,
    key: LessSafeKey,
}

/// The keys: the current one seals, every one opens.
pub struct SecretBox {
    current: Key,
    previous: Vec<Key>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the keys
        f.debug_struct("SecretBox")
            .field("current", &self.current.id)
            .field("previous", &self.previous.len())
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn key(hex_key: &str, what: &str) -> Result<Key, String> {
    let bytes = unhex(hex_key.trim())
        .filter(|b| b.len() == 32)
        .ok_or_else(|| format!("{what} must be 64 hexadecimal digits (32 bytes)"))?;
    let unbound =
        UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| format!("{what} is unusable"))?;
    Ok(Key {
        id: sha256_hex(hex_key.trim())[..8].to_string(),
        key: LessSafeKey::new(unbound),
    })
}

fn random(n: usize) -> Result<Vec<u8>, AppError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(b)
}

impl SecretBox {
    /// The keys the settings name; `stored` is the database's own key, used when the
    /// settings name none.
    pub fn from_settings(s: &Settings, stored: Option<&str>) -> Result<SecretBox, String> {
        let a = &s.alerts;
        let current = match (a.secret_key.trim(), stored) {
            ("", Some(k)) => key(k, "the stored webhook key")?,
            ("", None) => {
                return Err("alerts.secret_key is not set and no stored key was given".into());
            }
            (k, _) => key(k, "alerts.secret_key")?,
        };
        let previous = a
            .previous_secret_keys
            .split(',')
            .filter(|k| !k.trim().is_empty())
            .map(|k| key(k, "alerts.previous_secret_keys"))
            .collect::<Result<_, _>>()?;
        Ok(SecretBox { current, previous })
    }

    /// A fresh key (64 hex digits) for the database to keep.
    pub fn fresh_key() -> Result<String, AppError> {
        Ok(hex(&random(32)?))
    }

    /// Seals a secret under the current key.
    pub fn seal(&self, plain: &str) -> Result<String, AppError> {
        let nonce_bytes = random(NONCE_LEN)?;
        let mut nb = [0u8; NONCE_LEN];
        nb.copy_from_slice(&nonce_bytes);
        let mut data = plain.as_bytes().to_vec();
        self.current
            .key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nb), Aad::empty(), &mut data)
            .map_err(|_| AppError::Internal("sealing a secret failed".into()))?;
        Ok(format!(
            "{PREFIX}{}:{}{}",
            self.current.id,
            hex(&nb),
            hex(&data)
        ))
    }

    /// Opens a stored secret (a value from before encryption is returned as it is).
    pub fn open(&self, stored: &str) -> Result<String, AppError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bad = |why: &str| AppError::Internal(format!("a stored webhook secret {why}"));
        let (id, body) = rest.split_once(':').ok_or_else(|| bad("is malformed"))?;
        let k = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| {
                bad("was sealed with a key that is not configured (alerts.previous_secret_keys)")
            })?;
        let bytes = unhex(body).ok_or_else(|| bad("is malformed"))?;
        if bytes.len() < NONCE_LEN {
            return Err(bad("is malformed"));
        }
        let (n, ct) = bytes.split_at(NONCE_LEN);
        let mut nb = [0u8; NONCE_LEN];
        nb.copy_from_slice(n);
        let mut data = ct.to_vec();
        let plain = k
            .key
            .open_in_place(Nonce::assume_unique_for_key(nb), Aad::empty(), &mut data)
            .map_err(|_| bad("does not open with its key"))?;
        String::from_utf8(plain.to_vec()).map_err(|_| bad("is not text"))
    }

    /// Whether a stored value should be sealed again (plain, or under an older key).
    pub fn stale(&self, stored: &str) -> bool {
        match stored.strip_prefix(PREFIX).and_then(|r| r.split_once(':')) {
            Some((id, _)) => id != self.current.id,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(key: &str, previous: &[&str]) -> Settings {
        let mut s = Settings::defaults();
        s.alerts.secret_key = key.into();
        s.alerts.previous_secret_keys = previous.join(",");
        s
    }

    const K1: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const K2: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_rotate() {
        let b1 = SecretBox::from_settings(&settings(K1, &[]), None).unwrap();
        let sealed = b1.seal("whsec_abc").unwrap();
        assert!(
            sealed.starts_with("enc:v1:") && !sealed.contains("whsec_abc"),
            "{sealed}"
        );
        assert_ne!(
            sealed,
            b1.seal("whsec_abc").unwrap(),
            "a fresh nonce each time"
        );
        assert_eq!(b1.open(&sealed).unwrap(), "whsec_abc");
        assert!(!b1.stale(&sealed));
        // the next key: old values still open, and are stale until sealed again
        let b2 = SecretBox::from_settings(&settings(K2, &[K1]), Some(K1)).unwrap();
        assert_eq!(b2.open(&sealed).unwrap(), "whsec_abc");
        assert!(b2.stale(&sealed));
        let again = b2.seal(&b2.open(&sealed).unwrap()).unwrap();
        assert!(!b2.stale(&again));
        // without the old key it is a clear error, never the wrong secret
        let only2 = SecretBox::from_settings(&settings(K2, &[]), None).unwrap();
        assert!(
            only2
                .open(&sealed)
                .unwrap_err()
                .to_string()
                .contains("previous_secret_keys")
        );
        // tampering is caught
        let mut t = again.clone();
        let last = t.pop().unwrap();
        t.push(if last == '0' { '1' } else { '0' });
        assert!(b2.open(&t).is_err());
        // values from before encryption pass through and are stale
        assert_eq!(b2.open("whsec_old").unwrap(), "whsec_old");
        assert!(b2.stale("whsec_old"));
        assert!(!format!("{b2:?}").contains(K2), "keys never show in logs");
    }

    #[test]
    fn bad_keys_are_named_and_the_stored_key_serves_when_none_is_set() {
        let e = SecretBox::from_settings(&settings("abc", &[]), None).unwrap_err();
        assert!(e.contains("alerts.secret_key"), "{e}");
        let e = SecretBox::from_settings(&settings(K1, &["xyz"]), None).unwrap_err();
        assert!(e.contains("previous_secret_keys"), "{e}");
        let stored = SecretBox::fresh_key().unwrap();
        let b = SecretBox::from_settings(&settings("", &[]), Some(&stored)).unwrap();
        let sealed = b.seal("x").unwrap();
        // another server on the same database
        let other = SecretBox::from_settings(&settings("", &[]), Some(&stored)).unwrap();
        assert_eq!(other.open(&sealed).unwrap(), "x");
        // a configured key wins over the stored one
        let own = SecretBox::from_settings(&settings(K1, &[]), Some(&stored)).unwrap();
        assert!(own.stale(&sealed));
    }
}
