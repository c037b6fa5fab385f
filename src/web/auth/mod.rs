//! Dashboard authentication: the admin password (argon2id, [`credentials`]), in-memory
//! sessions with a CSRF token each, the one-time setup token, and the per-address login
//! throttle. Sessions live in memory: a restart logs everyone out.

pub mod credentials;
pub mod guard;
pub mod routes;

use rand::RngCore;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the setup link printed at first start stays valid.
pub const SETUP_TTL: Duration = Duration::from_secs(30 * 60);
/// Sessions kept at most; the oldest goes first.
const MAX_SESSIONS: usize = 256;
/// Failures allowed before an address is locked out.
const FREE_FAILURES: u32 = 5;
/// First lockout; doubles with every further failure, up to `MAX_LOCKOUT`.
const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
const FAILURE_MEMORY: Duration = Duration::from_secs(15 * 60);

/// 32 random bytes as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compare without an early exit on the first differing byte.
pub fn ct_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Clone, Debug)]
pub struct Session {
    pub csrf: String,
    pub expires: Instant,
}

struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Why a login attempt is not even checked.
#[derive(Debug, PartialEq, Eq)]
pub enum Throttled {
    /// Try again after this long.
    RetryAfter(Duration),
}

pub struct Auth {
    data_dir: PathBuf,
    session_ttl: Duration,
    hash: Mutex<Option<String>>,
    sessions: Mutex<HashMap<String, Session>>,
    setup: Mutex<Option<(String, Instant)>>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl Auth {
    /// `hash`: the stored admin password hash, if any.
    pub fn new(data_dir: PathBuf, hash: Option<String>, session_ttl: Duration) -> Self {
        Auth {
            data_dir,
            session_ttl,
            hash: Mutex::new(hash),
            sessions: Mutex::new(HashMap::new()),
            setup: Mutex::new(None),
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn has_password(&self) -> bool {
        self.hash.lock().map(|h| h.is_some()).unwrap_or(false)
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    pub fn password_hash(&self) -> Option<String> {
        self.hash.lock().ok().and_then(|h| h.clone())
    }

    pub fn set_hash(&self, hash: String) {
        if let Ok(mut h) = self.hash.lock() {
            *h = Some(hash);
        }
    }

    /// Create the one-time setup token (valid [`SETUP_TTL`]).
    pub fn new_setup_token(&self) -> String {
        let token = random_token();
        if let Ok(mut s) = self.setup.lock() {
            *s = Some((token.clone(), Instant::now() + SETUP_TTL));
        }
        token
    }

    /// Whether `token` is the live setup token (not consumed).
    pub fn setup_token_valid(&self, token: &str) -> bool {
        match self.setup.lock() {
            Ok(s) => matches!(&*s, Some((t, until)) if Instant::now() < *until && ct_eq(t, token)),
            Err(_) => false,
        }
    }

    /// Consume the setup token if `token` is it.
    pub fn take_setup_token(&self, token: &str) -> bool {
        let Ok(mut s) = self.setup.lock() else {
            return false;
        };
        let ok = matches!(&*s, Some((t, until)) if Instant::now() < *until && ct_eq(t, token));
        if ok {
            *s = None;
        }
        ok
    }

    /// Start a session; returns its cookie value.
    pub fn create_session(&self) -> String {
        let token = random_token();
        if let Ok(mut sessions) = self.sessions.lock() {
            let now = Instant::now();
            sessions.retain(|_, s| s.expires > now);
            if sessions.len() >= MAX_SESSIONS
                && let Some(oldest) = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.expires)
                    .map(|(k, _)| k.clone())
            {
                sessions.remove(&oldest);
            }
            sessions.insert(
                token.clone(),
                Session {
                    csrf: random_token(),
                    expires: now + self.session_ttl,
                },
            );
        }
        token
    }

    /// The live session for a cookie value.
    pub fn session(&self, token: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock().ok()?;
        match sessions.get(token) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                sessions.remove(token);
                None
            }
            None => None,
        }
    }

    pub fn end_session(&self, token: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(token);
        }
    }

    /// Whether `ip` may try a password now.
    pub fn check_throttle(&self, ip: IpAddr) -> Result<(), Throttled> {
        let Ok(mut f) = self.failures.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        f.retain(|_, v| now.duration_since(v.last) < FAILURE_MEMORY.max(MAX_LOCKOUT));
        match f.get(&ip).and_then(|v| v.locked_until) {
            Some(until) if until > now => Err(Throttled::RetryAfter(until - now)),
            _ => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: IpAddr) {
        let Ok(mut f) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        let entry = f.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        entry.count += 1;
        entry.last = now;
        if entry.count >= FREE_FAILURES {
            let extra = (entry.count - FREE_FAILURES).min(10);
            let lock = (FIRST_LOCKOUT * 2u32.pow(extra)).min(MAX_LOCKOUT);
            entry.locked_until = Some(now + lock);
            tracing::warn!(%ip, failures = entry.count, lock_secs = lock.as_secs(), "dashboard login locked for this address");
        }
    }

    pub fn record_success(&self, ip: IpAddr) {
        if let Ok(mut f) = self.failures.lock() {
            f.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_setup_and_throttle() {
        let auth = Auth::new(PathBuf::from("/nonexistent"), None, Duration::from_secs(60));
        assert!(!auth.has_password());
        let s = auth.create_session();
        assert!(auth.session(&s).is_some());
        assert!(auth.session("nope").is_none());
        auth.end_session(&s);
        assert!(auth.session(&s).is_none());

        let t = auth.new_setup_token();
        assert!(auth.setup_token_valid(&t));
        assert!(!auth.take_setup_token("wrong"));
        assert!(auth.take_setup_token(&t));
        assert!(!auth.setup_token_valid(&t));

        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FREE_FAILURES - 1 {
            auth.record_failure(ip);
            assert!(auth.check_throttle(ip).is_ok());
        }
        auth.record_failure(ip);
        assert!(auth.check_throttle(ip).is_err());
        assert!(auth.check_throttle("10.0.0.2".parse().unwrap()).is_ok());
        assert!(ct_eq("abc", "abc") && !ct_eq("abc", "abd") && !ct_eq("a", "ab"));
    }

    #[test]
    fn expired_session_is_gone() {
        let auth = Auth::new(PathBuf::from("/x"), None, Duration::ZERO);
        let s = auth.create_session();
        assert!(auth.session(&s).is_none());
    }
}
