//! Reports, not tests: the detection and false-positive figures of redaction quoted in
//! `docs/redaction.md`, on a seeded corpus of realistic log lines (JSON loggers, access
//! logs, stack traces, SQL) with planted secrets and personal data, and look-alikes
//! around them. Opt-in (each is an ignored test) and best run in release:
//!
//! ```text
//! cargo test --release --no-default-features --test redact_reports -- --ignored --nocapture --test-threads 1
//! ```
//!
//! `corpus` writes the lines themselves (`REDACT_CORPUS=path`), for a look by eye.

#[path = "../src/mask/tests/cards.rs"]
mod cards;

use cards::Rng;
use cwl_firehose::internals::{Redactor, Tally};
use cwl_firehose::{Detector, Redact};

/// A part of a generated line.
enum Part {
    /// Syntax around the values.
    Text(String),
    /// A value the detector must remove: `shown` is written, `secret` must be gone.
    Planted {
        detector: Detector,
        shown: String,
        secret: String,
    },
    /// A value no detector may change, of the look-alike class `class`.
    LookAlike { class: usize, value: String },
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn from(rng: &mut Rng, set: &[u8], n: usize) -> String {
    (0..n).map(|_| char::from(*rng.pick(set))).collect()
}

/// Detectors in the order of the report, each with the forms it documents.
fn planted(rng: &mut Rng, d: Detector) -> (String, String) {
    match d {
        Detector::AwsAccessKeyId => {
            let prefix = *rng.pick(&["AKIA", "ASIA", "AROA", "AIDA"]);
            let id = format!(
                "{prefix}{}",
                from(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
            );
            let shown = match rng.below(3) {
                0 => format!("\"AccessKeyId\":\"{id}\""),
                1 => format!("aws_access_key_id={id}"),
                _ => format!("using key {id} for s3"),
            };
            (shown, id)
        }
        Detector::AwsSecretKey => {
            let key = from(rng, B64, 40);
            let shown = match rng.below(4) {
                0 => format!("\"SecretAccessKey\":\"{key}\""),
                1 => format!("aws_secret_access_key={key}"),
                2 => format!("AWS_SECRET_ACCESS_KEY: {key}"),
                _ => format!(
                    "creds AKIA{} {key}",
                    from(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
                ),
            };
            (shown, key)
        }
        Detector::Authorization => {
            let tok = format!("{}{}", from(rng, ALNUM, 24), rng.digits(4));
            let shown = match rng.below(4) {
                0 => format!("Authorization: Bearer {tok}"),
                1 => format!("\"authorization\":\"Basic {tok}==\""),
                2 => format!("curl -H 'Authorization: Token {tok}'"),
                _ => format!("retrying with bearer {tok}"),
            };
            (shown, tok)
        }
        Detector::Jwt => {
            let tok = format!(
                "eyJ{}.eyJ{}.{}",
                from(rng, B64URL, 30),
                from(rng, B64URL, 60),
                from(rng, B64URL, 43)
            );
            let shown = match rng.below(2) {
                0 => format!("id_token={tok}"),
                _ => format!("\"jwt\":\"{tok}\""),
            };
            (shown, tok)
        }
        Detector::PrivateKey => {
            let label = *rng.pick(&[
                "RSA PRIVATE KEY",
                "PRIVATE KEY",
                "EC PRIVATE KEY",
                "OPENSSH PRIVATE KEY",
                "ENCRYPTED PRIVATE KEY",
            ]);
            let body = (0..rng.range(2, 6))
                .map(|_| from(rng, B64, 64))
                .collect::<Vec<_>>()
                .join("\n");
            let shown = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----");
            let secret = body.lines().next().unwrap_or_default().to_string();
            (format!("loaded key {shown}"), secret)
        }
        Detector::UrlCredentials => {
            let user = from(rng, b"abcdefghij", 5);
            let pass = from(rng, ALNUM, 14);
            let scheme = *rng.pick(&["postgres", "mysql", "https", "redis", "amqp", "mongodb+srv"]);
            let shown = format!(
                "connecting to {scheme}://{user}:{pass}@db-{}.internal:5432/app",
                rng.digits(2)
            );
            (shown, pass)
        }
        Detector::SecretValue => {
            let v = format!("{}{}", from(rng, ALNUM, 12), rng.digits(2));
            let key = *rng.pick(&[
                "password",
                "passwd",
                "pwd",
                "db_password",
                "client_secret",
                "secret",
                "api_key",
                "apiKey",
                "X-Api-Key",
                "access_token",
                "refresh_token",
                "token",
                "sessionToken",
                "private_key",
                "passphrase",
            ]);
            let shown = match rng.below(5) {
                0 => format!("\"{key}\":\"{v}\""),
                1 => format!("\"{key}\": \"{v}\""),
                2 => format!("GET /login?user=bob&{key}={v}&next=%2F HTTP/1.1"),
                3 => format!("{key}: {v}"),
                _ => format!("{{\\\"{key}\\\":\\\"{v}\\\"}}"),
            };
            (shown, v)
        }
        Detector::Email => {
            let local = format!(
                "{}.{}",
                from(rng, b"abcdefghijklmnop", 5),
                from(rng, b"abcdefghijklmnop", 6)
            );
            let domain = *rng.pick(&[
                "example.com",
                "example.co.jp",
                "mail.example.org",
                "corp.example.jp",
            ]);
            let e = format!("{local}@{domain}");
            (format!("notify {e} ok"), e)
        }
        Detector::Ipv4 => {
            let ip = format!(
                "{}.{}.{}.{}",
                rng.range(1, 223),
                rng.below(256),
                rng.below(256),
                rng.range(1, 254)
            );
            (format!("client {ip}:{}", rng.range(1024, 65535)), ip)
        }
        Detector::Ipv6 => {
            let g = |rng: &mut Rng| format!("{:x}", rng.range(1, 0xffff));
            let ip = match rng.below(3) {
                0 => format!("2001:db8:{}:{}::{}", g(rng), g(rng), g(rng)),
                1 => (0..8).map(|_| g(rng)).collect::<Vec<_>>().join(":"),
                _ => format!("fe80::{}:{}", g(rng), g(rng)),
            };
            (format!("peer [{ip}]:443"), ip)
        }
        Detector::Phone => {
            let p = match rng.below(6) {
                0 => format!("+81 90-{}-{}", rng.digits(4), rng.digits(4)),
                1 => format!("+1 415 555 {}", rng.digits(4)),
                2 => format!("+44 (0)20 {} {}", rng.digits(4), rng.digits(4)),
                3 => format!("03-{}-{}", rng.digits(4), rng.digits(4)),
                4 => format!(
                    "0{}0-{}-{}",
                    rng.pick(&["7", "8", "9"]),
                    rng.digits(4),
                    rng.digits(4)
                ),
                _ => format!("0{}0{}", rng.pick(&["7", "8", "9"]), rng.digits(8)),
            };
            (format!("tel {p} registered"), p)
        }
        Detector::MyNumber => {
            let n = my_number(rng);
            let shown = match rng.below(4) {
                0 => format!("{} {} {}", &n[..4], &n[4..8], &n[8..]),
                1 => format!("{}-{}-{}", &n[..4], &n[4..8], &n[8..]),
                2 => format!("\"my_number\":\"{n}\""),
                _ => format!("マイナンバー: {n}"),
            };
            (format!("本人確認 {shown} 受付"), n)
        }
    }
}

/// A valid Individual Number: 11 random digits and the check digit.
fn my_number(rng: &mut Rng) -> String {
    let body = rng.digits(11);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let n = i as u32 + 1;
            u32::from(c - b'0') * if n <= 6 { n + 1 } else { n - 5 }
        })
        .sum();
    let r = sum % 11;
    format!("{body}{}", if r <= 1 { 0 } else { 11 - r })
}

const LOOK_ALIKES: &[&str] = &[
    "UUIDs",
    "request and trace ids",
    "hashes (sha1, sha256, md5)",
    "hex strings",
    "timestamps and dates",
    "version strings",
    "prices and amounts",
    "order numbers",
    "AWS account ids and ARNs",
    "durations, ports, sizes",
];

fn look_alike(rng: &mut Rng, class: usize) -> String {
    match class {
        0 => format!(
            "{}-{}-4{}-{}{}-{}",
            from(rng, HEX, 8),
            from(rng, HEX, 4),
            from(rng, HEX, 3),
            rng.pick(&["8", "9", "a", "b"]),
            from(rng, HEX, 3),
            from(rng, HEX, 12)
        ),
        1 => match rng.below(4) {
            0 => format!("1-{}-{}", from(rng, HEX, 8), from(rng, HEX, 24)),
            1 => format!("req_{}", from(rng, ALNUM, 24)),
            2 => from(rng, HEX, 16),
            _ => format!("Root=1-{}-{}", from(rng, HEX, 8), from(rng, HEX, 24)),
        },
        2 => {
            let n = *rng.pick(&[32, 40, 64]);
            from(rng, HEX, n)
        }
        3 => {
            let n = rng.range(4, 16) as usize;
            format!("0x{}", from(rng, b"0123456789ABCDEF", n))
        }
        4 => match rng.below(5) {
            0 => format!(
                "2025-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                rng.range(1, 12),
                rng.range(1, 28),
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.below(1000)
            ),
            1 => format!("{}", rng.range(1_700_000_000_000, 1_800_000_000_000)),
            2 => format!(
                "{:02}:{:02}:{:02}",
                rng.below(24),
                rng.below(60),
                rng.below(60)
            ),
            3 => format!(
                "28/Nov/2025:{:02}:{:02}:{:02} +0900",
                rng.below(24),
                rng.below(60),
                rng.below(60)
            ),
            _ => format!(
                "2025/11/{:02} {:02}:{:02}",
                rng.range(1, 28),
                rng.below(24),
                rng.below(60)
            ),
        },
        5 => match rng.below(3) {
            0 => format!("{}.{}.{}", rng.below(20), rng.below(40), rng.below(200)),
            1 => format!(
                "v{}.{}.{}-rc.{}",
                rng.below(10),
                rng.below(30),
                rng.below(100),
                rng.below(9)
            ),
            _ => format!(
                "Chrome/{}.0.{}.{}",
                rng.range(100, 140),
                rng.range(1000, 7000),
                rng.below(300)
            ),
        },
        6 => match rng.below(4) {
            0 => format!("¥{},{:03}", rng.range(1, 999), rng.below(1000)),
            1 => format!("{}.{:02} USD", rng.range(1, 99_999), rng.below(100)),
            2 => format!(
                "{} {:03},{:02} €",
                rng.range(1, 999),
                rng.below(1000),
                rng.below(100)
            ),
            _ => format!("+{}.{:02}", rng.range(1, 999), rng.below(100)),
        },
        7 => match rng.below(4) {
            0 => format!("ORD-2025-{}", rng.digits(6)),
            1 => format!("{}", rng.range(100_000_000, 999_999_999_999)),
            2 => format!("#{}", rng.digits(8)),
            _ => format!("INV{}-{}", rng.digits(4), rng.digits(5)),
        },
        8 => {
            let acct = rng.digits(12);
            match rng.below(2) {
                0 => format!("arn:aws:iam::{acct}:role/app-{}", from(rng, HEX, 6)),
                _ => acct,
            }
        }
        _ => match rng.below(3) {
            0 => format!("{}ms", rng.below(100_000)),
            1 => format!(":{}", rng.range(1, 65535)),
            _ => format!("{} bytes", rng.below(10_000_000)),
        },
    }
}

/// One line of one of the four kinds, holding `values` (planted or look-alike).
fn line(rng: &mut Rng, values: Vec<Part>) -> Vec<Part> {
    let mut parts = Vec::new();
    let kind = rng.below(4);
    let t = |s: &str| Part::Text(s.to_string());
    match kind {
        0 => parts.push(t("{\"level\":\"info\",\"logger\":\"app.http\",\"msg\":\"")),
        1 => parts.push(t(
            "- - [28/Nov/2025:10:20:30 +0000] \"POST /api/v1/orders HTTP/1.1\" 201 512 \"",
        )),
        2 => parts.push(t(
            "ERROR 1 --- [nio-8080-exec-3] c.e.billing.PaymentWorker : ",
        )),
        _ => parts.push(t(
            "LOG:  duration: 12.5 ms  statement: SELECT * FROM orders WHERE note = '",
        )),
    }
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            parts.push(t(if kind == 0 { "\",\"f\":\"" } else { " " }));
        }
        parts.push(v);
    }
    match kind {
        0 => parts.push(t("\"}")),
        1 => parts.push(t("\" \"okhttp/4.12.0\"")),
        2 => parts.push(t(
            "\norg.springframework.dao.DataAccessResourceFailureException: failed\n\tat com.example.billing.PaymentWorker.capture(PaymentWorker.java:143)",
        )),
        _ => parts.push(t("' LIMIT 10")),
    }
    parts
}

/// Planted lines: each holds one planted value and two look-alikes.
fn corpus(seed: u64, per_detector: usize) -> Vec<Vec<Part>> {
    let mut rng = Rng(seed);
    let mut lines = Vec::new();
    for &d in Detector::ALL {
        for _ in 0..per_detector {
            let (shown, secret) = planted(&mut rng, d);
            let mut values = Vec::new();
            for _ in 0..2 {
                let class = rng.below(LOOK_ALIKES.len() as u64) as usize;
                values.push(Part::LookAlike {
                    class,
                    value: look_alike(&mut rng, class),
                });
            }
            let at = rng.below(3) as usize;
            values.insert(
                at,
                Part::Planted {
                    detector: d,
                    shown,
                    secret,
                },
            );
            lines.push(line(&mut rng, values));
        }
    }
    lines
}

fn text_of(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(s) | Part::LookAlike { value: s, .. } => s.as_str(),
            Part::Planted { shown, .. } => shown.as_str(),
        })
        .collect()
}

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_detection_and_look_alikes() {
    const PER_DETECTOR: usize = 20_000;
    let lines = corpus(0x7ed4c7, PER_DETECTOR);
    let mut redactor = Redactor::default();
    let mut out = Vec::new();
    let mut found = vec![0usize; Detector::ALL.len()];
    let mut total = vec![0usize; Detector::ALL.len()];
    let mut missed_example = vec![None; Detector::ALL.len()];
    let mut la_total = vec![0usize; LOOK_ALIKES.len()];
    let mut la_changed = vec![0usize; LOOK_ALIKES.len()];
    let mut la_example = vec![None; LOOK_ALIKES.len()];
    for parts in &lines {
        let text = text_of(parts);
        let mut tally = Tally::default();
        let changed = redactor.redact(text.as_bytes(), Redact::ALL, &mut out, &mut tally);
        let result = if changed {
            String::from_utf8_lossy(&out).into_owned()
        } else {
            text.clone()
        };
        for p in parts {
            match p {
                Part::Planted {
                    detector, secret, ..
                } => {
                    let i = *detector as usize;
                    total[i] += 1;
                    let tag = format!("[REDACTED:{}]", detector.name());
                    if !result.contains(secret.as_str()) && result.contains(&tag) {
                        found[i] += 1;
                    } else {
                        missed_example[i].get_or_insert_with(|| text.clone());
                    }
                }
                Part::LookAlike { class, value } => {
                    la_total[*class] += 1;
                    if !result.contains(value.as_str()) {
                        la_changed[*class] += 1;
                        la_example[*class].get_or_insert_with(|| (value.clone(), result.clone()));
                    }
                }
                Part::Text(_) => {}
            }
        }
    }
    println!("| detector | planted | found |");
    println!("|---|---:|---:|");
    for &d in Detector::ALL {
        let i = d as usize;
        println!(
            "| `{}` | {} | {:.2}% |",
            d.name(),
            total[i],
            found[i] as f64 * 100.0 / total[i] as f64
        );
        if let Some(e) = &missed_example[i] {
            println!("|   missed e.g. `{}` | | |", e.escape_debug());
        }
    }
    println!();
    println!("| look-alike class | values | changed |");
    println!("|---|---:|---:|");
    let (mut all, mut changed) = (0, 0);
    for (c, name) in LOOK_ALIKES.iter().enumerate() {
        all += la_total[c];
        changed += la_changed[c];
        println!(
            "| {name} | {} | {:.3}% |",
            la_total[c],
            la_changed[c] as f64 * 100.0 / la_total[c].max(1) as f64
        );
        if let Some((v, r)) = &la_example[c] {
            println!("|   e.g. `{v}` in `{}` | | |", r.escape_debug());
        }
    }
    println!(
        "all look-alikes: {all} values, {changed} changed ({:.3}%)",
        changed as f64 * 100.0 / all.max(1) as f64
    );
    if let Ok(path) = std::env::var("REDACT_CORPUS") {
        let text: Vec<String> = lines.iter().take(2000).map(|p| text_of(p)).collect();
        std::fs::write(path, text.join("\n---\n")).unwrap();
    }
}

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_indistinguishable() {
    // Values no detector can tell from the real thing, measured to say how often they
    // are redacted: 4-4-4 grouped numbers (a tenth pass the My Number check), and
    // four-part version numbers that are valid IPv4 addresses.
    let mut rng = Rng(0x1d);
    let mut redactor = Redactor::default();
    let mut out = Vec::new();
    let n = 100_000;
    let (mut grouped, mut versions) = (0, 0);
    for _ in 0..n {
        let g = format!(
            "code {}-{}-{} ok",
            rng.digits(4),
            rng.digits(4),
            rng.digits(4)
        );
        grouped += usize::from(redactor.redact(
            g.as_bytes(),
            Redact::ALL,
            &mut out,
            &mut Tally::default(),
        ));
        let v = format!(
            "agent {}.{}.{}.{} ok",
            rng.below(20),
            rng.below(20),
            rng.below(300),
            rng.below(300)
        );
        versions += usize::from(redactor.redact(
            v.as_bytes(),
            Redact::ALL,
            &mut out,
            &mut Tally::default(),
        ));
    }
    println!(
        "4-4-4 grouped random numbers redacted: {:.2}%; four-part versions (last two < 300): {:.2}%",
        grouped as f64 * 100.0 / n as f64,
        versions as f64 * 100.0 / n as f64
    );
}
