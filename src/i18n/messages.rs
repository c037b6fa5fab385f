//! Every text the bot sends, by name. The string is its key in the catalogs.

use crate::domain::MessageKind;

macro_rules! messages {
    ($($variant:ident = $key:literal,)*) => {
        /// A text of the catalogs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Msg {
            $($variant,)*
        }

        impl Msg {
            /// Every text, in catalog order.
            pub const ALL: &'static [Msg] = &[$(Msg::$variant,)*];

            /// The dotted key in the catalogs (`search.no_match`).
            pub fn key(self) -> &'static str {
                match self {
                    $(Msg::$variant => $key,)*
                }
            }
        }
    };
}

messages! {
    StartHello = "start.hello",
    StartRegistered = "start.registered",
    StartHelpHint = "start.help_hint",
    HelpTitle = "help.title",
    HelpLine = "help.line",
    CommandStart = "command.start",
    CommandHelp = "command.help",
    CommandSearch = "command.search",
    CommandSettings = "command.settings",
    CommandForget = "command.forget",
    CommandStats = "command.stats",
    CommandMe = "command.me",
    CommandTop = "command.top",
    UnknownCommand = "unknown.command",
    CallbackInvalid = "callback.invalid",
    SearchUnavailable = "search.unavailable",
    SearchTooOld = "search.too_old",
    SearchGone = "search.gone",
    SearchNoMatch = "search.no_match",
    SearchNoGroups = "search.no_groups",
    SearchSearchedGroups = "search.searched_groups",
    SearchFromHint = "search.from_hint",
    SearchHeaderOne = "search.header_one",
    SearchHeaderMany = "search.header_many",
    SearchPageLine = "search.page_line",
    SearchNewestFirst = "search.newest_first",
    SearchBestFirst = "search.best_first",
    SearchNoMore = "search.no_more",
    SearchOpen = "search.open",
    SearchPrevButton = "search.prev_button",
    SearchNextButton = "search.next_button",
    SearchBestButton = "search.best_button",
    SearchNewestButton = "search.newest_button",
    SearchRateLimited = "search.rate_limited",
    SearchOtherChatInGroup = "search.other_chat_in_group",
    SearchNotAMember = "search.not_a_member",
    SearchUnknownChat = "search.unknown_chat",
    QueryEmpty = "query.empty",
    QueryTooLong = "query.too_long",
    QueryTooManyTerms = "query.too_many_terms",
    QueryUnclosedQuote = "query.unclosed_quote",
    QueryBadDate = "query.bad_date",
    QueryEmptyFilter = "query.empty_filter",
    QueryBadUser = "query.bad_user",
    QueryBadChat = "query.bad_chat",
    QueryRepeated = "query.repeated",
    QueryNegatedFilter = "query.negated_filter",
    QueryNothingToSearch = "query.nothing_to_search",
    QueryEmptyDateRange = "query.empty_date_range",
    KindText = "kind.text",
    KindPhoto = "kind.photo",
    KindVideo = "kind.video",
    KindAnimation = "kind.animation",
    KindAudio = "kind.audio",
    KindVoice = "kind.voice",
    KindVideoNote = "kind.video_note",
    KindDocument = "kind.document",
    KindSticker = "kind.sticker",
    KindLocation = "kind.location",
    KindContact = "kind.contact",
    KindPoll = "kind.poll",
    KindDice = "kind.dice",
    KindMembersJoined = "kind.members_joined",
    KindMemberLeft = "kind.member_left",
    KindService = "kind.service",
    KindOther = "kind.other",
    SettingsTitle = "settings.title",
    SettingsLanguage = "settings.language",
    SettingsLanguageAuto = "settings.language_auto",
    SettingsAnnouncementsOn = "settings.announcements_on",
    SettingsAnnouncementsOff = "settings.announcements_off",
    SettingsHint = "settings.hint",
    SettingsAutoButton = "settings.auto_button",
    SettingsAnnouncementsOnButton = "settings.announcements_on_button",
    SettingsAnnouncementsOffButton = "settings.announcements_off_button",
    SettingsSaved = "settings.saved",
    SettingsNotYours = "settings.not_yours",
    SettingsBadButton = "settings.bad_button",
    SettingsFailed = "settings.failed",
    ForgetUsePrivate = "forget.use_private",
    ForgetConfirm = "forget.confirm",
    ForgetYesButton = "forget.yes_button",
    ForgetCancelButton = "forget.cancel_button",
    ForgetWord = "forget.word",
    ForgetWaiting = "forget.waiting",
    ForgetDone = "forget.done",
    ForgetCancelled = "forget.cancelled",
    ForgetExpired = "forget.expired",
    ForgetFailed = "forget.failed",
}

impl Msg {
    /// The name of a message kind.
    pub fn of_kind(kind: MessageKind) -> Msg {
        match kind {
            MessageKind::Text => Msg::KindText,
            MessageKind::Photo => Msg::KindPhoto,
            MessageKind::Video => Msg::KindVideo,
            MessageKind::Animation => Msg::KindAnimation,
            MessageKind::Audio => Msg::KindAudio,
            MessageKind::Voice => Msg::KindVoice,
            MessageKind::VideoNote => Msg::KindVideoNote,
            MessageKind::Document => Msg::KindDocument,
            MessageKind::Sticker => Msg::KindSticker,
            MessageKind::Location => Msg::KindLocation,
            MessageKind::Contact => Msg::KindContact,
            MessageKind::Poll => Msg::KindPoll,
            MessageKind::Dice => Msg::KindDice,
            MessageKind::MembersJoined => Msg::KindMembersJoined,
            MessageKind::MemberLeft => Msg::KindMemberLeft,
            MessageKind::Service => Msg::KindService,
            MessageKind::Other => Msg::KindOther,
        }
    }
}
