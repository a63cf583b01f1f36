//! SCIM 2.0 protocol engine. (being written)
