//! The progress recorded between runs, as one JSON document the adapter
//! keeps in the bucket and writes only over the version it read (so two
//! runs at once cannot both count).
//!
//! - Per error object being worked through, what each of its lines became:
//!   put back and accepted by the stream, nothing to deliver, or
//!   quarantined (with the code and reason). A run resumes from the lines
//!   not settled yet; an object all of whose lines are settled is finished
//!   and leaves the ledger (the adapter marks it done beside it).
//! - Per record, by the SHA-256 of its bytes, how often it was put back.
//!   A put-back record that fails again lands in a *new* error object with
//!   the same bytes, so the count follows the bytes, not the line: at most
//!   `max_replays` times in all, then quarantined. An attempt is counted
//!   before the record is sent, so a run that stops between sending and
//!   recording can only under-use the limit, never exceed it; it is taken
//!   back only when the stream answered and refused the record.
//!
//! Entries not touched for [`Ledger::prune`]'s age are forgotten, so the
//! document stays small; a record that keeps failing is touched at every
//! replay and stays until it is quarantined.

use super::classify::Cause;
use super::error_output::ErrorObject;
use crate::integrity::document::hex;
use crate::integrity::signature::sha256;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The format name written in every ledger.
pub const FORMAT: &str = "cwl-firehose-replay-ledger/1";
/// The largest ledger read: about half a million records counted.
pub const MAX_LEDGER_BYTES: usize = 64 << 20;
/// How often a record is put back by default.
pub const DEFAULT_MAX_REPLAYS: u32 = 3;
/// How long a record's count is kept after its last replay by default.
pub const DEFAULT_KEEP_MS: i64 = 14 * 86_400_000;

/// What one line of an error object became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Settled {
    /// Put back into the stream and accepted.
    Replayed,
    /// `Dropped` now: nothing to deliver.
    NothingToDeliver {
        /// Why.
        reason: String,
    },
    /// Never passes: left where it is, listed in the quarantine report.
    Quarantined {
        /// Firehose's error code (empty for a line that is not a record).
        error_code: String,
        /// Why it never passes.
        reason: String,
        /// SHA-256 of the record's bytes (hex); absent for a line that is
        /// not a record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        /// How often it was put back before.
        replays: u32,
    },
}

/// One error object's lines settled so far (by line number).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Line number → what it became.
    pub lines: BTreeMap<usize, Settled>,
}

/// How often one record's bytes were put back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replays {
    /// Times put back (counted before each send).
    pub count: u32,
    /// The last time (epoch ms).
    pub last_ms: i64,
}

/// The whole progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    format: String,
    /// Error objects being worked through, by key.
    pub objects: BTreeMap<String, Progress>,
    /// Records put back, by the SHA-256 of their bytes (hex).
    pub records: BTreeMap<String, Replays>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self {
            format: FORMAT.to_string(),
            objects: BTreeMap::new(),
            records: BTreeMap::new(),
        }
    }
}

/// What [`Ledger::plan`] decided for one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Indexes into the object's records to put back, in order.
    pub send: Vec<usize>,
    /// Lines settled before this run (not looked at again).
    pub already: usize,
    /// Lines settled now as nothing to deliver.
    pub nothing: usize,
    /// Lines quarantined now.
    pub quarantined: usize,
}

/// The identity of a record's bytes in the ledger: SHA-256, hex.
pub fn record_key(data: &[u8]) -> String {
    hex(&sha256(data))
}

impl Ledger {
    /// Reads a stored ledger.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let ledger: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("not a replay ledger: {e}"))?;
        if ledger.format != FORMAT {
            return Err(format!(
                "a replay ledger of format {:?}, expected {FORMAT:?}",
                ledger.format
            ));
        }
        Ok(ledger)
    }

    /// Its stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// How often the record with these bytes' key was put back.
    pub fn replays(&self, record: &str) -> u32 {
        self.records.get(record).map_or(0, |r| r.count)
    }

    /// Counts one more replay of `record` (before it is sent).
    pub fn count_replay(&mut self, record: &str, now_ms: i64) {
        let r = self.records.entry(record.to_string()).or_default();
        r.count = r.count.saturating_add(1);
        r.last_ms = now_ms;
    }

    /// Takes back a replay counted for `record` that the stream surely did
    /// not accept (it answered, refusing it).
    pub fn uncount_replay(&mut self, record: &str) {
        if let Some(r) = self.records.get_mut(record) {
            r.count = r.count.saturating_sub(1);
        }
    }

    /// Records what line `line` of `object` became.
    pub fn settle(&mut self, object: &str, line: usize, settled: Settled) {
        self.objects
            .entry(object.to_string())
            .or_default()
            .lines
            .insert(line, settled);
    }

    /// Whether every line of `object` (which holds `lines` lines) is settled.
    pub fn is_finished(&self, object: &str, lines: usize) -> bool {
        self.objects
            .get(object)
            .map_or(lines == 0, |p| p.lines.len() >= lines)
    }

    /// Takes a finished object out of the ledger, with its lines.
    pub fn finish(&mut self, object: &str) -> Progress {
        self.objects.remove(object).unwrap_or_default()
    }

    /// Forgets records last put back before `now_ms - keep_ms`.
    pub fn prune(&mut self, now_ms: i64, keep_ms: i64) {
        let oldest = now_ms.saturating_sub(keep_ms);
        self.records.retain(|_, r| r.last_ms >= oldest);
    }

    /// Settles what can be settled without the stream and lists the records
    /// to put back: unreadable lines are quarantined; a record put back
    /// `max_replays` times already is quarantined; every other unsettled
    /// record is `decide`d (run through the current transformer).
    pub fn plan(
        &mut self,
        key: &str,
        object: &ErrorObject,
        max_replays: u32,
        mut decide: impl FnMut(&[u8]) -> super::classify::Decision,
    ) -> Plan {
        use super::classify::Decision;
        let mut plan = Plan::default();
        let done = |ledger: &Self, line: usize| {
            ledger
                .objects
                .get(key)
                .is_some_and(|p| p.lines.contains_key(&line))
        };
        for u in &object.unreadable {
            if done(self, u.line) {
                plan.already += 1;
                continue;
            }
            plan.quarantined += 1;
            self.settle(
                key,
                u.line,
                Settled::Quarantined {
                    error_code: String::new(),
                    reason: u.reason.clone(),
                    sha256: None,
                    replays: 0,
                },
            );
        }
        for (i, r) in object.records.iter().enumerate() {
            if done(self, r.line) {
                plan.already += 1;
                continue;
            }
            let record = record_key(&r.data);
            let replays = self.replays(&record);
            let decision = if replays >= max_replays {
                Decision::Quarantine(format!(
                    "put back {replays} times (the limit) and failed again each time"
                ))
            } else {
                decide(&r.data)
            };
            match decision {
                Decision::Replay => plan.send.push(i),
                Decision::NothingToDeliver(reason) => {
                    plan.nothing += 1;
                    self.settle(key, r.line, Settled::NothingToDeliver { reason });
                }
                Decision::Quarantine(reason) => {
                    plan.quarantined += 1;
                    self.settle(
                        key,
                        r.line,
                        Settled::Quarantined {
                            error_code: r.error_code.clone(),
                            reason,
                            sha256: Some(record),
                            replays,
                        },
                    );
                }
            }
        }
        plan
    }
}

/// The quarantine report of a finished object: one JSON line per
/// quarantined line (source key, line, Firehose's error code and its family,
/// the reason, the record's SHA-256, replays before), `None` when nothing
/// of it was quarantined.
pub fn quarantine_report(key: &str, progress: &Progress) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for (line, settled) in &progress.lines {
        if let Settled::Quarantined {
            error_code,
            reason,
            sha256,
            replays,
        } = settled
        {
            let entry = serde_json::json!({
                "source_key": key,
                "line": line,
                "error_code": error_code,
                "cause": if error_code.is_empty() { "unreadable" } else { Cause::of(error_code).as_str() },
                "reason": reason,
                "sha256": sha256,
                "replays": replays,
            });
            out.extend_from_slice(entry.to_string().as_bytes());
            out.push(b'\n');
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::super::classify::Decision;
    use super::super::error_output::{ErrorRecord, Unreadable};
    use super::*;

    fn object() -> ErrorObject {
        let rec = |line: usize, data: &[u8]| ErrorRecord {
            line,
            error_code: "Lambda.InvokeLimitExceeded".into(),
            error_message: String::new(),
            attempts_made: Some(4),
            data: data.to_vec(),
        };
        ErrorObject {
            records: vec![rec(1, b"good"), rec(2, b"bad"), rec(4, b"control")],
            unreadable: vec![Unreadable {
                line: 3,
                reason: "not JSON".into(),
            }],
        }
    }

    fn decide(data: &[u8]) -> Decision {
        match data {
            b"good" => Decision::Replay,
            b"control" => Decision::NothingToDeliver("a control message".into()),
            _ => Decision::Quarantine("corrupt".into()),
        }
    }

    #[test]
    fn a_plan_settles_what_needs_no_stream_and_resumes() {
        let mut l = Ledger::default();
        let o = object();
        let plan = l.plan("k", &o, 3, decide);
        assert_eq!(plan.send, [0]);
        assert_eq!((plan.already, plan.nothing, plan.quarantined), (0, 1, 2));
        assert!(!l.is_finished("k", o.lines()));
        // Interrupted before sending: only the unsettled record is decided again.
        let mut decided = Vec::new();
        let again = l.clone().plan("k", &o, 3, |d| {
            decided.push(d.to_vec());
            decide(d)
        });
        assert_eq!((again.send, again.already), (vec![0], 3));
        assert_eq!(decided, [b"good".to_vec()]);
        l.count_replay(&record_key(b"good"), 10);
        l.settle("k", 1, Settled::Replayed);
        assert!(l.is_finished("k", o.lines()));
        let progress = l.finish("k");
        assert!(l.objects.is_empty());
        let report = String::from_utf8(quarantine_report("k", &progress).unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = report
            .lines()
            .map(|x| serde_json::from_str(x).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["line"], 2);
        assert_eq!(lines[0]["cause"], "invocation");
        assert_eq!(lines[0]["reason"], "corrupt");
        assert_eq!(lines[0]["sha256"], record_key(b"bad"));
        assert_eq!(lines[1]["line"], 3);
        assert_eq!(lines[1]["cause"], "unreadable");
    }

    #[test]
    fn a_record_is_put_back_at_most_max_times_whichever_object_holds_it() {
        let mut l = Ledger::default();
        let o = object();
        for n in 0..3 {
            let key = format!("object-{n}");
            assert_eq!(l.plan(&key, &o, 3, decide).send, [0], "replay {n}");
            l.count_replay(&record_key(b"good"), n);
        }
        // A replay the stream refused is taken back.
        l.count_replay(&record_key(b"good"), 3);
        l.uncount_replay(&record_key(b"good"));
        assert_eq!(l.replays(&record_key(b"good")), 3);
        let plan = l.plan("object-3", &o, 3, decide);
        assert!(plan.send.is_empty());
        assert_eq!(plan.quarantined, 3);
        match &l.objects["object-3"].lines[&1] {
            Settled::Quarantined {
                reason, replays, ..
            } => {
                assert_eq!(*replays, 3);
                assert!(reason.contains("put back 3 times"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn round_trips_and_prunes() {
        let mut l = Ledger::default();
        l.plan("k", &object(), 3, decide);
        l.count_replay("old", 1_000);
        l.count_replay("new", 9_000);
        let back = Ledger::parse(&l.to_bytes()).unwrap();
        assert_eq!(back, l);
        l.prune(10_000, 5_000);
        assert_eq!(l.records.keys().collect::<Vec<_>>(), ["new"]);
        assert!(Ledger::parse(b"{}").is_err());
        assert!(Ledger::parse(br#"{"format":"x","objects":{},"records":{}}"#).is_err());
    }
}
