//! Placeholder: the simulated Telegram Bot API.
