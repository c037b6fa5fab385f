//! Throughput of the simulator's hot path: producing updates and draining them through
//! `getUpdates` (100 per call). Ignored by default; run with
//! `cargo test --release --test sim_load -- --ignored --nocapture`.

use std::time::Instant;

use serde_json::Value;
use tgbox::sim::traffic::TrafficGen;
use tgbox::sim::{CommunitySpec, Sim, SimConfig, build_community};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load test; run explicitly"]
async fn produce_and_drain_throughput() {
    const N: usize = 200_000;
    let sim = Sim::new(SimConfig::default());
    let community = build_community(&sim, 7, CommunitySpec::default());
    let mut generator = TrafficGen::new(community, 7);
    let t0 = Instant::now();
    for _ in 0..N {
        generator.step(&sim);
    }
    let produce = t0.elapsed();
    let total = sim.stats().queued;
    eprintln!(
        "produced {total} updates in {produce:?} ({:.0}/s)",
        total as f64 / produce.as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/bot{}/getUpdates",
        listener.local_addr().unwrap(),
        sim.token()
    );
    let stop = CancellationToken::new();
    tokio::spawn(sim.clone().serve(listener, stop.clone()));
    let http = reqwest::Client::new();
    let t0 = Instant::now();
    let mut offset = 0u64;
    let mut received = 0u64;
    let mut bytes = 0usize;
    loop {
        let body = http
            .post(&url)
            .json(&serde_json::json!({"offset": offset, "limit": 100}))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        bytes += body.len();
        let v: Value = serde_json::from_str(&body).unwrap();
        let result = v["result"].as_array().unwrap();
        let Some(last) = result.last() else { break };
        received += result.len() as u64;
        offset = last["update_id"].as_u64().unwrap() + 1;
    }
    let drain = t0.elapsed();
    stop.cancel();
    eprintln!(
        "drained {received} updates ({} MB) in {drain:?} ({:.0}/s)",
        bytes / 1_000_000,
        received as f64 / drain.as_secs_f64()
    );
    assert_eq!(received, total);
    assert_eq!(sim.delivery_log().len() as u64, total);
}
