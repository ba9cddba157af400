//! Shared helpers for rawstack's cross-layer lab tests.
