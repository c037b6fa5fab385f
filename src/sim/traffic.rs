//! A traffic generator: a believable community (groups, a forum, a channel, English and
//! Persian speakers) and a paced stream of messages, replies, edits, media, commands, joins and
//! leaves. Deterministic for a seed (given the same bot behaviour).

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Sim;
use super::text::{self, Lang};
use super::types::{Media, NewChat, NewUser, SimChat, SimChatKind, SimUser, UserMessage};

/// What [`build_community`] creates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommunitySpec {
    /// Groups to create: the first is a public supergroup with a username, the second a forum
    /// supergroup, the third a basic group, the rest supergroups.
    pub groups: usize,
    pub users: usize,
    /// Also create a public channel.
    pub channel: bool,
}

impl Default for CommunitySpec {
    fn default() -> Self {
        CommunitySpec {
            groups: 4,
            users: 60,
            channel: true,
        }
    }
}

/// The simulated community the traffic generator acts in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Community {
    /// The groups (not the channel).
    pub chats: Vec<SimChat>,
    pub users: Vec<SimUser>,
    /// `members[i]` are the members of `chats[i]`.
    pub members: Vec<Vec<u64>>,
    /// Users who mostly write Persian.
    pub persian_users: Vec<u64>,
    pub forum_chat: Option<i64>,
    /// Thread ids of the forum's topics.
    pub topics: Vec<i32>,
    pub channel: Option<SimChat>,
}

/// What [`run_traffic`] produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficReport {
    /// New messages of every kind (text, media, commands, replies, channel posts).
    pub messages: u64,
    pub edits: u64,
    pub joins: u64,
    pub leaves: u64,
    pub commands: u64,
    pub replies: u64,
    pub media: u64,
    pub channel_posts: u64,
    /// Actions the simulator refused (e.g. a reply to a message the bot deleted).
    pub errors: u64,
}

const GROUP_TITLES: &[&str] = &[
    "Rust Learners",
    "Dev Forum",
    "دورهمی کتاب\u{200c}خوان\u{200c}ها",
    "Weekend Hikers",
    "کافه برنامه\u{200c}نویسان",
    "Photography Corner",
    "Open Source Help",
    "زبان انگلیسی با هم",
];

const TOPICS: &[&str] = &["Help", "Off-topic", "گفتگوی آزاد"];

/// Creates users and chats in `sim` and lets the users join groups (emitting join updates).
pub fn build_community(sim: &Sim, seed: u64, spec: CommunitySpec) -> Community {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut usernames = HashSet::new();
    let mut users = Vec::with_capacity(spec.users);
    let mut persian_users = Vec::new();
    for _ in 0..spec.users {
        let lang = if rng.random_bool(0.45) {
            Lang::Fa
        } else {
            Lang::En
        };
        let p = text::person(&mut rng, lang);
        let username = if rng.random_bool(0.85) {
            let mut name = p.username_stem.clone();
            while name.len() < 5 || usernames.contains(&name) {
                name.push(char::from(b'0' + rng.random_range(0..10u8)));
            }
            usernames.insert(name.clone());
            Some(name)
        } else {
            None
        };
        let user = sim.add_user(NewUser {
            id: None,
            first_name: p.first_name,
            last_name: p.last_name,
            username,
            language_code: p.language_code,
        });
        if lang == Lang::Fa {
            persian_users.push(user.id);
        }
        users.push(user);
    }

    let mut chats = Vec::with_capacity(spec.groups);
    for i in 0..spec.groups {
        let (kind, username, is_forum) = match i {
            0 => (
                SimChatKind::Supergroup,
                Some("tgbox_lounge".to_owned()),
                false,
            ),
            1 => (SimChatKind::Supergroup, None, true),
            2 => (SimChatKind::Group, None, false),
            _ => (SimChatKind::Supergroup, None, false),
        };
        let title = match GROUP_TITLES.get(i) {
            Some(t) => (*t).to_owned(),
            None => format!("Community Group {}", i + 1),
        };
        chats.push(sim.add_chat(NewChat {
            id: None,
            kind,
            title,
            username,
            is_forum,
        }));
    }

    // Every user joins 1-3 groups; joins are interleaved across users like real life.
    let mut joins = Vec::new();
    if !chats.is_empty() {
        for u in &users {
            let n = rng.random_range(1..=3usize).min(chats.len());
            let mut idx: Vec<usize> = (0..chats.len()).collect();
            idx.shuffle(&mut rng);
            joins.extend(idx.into_iter().take(n).map(|c| (c, u.id)));
        }
    }
    joins.shuffle(&mut rng);
    let mut members = vec![Vec::new(); chats.len()];
    for (c, u) in joins {
        if sim.join(chats[c].id, u).is_ok() {
            members[c].push(u);
        }
    }

    let forum_index = chats.iter().position(|c| c.is_forum);
    let mut topics = Vec::new();
    if let Some(fi) = forum_index {
        for name in TOPICS {
            let creator = members[fi].choose(&mut rng).copied();
            if let Some(Ok(p)) =
                creator.map(|u| sim.create_topic(chats[fi].id, u, (*name).to_owned()))
            {
                topics.extend(p.message_id);
            }
        }
    }

    let channel = spec.channel.then(|| {
        sim.add_chat(NewChat {
            id: None,
            kind: SimChatKind::Channel,
            title: "tgbox News | اخبار".to_owned(),
            username: Some("tgbox_news".to_owned()),
            is_forum: false,
        })
    });

    Community {
        forum_chat: forum_index.map(|i| chats[i].id),
        chats,
        users,
        members,
        persian_users,
        topics,
        channel,
    }
}

/// A recent message a generated reply or edit can refer to.
#[derive(Clone, Copy)]
struct Recent {
    message_id: i32,
    author: u64,
    /// Stickers carry no text or caption, so they cannot be edited.
    editable: bool,
}

const RECENT: usize = 64;

/// Generates one action at a time; [`run_traffic`] paces it.
pub struct TrafficGen {
    rng: SmallRng,
    community: Community,
    persian: HashSet<u64>,
    recent: Vec<VecDeque<Recent>>,
    channel_recent: VecDeque<i32>,
    report: TrafficReport,
}

impl TrafficGen {
    pub fn new(community: Community, seed: u64) -> TrafficGen {
        TrafficGen {
            rng: SmallRng::seed_from_u64(seed ^ 0x5EED_7A0F_F1C5_0001),
            persian: community.persian_users.iter().copied().collect(),
            recent: vec![VecDeque::new(); community.chats.len()],
            channel_recent: VecDeque::new(),
            community,
            report: TrafficReport::default(),
        }
    }

    pub fn report(&self) -> &TrafficReport {
        &self.report
    }

    pub fn community(&self) -> &Community {
        &self.community
    }

    /// Performs one action in `sim`: mostly a message, sometimes an edit, a join or a leave.
    pub fn step(&mut self, sim: &Sim) {
        if self.community.chats.is_empty() {
            return;
        }
        let roll: f64 = self.rng.random();
        if self.community.channel.is_some() && roll < 0.01 {
            self.channel_post(sim);
        } else if roll < 0.015 {
            self.join_or_leave(sim);
        } else if roll < 0.045 {
            self.edit(sim);
        } else {
            self.message(sim);
        }
    }

    fn lang_of(&mut self, user: u64) -> Lang {
        let persian = self.persian.contains(&user);
        match (
            persian,
            self.rng.random_bool(if persian { 0.85 } else { 0.95 }),
        ) {
            (true, true) | (false, false) => Lang::Fa,
            _ => Lang::En,
        }
    }

    fn message(&mut self, sim: &Sim) {
        let ci = self.rng.random_range(0..self.community.chats.len());
        let Some(&author) = self.community.members[ci].choose(&mut self.rng) else {
            return self.join_or_leave(sim);
        };
        let chat = &self.community.chats[ci];
        let (chat_id, is_forum, is_group) =
            (chat.id, chat.is_forum, chat.kind == SimChatKind::Group);
        let lang = self.lang_of(author);
        let kind: f64 = self.rng.random();
        let (text, media, command) = if kind < 0.02 {
            (self.command(lang, is_group), None, true)
        } else if kind < 0.10 {
            let media = *[
                Media::Photo,
                Media::Photo,
                Media::Photo,
                Media::Video,
                Media::Document,
                Media::Voice,
                Media::Sticker,
                Media::Animation,
            ]
            .choose(&mut self.rng)
            .unwrap_or(&Media::Photo);
            let caption = match media {
                Media::Sticker => text::EMOJI
                    .choose(&mut self.rng)
                    .copied()
                    .unwrap_or("🙂")
                    .to_owned(),
                Media::Voice => String::new(),
                _ if self.rng.random_bool(0.3) => String::new(),
                _ => text::sentence(&mut self.rng, lang),
            };
            (caption, Some(media), false)
        } else {
            (text::message_text(&mut self.rng, lang), None, false)
        };
        let reply_to = if self.rng.random_bool(0.10) && !self.recent[ci].is_empty() {
            let n = self.recent[ci].len();
            let back = self.rng.random_range(0..n.min(20));
            self.recent[ci].get(n - 1 - back).map(|r| r.message_id)
        } else {
            None
        };
        let thread_id = if is_forum && reply_to.is_none() && self.rng.random_bool(0.75) {
            self.community.topics.choose(&mut self.rng).copied()
        } else {
            None
        };
        let posted = sim.send(UserMessage {
            chat_id,
            user_id: author,
            text,
            media,
            reply_to,
            thread_id,
        });
        match posted {
            Ok(p) => {
                let r = &mut self.report;
                r.messages += 1;
                r.commands += u64::from(command);
                r.media += u64::from(media.is_some());
                r.replies += u64::from(reply_to.is_some());
                if let Some(message_id) = p.message_id {
                    let recent = &mut self.recent[ci];
                    let editable = media != Some(Media::Sticker);
                    recent.push_back(Recent {
                        message_id,
                        author,
                        editable,
                    });
                    if recent.len() > RECENT {
                        recent.pop_front();
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "generated message refused");
                self.report.errors += 1;
            }
        }
    }

    fn command(&mut self, lang: Lang, is_group: bool) -> String {
        let mut cmd = match self.rng.random_range(0..4) {
            0 => "/start".to_owned(),
            1 => "/help".to_owned(),
            2 => format!("/search {}", text::search_term(&mut self.rng, lang)),
            _ => "/stats".to_owned(),
        };
        if is_group && self.rng.random_bool(0.3) {
            if let Some(space) = cmd.find(' ') {
                cmd.insert_str(space, "@tgbox_sim_bot");
            } else {
                cmd.push_str("@tgbox_sim_bot");
            }
        }
        cmd
    }

    fn edit(&mut self, sim: &Sim) {
        let ci = self.rng.random_range(0..self.community.chats.len());
        let n = self.recent[ci].len();
        if n == 0 {
            return self.message(sim);
        }
        let back = self.rng.random_range(0..n.min(10));
        let Some(target) = self.recent[ci].get(n - 1 - back).copied() else {
            return;
        };
        if !target.editable {
            return self.message(sim);
        }
        let lang = self.lang_of(target.author);
        let text = format!(
            "{} {}",
            text::sentence(&mut self.rng, lang),
            text::sentence(&mut self.rng, lang)
        );
        match sim.edit(self.community.chats[ci].id, target.message_id, text) {
            Ok(_) => self.report.edits += 1,
            Err(_) => self.report.errors += 1,
        }
    }

    fn join_or_leave(&mut self, sim: &Sim) {
        let ci = self.rng.random_range(0..self.community.chats.len());
        let chat_id = self.community.chats[ci].id;
        let members = &self.community.members[ci];
        let outsiders: Vec<u64> = self
            .community
            .users
            .iter()
            .map(|u| u.id)
            .filter(|u| !members.contains(u))
            .collect();
        let join = members.len() < 3 || (!outsiders.is_empty() && self.rng.random_bool(0.6));
        if join {
            let Some(&user) = outsiders.choose(&mut self.rng) else {
                return;
            };
            match sim.join(chat_id, user) {
                Ok(_) => {
                    self.report.joins += 1;
                    self.community.members[ci].push(user);
                }
                Err(_) => self.report.errors += 1,
            }
        } else {
            let i = self.rng.random_range(0..members.len());
            let user = members[i];
            match sim.leave(chat_id, user) {
                Ok(_) => {
                    self.report.leaves += 1;
                    self.community.members[ci].swap_remove(i);
                    self.recent[ci].retain(|r| r.author != user);
                }
                Err(_) => self.report.errors += 1,
            }
        }
    }

    fn channel_post(&mut self, sim: &Sim) {
        let Some(chat_id) = self.community.channel.as_ref().map(|c| c.id) else {
            return;
        };
        let lang = if self.rng.random_bool(0.5) {
            Lang::Fa
        } else {
            Lang::En
        };
        if !self.channel_recent.is_empty() && self.rng.random_bool(0.1) {
            let i = self.rng.random_range(0..self.channel_recent.len());
            let text = text::message_text(&mut self.rng, lang);
            match sim.edit(chat_id, self.channel_recent[i], text) {
                Ok(_) => self.report.edits += 1,
                Err(_) => self.report.errors += 1,
            }
            return;
        }
        let media = self.rng.random_bool(0.3).then_some(Media::Photo);
        let text = text::message_text(&mut self.rng, lang);
        match sim.send(UserMessage {
            chat_id,
            text,
            media,
            ..UserMessage::default()
        }) {
            Ok(p) => {
                self.report.messages += 1;
                self.report.channel_posts += 1;
                self.channel_recent.extend(p.message_id);
                if self.channel_recent.len() > 16 {
                    self.channel_recent.pop_front();
                }
            }
            Err(_) => self.report.errors += 1,
        }
    }
}

/// Produces traffic at `rate_per_sec` actions per second (token bucket: each tick performs the
/// actions that became due, so high rates are reached in batches) until `duration` elapses or
/// `cancel` fires.
pub async fn run_traffic(
    sim: Sim,
    community: Community,
    rate_per_sec: f64,
    duration: Option<Duration>,
    seed: u64,
    cancel: CancellationToken,
) -> TrafficReport {
    const TICK: Duration = Duration::from_millis(5);
    let mut generator = TrafficGen::new(community, seed);
    let rate = if rate_per_sec.is_finite() {
        rate_per_sec.max(0.0)
    } else {
        0.0
    };
    // At most a quarter second of backlog is caught up after a stall.
    let burst = ((rate * 0.25) as u64).max(1);
    let start = Instant::now();
    let mut done: u64 = 0;
    loop {
        let elapsed = start.elapsed();
        if cancel.is_cancelled() || duration.is_some_and(|d| elapsed >= d) {
            break;
        }
        let due = (elapsed.as_secs_f64() * rate) as u64;
        if due > done + burst {
            done = due - burst;
        }
        while done < due {
            generator.step(&sim);
            done += 1;
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(TICK) => {}
        }
    }
    let report = generator.report().clone();
    tracing::info!(?report, "traffic generator finished");
    report
}
