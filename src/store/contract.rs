//! Placeholder: the shared store contract suite.
