//! Signed digest chains over the log bucket: the I/O-free part.
//!
//! A digest lists object versions of the bucket (key, version id, size,
//! SHA-256) and names the digest before it by key, hash and signature; KMS
//! signs each one. [`document`] is the format and its canonical bytes,
//! [`select`] the rule for what the next digest lists, [`verify`] the check
//! of a chain and of the objects it lists, [`signature`] the hashing and the
//! local check of a signature. Listing, reading and signing are the
//! adapter's (`adapters::archive`, `adapters::digest`).

pub mod document;
pub mod select;
pub mod signature;
pub mod verify;
