//! The control API over HTTP.

use serde_json::{Value, json};

use super::http_tests::start;

#[tokio::test]
async fn control_api_round_trip() {
    let h = start().await;
    let post = |path: &str, body: Value| {
        h.http
            .post(format!("{}/control/{path}", h.base))
            .json(&body)
            .send()
    };
    let u: Value = post(
        "users",
        json!({"first_name": "مریم", "language_code": "fa"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let c: Value = post(
        "chats",
        json!({"kind": "supergroup", "title": "T", "is_forum": true}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let (uid, cid) = (u["id"].as_u64().unwrap(), c["id"].as_i64().unwrap());
    assert!(cid < -1_000_000_000_000);
    let r = post(&format!("chats/{cid}/join"), json!({"user_id": uid}))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = post(
        "messages",
        json!({"chat_id": cid, "user_id": uid, "text": "سلام", "thread_id": 5}),
    )
    .await
    .unwrap();
    let posted: Value = r.json().await.unwrap();
    let mid = posted["message_id"].as_i64().unwrap();
    let r = post(
        "edit",
        json!({"chat_id": cid, "message_id": mid, "text": "سلام!"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = post(
        "messages",
        json!({"chat_id": 5, "user_id": uid, "text": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    let r = post("messages", json!({"nope": true})).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = h
        .http
        .post(format!("{}/control/raw_text", h.base))
        .body(r#"{"update_id":{update_id},"message":{"message_id":"not-a-number"}}"#)
        .send()
        .await
        .unwrap();
    let raw_id = r.json::<Value>().await.unwrap()["update_id"]
        .as_u64()
        .unwrap();
    let ups = h.updates(json!({})).await;
    assert_eq!(ups.len(), 4);
    assert_eq!(ups[1]["message"]["message_thread_id"], 5);
    assert_eq!(ups[1]["message"]["is_topic_message"], true);
    assert_eq!(
        ups[1]["message"]["reply_to_message"]["forum_topic_created"]["name"],
        "Topic 5"
    );
    assert_eq!(ups[2]["edited_message"]["text"], "سلام!");
    assert_eq!(ups[3]["update_id"].as_u64(), Some(raw_id));
    h.updates(json!({"offset": raw_id + 1})).await;
    let log: Vec<Value> = h
        .http
        .get(format!("{}/control/delivery_log?start=1&limit=2", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["kind"], "edited_message");
    let stats: Value = h
        .http
        .get(format!("{}/control/stats", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["confirmed"], 4);
    let r = post(
        "faults",
        json!([{"fault": {"kind": "too_many_requests", "retry_after": 1}}]),
    )
    .await
    .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["rules"], 1);
    let (s, _) = h.call("getMe", json!({})).await;
    assert_eq!(s, 429);
    let r = h
        .http
        .delete(format!("{}/control/faults", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Errors are JSON in the control API's format.
    for (resp, status) in [
        (post("nothing_here", json!({})).await.unwrap(), 404),
        (
            post("chats/abc/join", json!({"user_id": 1})).await.unwrap(),
            400,
        ),
        (
            h.http
                .get(format!("{}/control/messages", h.base))
                .send()
                .await
                .unwrap(),
            405,
        ),
    ] {
        assert_eq!(resp.status().as_u16(), status);
        assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    }
}

#[tokio::test]
async fn private_chats_belong_to_their_user() {
    let h = start().await;
    let a = h.sim.add_user(super::NewUser {
        first_name: "A".into(),
        ..Default::default()
    });
    let b = h.sim.add_user(super::NewUser {
        first_name: "B".into(),
        ..Default::default()
    });
    let to_a = |user_id| super::UserMessage {
        chat_id: a.id as i64,
        user_id,
        text: "/start".into(),
        ..Default::default()
    };
    assert!(h.sim.send(to_a(b.id)).is_err());
    h.sim.send(to_a(a.id)).unwrap();
    let (s, v) = h.call("getChat", json!({"chat_id": a.id})).await;
    assert_eq!((s, &v["result"]["type"]), (200, &json!("private")));
    assert_eq!(v["result"]["first_name"], "A");
}
