//! The traffic generator: determinism, content mix and pacing.

use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::*;

#[test]
fn generator_is_deterministic_and_bilingual() {
    let run = |seed: u64| {
        let sim = Sim::new(SimConfig::default());
        let community = build_community(&sim, seed, CommunitySpec::default());
        let mut generator = traffic::TrafficGen::new(community, seed);
        for _ in 0..3000 {
            generator.step(&sim);
        }
        let report = generator.report().clone();
        let json: Vec<String> = sim
            .lock()
            .queue
            .pending_json()
            .iter()
            .map(|s| s.to_string())
            .collect();
        (json, report)
    };
    // Dates come from the clock; everything else must be identical.
    fn without_dates(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("date");
                m.remove("edit_date");
                m.values_mut().for_each(without_dates);
            }
            Value::Array(items) => items.iter_mut().for_each(without_dates),
            _ => {}
        }
    }
    let normalized = |updates: &[String]| -> Vec<Value> {
        updates
            .iter()
            .map(|s| {
                let mut v: Value = serde_json::from_str(s).unwrap();
                without_dates(&mut v);
                v
            })
            .collect()
    };
    let (a, ra) = run(42);
    let (b, rb) = run(42);
    assert!(
        normalized(&a) == normalized(&b),
        "same seed, different traffic"
    );
    assert_eq!(ra, rb);
    let (c, _) = run(43);
    assert!(normalized(&a) != normalized(&c));
    let all: String = a.join("\n");
    assert!(all.contains('\u{200c}'), "ZWNJ expected");
    assert!(all.contains("new_chat_members"));
    assert!(all.contains("edited_message"));
    assert!(all.contains("channel_post"));
    assert!(all.contains("\"photo\""));
    assert!(all.contains("reply_to_message"));
    assert!(all.contains("bot_command"));
    assert!(
        ra.replies > 100 && ra.edits > 30 && ra.media > 100 && ra.commands > 20,
        "{ra:?}"
    );
    assert_eq!(ra.errors, 0, "{ra:?}");
}

#[tokio::test]
async fn run_traffic_paces_messages() {
    let sim = Sim::new(SimConfig::default());
    let community = build_community(&sim, 1, CommunitySpec::default());
    let before = sim.stats().produced;
    let report = run_traffic(
        sim.clone(),
        community,
        2000.0,
        Some(Duration::from_millis(500)),
        1,
        CancellationToken::new(),
    )
    .await;
    let produced = sim.stats().produced - before;
    let actions = report.messages + report.edits + report.joins + report.leaves;
    assert_eq!(produced, actions);
    assert!(
        (800..=1100).contains(&actions),
        "{actions} actions in 0.5 s at 2000/s"
    );
}
