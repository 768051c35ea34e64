//! Everything that knows Lambda, the AWS SDK or the environment, wrapped
//! around the I/O-free core: settings from environment variables, EMF
//! metrics, re-ingestion with the SDK, the invocation protocol and the
//! Lambda handler, the signed digests of the log bucket (S3, KMS), and the
//! replay of its error output. The core never depends on this module.

pub mod metrics;
pub mod settings;

// The invocation protocol reads the log groups' tags too.
#[cfg(feature = "group-tags")]
pub mod invocation;
#[cfg(feature = "aws")]
pub mod reingest;

#[cfg(feature = "group-tags")]
pub mod group_tags;

#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "lambda")]
pub mod secrets;

#[cfg(feature = "archive")]
pub mod archive;
#[cfg(feature = "archive")]
pub mod digest;
#[cfg(feature = "archive")]
pub mod recover;
