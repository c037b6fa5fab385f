//! What the dashboard handlers share.

use super::auth::Auth;
use crate::config::Secret;
use crate::service::MaintenanceService;
use crate::store::SharedStore;
use crate::telemetry::{LogRing, Monitor, Registry};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct WebSettings {
    /// Mark cookies `Secure`.
    pub secure_cookies: bool,
    /// Bearer token accepted on `/metrics`.
    pub metrics_token: Option<Secret>,
    pub data_dir: PathBuf,
    /// Login lifetime.
    pub session_ttl: std::time::Duration,
}

#[derive(Clone)]
pub struct WebState {
    pub store: SharedStore,
    pub registry: Arc<Registry>,
    pub monitor: Arc<Monitor>,
    pub logs: LogRing,
    pub auth: Arc<Auth>,
    /// Compaction, its last results and the cleanup slot (the Storage page); `None` in setups
    /// without it (the page then offers no buttons).
    pub maintenance: Option<Arc<MaintenanceService>>,
    pub settings: Arc<WebSettings>,
}

impl WebState {
    /// Run a blocking store call off the async workers.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(SharedStore) -> T + Send + 'static,
    ) -> Option<T> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store)).await.ok()
    }
}
