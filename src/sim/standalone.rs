//! Running the simulator as its own process (`tgbox sim --listen ADDR`).

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

use super::traffic::{CommunitySpec, build_community, run_traffic};
use super::{Sim, SimConfig};

/// Options of a standalone simulator.
#[derive(Clone, Debug)]
pub struct StandaloneOptions {
    /// Where to listen; should be a loopback address (the control API has no authentication).
    pub listen: SocketAddr,
    pub config: SimConfig,
    /// Create this community (users, groups, a forum, a channel) before serving.
    pub community: Option<CommunitySpec>,
    pub seed: u64,
    /// Generated actions per second once the community exists; 0 = none.
    pub rate_per_sec: f64,
}

impl Default for StandaloneOptions {
    fn default() -> Self {
        StandaloneOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            config: SimConfig::default(),
            community: None,
            seed: 1,
            rate_per_sec: 0.0,
        }
    }
}

/// Binds `options.listen`, optionally builds a community and runs traffic, and serves the Bot
/// API and the control API until `shutdown` is cancelled.
pub async fn run_standalone(
    options: StandaloneOptions,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if !options.listen.ip().is_loopback() {
        tracing::warn!(
            listen = %options.listen,
            "the simulator's control API has no authentication; prefer a loopback address"
        );
    }
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let sim = Sim::new(options.config);
    tracing::info!(
        api_url = %format!("http://{addr}/"),
        token = sim.token(),
        control = %format!("http://{addr}/control/"),
        "simulated Telegram ready"
    );
    if let Some(spec) = options.community {
        let community = build_community(&sim, options.seed, spec);
        tracing::info!(
            users = community.users.len(),
            groups = community.chats.len(),
            "community created"
        );
        if options.rate_per_sec > 0.0 {
            tokio::spawn(run_traffic(
                sim.clone(),
                community,
                options.rate_per_sec,
                None,
                options.seed,
                shutdown.child_token(),
            ));
        }
    }
    sim.serve(listener, shutdown).await
}
