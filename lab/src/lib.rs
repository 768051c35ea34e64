//! cwl-firehose's lab: what measures the product and does not ship with it.
//!
//! The library is [`generate`], the seeded benchmark events every figure in
//! `docs/performance.md` is measured on (the criterion benches and the tests
//! that need realistic events build them in process; `--bin generate` writes
//! them for the scripts). `lab/README.md` lists the rest.

pub mod generate;
