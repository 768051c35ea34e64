//! The record path taken apart for timing: one warm invocation, and each of
//! its four stages on its own over every record of an event, with buffers
//! reused across calls as a warm [`Transformer`] reuses its own.
//!
//! `cwl-firehose bench` (per stage, interleaved rounds) and the criterion
//! benches under `lab/` (per stage, and paired against the whole path) time
//! these same functions, so that a stage's figure means the same in both.

use crate::decode::Decoder;
use crate::firehose::FirehoseEvent;
use crate::lines::LineWriter;
use crate::pipeline::{Config, Transformer};
use crate::{RecordError, Summary};
use std::hint::black_box;
use std::ops::Range;

/// One stage of the record path, in the order it runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// A record's `data` (base64 text) to bytes, the SIMD decoder the path uses.
    Base64Decode,
    /// gzip to the CloudWatch Logs document (plain JSON passes through).
    Inflate,
    /// The document to lines, with the configured line options.
    Lines,
    /// The lines to base64 (the response's `data`).
    Base64Encode,
}

impl Stage {
    /// Every stage, in path order.
    pub const ALL: [Stage; 4] = [
        Stage::Base64Decode,
        Stage::Inflate,
        Stage::Lines,
        Stage::Base64Encode,
    ];

    /// Its name in reports (`cwl-firehose bench --json`'s `stages_ms` keys).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Base64Decode => "base64_decode",
            Stage::Inflate => "inflate",
            Stage::Lines => "lines",
            Stage::Base64Encode => "base64_encode",
        }
    }
}

/// Each stage's input for every record that got that far: the previous
/// stage's output, computed once, untimed.
#[derive(Debug, Default)]
pub struct StageInputs {
    /// The records' `data`, base64 text.
    pub data: Vec<Vec<u8>>,
    /// base64-decoded: gzip (or plain JSON).
    pub raw: Vec<Vec<u8>>,
    /// Inflated CloudWatch Logs documents.
    pub docs: Vec<Vec<u8>>,
    /// The documents' lines, for the documents that have any.
    pub lines: Vec<Vec<u8>>,
}

impl StageInputs {
    /// The bytes a stage's MB/s counts: base64 characters for decode,
    /// inflated bytes (its output) for inflate, the document for lines, line
    /// bytes for encode.
    pub fn bytes(&self, stage: Stage) -> usize {
        let total = |parts: &[Vec<u8>]| parts.iter().map(Vec::len).sum();
        match stage {
            Stage::Base64Decode => total(&self.data),
            Stage::Inflate | Stage::Lines => total(&self.docs),
            Stage::Base64Encode => total(&self.lines),
        }
    }
}

/// The four stages, each with its own reused buffers.
pub struct Stages {
    decoder: Decoder,
    writer: LineWriter,
    limit: usize,
    buf: Vec<u8>,
    ends: Vec<usize>,
    spans: Vec<Range<usize>>,
}

impl Stages {
    /// The stages with `config`'s inflate cap and line options.
    pub fn new(config: &Config) -> Self {
        Self {
            decoder: Decoder::new(config.inflate_cap),
            writer: LineWriter::new(config.lines),
            // The record path's cap on one record's lines.
            limit: config.inflate_cap.saturating_mul(2),
            buf: Vec::new(),
            ends: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Runs the stages once over `event`'s records, untimed, keeping each
    /// one's output as the next one's input.
    pub fn prepare(&mut self, event: &FirehoseEvent<'_>) -> StageInputs {
        let data: Vec<Vec<u8>> = event
            .records
            .iter()
            .filter_map(|r| r.data.as_deref().map(|d| d.as_bytes().to_vec()))
            .collect();
        let raw: Vec<Vec<u8>> = data
            .iter()
            .filter_map(|d| base64_simd::STANDARD.decode_to_vec(d).ok())
            .collect();
        let docs: Vec<Vec<u8>> = raw
            .iter()
            .filter_map(|r| self.decoder.decode_bytes(r).ok().map(<[u8]>::to_vec))
            .collect();
        let mut lines = Vec::new();
        for d in &docs {
            if self.lines_of(d) {
                lines.push(self.buf.clone());
            }
        }
        StageInputs {
            data,
            raw,
            docs,
            lines,
        }
    }

    /// One stage over every record of `inputs`.
    pub fn run(&mut self, stage: Stage, inputs: &StageInputs) {
        match stage {
            Stage::Base64Decode => {
                for d in &inputs.data {
                    self.buf.clear();
                    let _ = black_box(base64_simd::STANDARD.decode_append(d, &mut self.buf));
                }
            }
            Stage::Inflate => {
                for r in &inputs.raw {
                    let _ = black_box(self.decoder.decode_bytes(r).map(<[u8]>::len));
                }
            }
            Stage::Lines => {
                for d in &inputs.docs {
                    black_box(self.lines_of(d));
                }
            }
            Stage::Base64Encode => {
                for l in &inputs.lines {
                    self.buf.clear();
                    base64_simd::STANDARD.encode_append(l, &mut self.buf);
                    black_box(&self.buf);
                }
            }
        }
    }

    /// Every stage once, in path order.
    pub fn all(&mut self, inputs: &StageInputs) {
        for stage in Stage::ALL {
            self.run(stage, inputs);
        }
    }

    /// One document's lines into `buf`, as the record path writes them.
    /// False when the document has no lines (control message, no events,
    /// an error).
    fn lines_of(&mut self, doc: &[u8]) -> bool {
        matches!(
            crate::internals::read_lines(
                doc,
                &mut self.writer,
                &mut self.buf,
                &mut self.ends,
                &mut self.spans,
                self.limit,
            ),
            Ok(Some(_))
        )
    }
}

/// What one warm invocation reports (every invocation of the same event
/// through the same settings reports the same).
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The response's counts.
    pub summary: Summary,
    /// Records failed because they overflowed the response budget.
    pub overflowed: usize,
    /// Records failed for any other reason (bad data, caps).
    pub failed_other: usize,
}

/// One warm invocation as the Lambda runs it between the runtime handing
/// over the payload and taking the response, without re-ingestion: parse
/// the event, decide every record, write the response.
pub fn invoke(
    transformer: &mut Transformer,
    event: &[u8],
) -> Result<Invocation, serde_json::Error> {
    let event = FirehoseEvent::parse(event)?;
    let response = transformer.process(&event, None).finish();
    black_box(&response.bytes);
    let overflowed = response
        .failures
        .iter()
        .filter(|f| matches!(f.error, RecordError::Overflow))
        .count();
    Ok(Invocation {
        summary: response.summary,
        overflowed,
        failed_other: response.failures.len().saturating_sub(overflowed),
    })
}
