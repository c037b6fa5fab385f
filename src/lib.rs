//! tgbox: a Telegram community bot appliance. See ARCHITECTURE.md for the map of modules.

pub mod domain;
pub mod sim;
pub mod store;
