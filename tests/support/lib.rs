//! Test harness: locating built plugins, starting real servers.
