//! Placeholder: the redb backend.
