//! Fault injection into Bot API answers.

use serde::{Deserialize, Serialize};

/// What a faulted request gets instead of (or before) its normal answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// 429 with `parameters.retry_after`.
    TooManyRequests { retry_after: u32 },
    /// A 5xx status with a Telegram-like JSON body.
    ServerError { status: u16 },
    /// The normal answer, after a delay.
    Slow { delay_ms: u64 },
    /// The connection is closed without an HTTP response.
    DropConnection,
    /// 200 with a body that is not JSON.
    MalformedBody,
    /// 403 with this description, e.g. "Forbidden: bot was blocked by the user".
    Forbidden { description: String },
}

fn one() -> u32 {
    1
}

/// One rule of a [`FaultPlan`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The Bot API method (case-insensitive); `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests whose `chat_id` is this chat match, when set.
    #[serde(default)]
    pub chat_id: Option<i64>,
    pub fault: Fault,
    /// How many requests the fault is applied to before the rule is used up; 0 = unlimited.
    #[serde(default = "one")]
    pub times: u32,
    /// Apply to every Nth matching request (1 = each).
    #[serde(default = "one")]
    pub every: u32,
}

impl FaultRule {
    /// A rule applying `fault` once to the next request of `method` (any method when `None`).
    pub fn once(method: Option<&str>, fault: Fault) -> FaultRule {
        FaultRule {
            method: method.map(str::to_owned),
            chat_id: None,
            fault,
            times: 1,
            every: 1,
        }
    }
}

/// Rules tried in order; the first rule that fires decides the request's fault.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultPlan {
    pub rules: Vec<FaultRule>,
}

struct RuleState {
    rule: FaultRule,
    method_lc: Option<String>,
    seen: u32,
    applied: u32,
}

/// The live fault plan with per-rule counters.
#[derive(Default)]
pub(crate) struct Faults {
    rules: Vec<RuleState>,
}

impl Faults {
    pub fn set(&mut self, plan: FaultPlan) {
        self.rules = plan
            .rules
            .into_iter()
            .map(|rule| RuleState {
                method_lc: rule.method.as_ref().map(|m| m.to_ascii_lowercase()),
                rule,
                seen: 0,
                applied: 0,
            })
            .collect();
    }

    /// The fault for a request of `method_lc` (lowercase) to `chat_id`, counting it.
    pub fn take(&mut self, method_lc: &str, chat_id: Option<i64>) -> Option<Fault> {
        if self.rules.is_empty() {
            return None;
        }
        for r in &mut self.rules {
            let used_up = r.rule.times != 0 && r.applied >= r.rule.times;
            let method_ok = r.method_lc.as_deref().is_none_or(|m| m == method_lc);
            let chat_ok = r.rule.chat_id.is_none_or(|c| Some(c) == chat_id);
            if used_up || !method_ok || !chat_ok {
                continue;
            }
            r.seen += 1;
            if r.seen % r.rule.every.max(1) == 0 {
                r.applied += 1;
                return Some(r.rule.fault.clone());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_down_and_match() {
        let mut f = Faults::default();
        f.set(FaultPlan {
            rules: vec![
                FaultRule {
                    method: Some("SendMessage".into()),
                    chat_id: Some(-7),
                    fault: Fault::Forbidden {
                        description: "Forbidden: bot was blocked by the user".into(),
                    },
                    times: 2,
                    every: 1,
                },
                FaultRule {
                    method: None,
                    chat_id: None,
                    fault: Fault::TooManyRequests { retry_after: 3 },
                    times: 2,
                    every: 2,
                },
            ],
        });
        // chat -8 does not match rule 1; rule 2 fires on every 2nd request.
        assert_eq!(f.take("sendmessage", Some(-8)), None);
        assert!(matches!(
            f.take("sendmessage", Some(-8)),
            Some(Fault::TooManyRequests { .. })
        ));
        assert!(matches!(
            f.take("sendmessage", Some(-7)),
            Some(Fault::Forbidden { .. })
        ));
        assert!(matches!(
            f.take("sendmessage", Some(-7)),
            Some(Fault::Forbidden { .. })
        ));
        // Rule 1 is used up now.
        assert_eq!(f.take("sendmessage", Some(-7)), None);
        assert!(matches!(
            f.take("getme", None),
            Some(Fault::TooManyRequests { .. })
        ));
        // Rule 2 is used up too.
        for _ in 0..4 {
            assert_eq!(f.take("getme", None), None);
        }
    }

    #[test]
    fn unlimited_and_serde() {
        let plan: FaultPlan = serde_json::from_str(
            r#"{"rules":[{"method":"getUpdates","fault":{"kind":"server_error","status":502},"times":0}]}"#,
        )
        .unwrap();
        let mut f = Faults::default();
        f.set(plan);
        for _ in 0..10 {
            assert_eq!(
                f.take("getupdates", None),
                Some(Fault::ServerError { status: 502 })
            );
        }
        assert_eq!(f.take("getme", None), None);
    }
}
