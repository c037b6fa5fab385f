//! tgbox: a Telegram community bot appliance. See ARCHITECTURE.md for the map of modules.

pub mod app;
pub mod bot;
pub mod cache;
pub mod cli;
pub mod config;
pub mod domain;
pub mod i18n;
pub mod ingest;
pub mod search;
pub mod service;
pub mod sim;
pub mod store;
pub mod telemetry;
pub mod web;
