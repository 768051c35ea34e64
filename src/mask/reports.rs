//! Reports, not tests: the detection, false-positive and throughput figures quoted in
//! `docs/masking.md`, seeded so every run prints the same rates.

use super::tests::*;
use super::*;

// ------------------------------------------------------------------ reports
//
// `cargo test --release --lib mask::tests::report -- --ignored --nocapture --test-threads 1`
// prints the figures quoted in the README. Seeded: every run prints the same rates.

const LOOK_ALIKE_CLASSES: &[&str] = &[
    "epoch s/ms/us/ns (2015-2035)",
    "snowflake ids minted 2024-2026",
    "CloudWatch/Kinesis 56-digit ids",
    "autoincrement and order ids",
    "UUIDs",
    "IPv4 addresses [:port]",
    "phone numbers",
    "amounts",
    "hex strings (32/40/64)",
    "floats (f64 Display)",
    "timestamps, dates, versions",
    "IBANs (grouped by 4)",
    "valid PANs glued to letters",
    "random 10-12 digit ids",
    "random 13-19 digit ids",
    "random 4-4-4-4 grouped ids",
    "snowflake ids minted 2015-2035",
    "3-4 digit fields (status, port, code, ...)",
];

fn hex(rng: &mut Rng, n: usize, upper: bool) -> String {
    let set: &[u8] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    (0..n).map(|_| char::from(*rng.pick(set))).collect()
}

fn look_alike(rng: &mut Rng, class: usize) -> String {
    // 2015-01-01 .. 2035-01-01 in ms.
    let ms = rng.range(1_420_070_400_000, 2_051_222_400_000);
    match class {
        0 => match rng.below(4) {
            0 => (ms / 1000).to_string(),
            1 => ms.to_string(),
            2 => format!("{}{}", ms, rng.digits(3)),
            _ => format!("{}{}", ms, rng.digits(6)),
        },
        1 | 16 => {
            // Twitter's and Discord's epochs; class 1 is minted now (2024-2026), class 16
            // over 2015-2035, when they were (or will be) shorter or start with 2-6.
            let epoch = *rng.pick(&[1_288_834_974_657u64, 1_420_070_400_000]);
            let ms = if class == 1 {
                rng.range(1_704_067_200_000, 1_798_761_600_000)
            } else {
                ms
            };
            (((ms - epoch) << 22) | rng.below(1 << 22)).to_string()
        }
        2 => format!("{}{}", rng.range(1, 9), rng.digits(55)),
        3 => match rng.below(4) {
            0 => rng.range(1, 999_999_999).to_string(),
            1 => format!(
                "ORD-{}-{:08}",
                rng.range(2015, 2035),
                rng.below(100_000_000)
            ),
            2 => format!("{:012}", rng.below(1_000_000_000_000)), // AWS account ids
            _ => format!("INV{}", rng.digits(13)),
        },
        4 => {
            let upper = rng.below(4) == 0;
            let u = hex(rng, 32, upper);
            format!(
                "{}-{}-{}-{}-{}",
                &u[..8],
                &u[8..12],
                &u[12..16],
                &u[16..20],
                &u[20..]
            )
        }
        5 => {
            let ip = format!(
                "{}.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                rng.below(256),
                rng.below(256)
            );
            if rng.below(2) == 0 {
                format!("{ip}:{}", rng.range(1, 65535))
            } else {
                ip
            }
        }
        6 => {
            let (a, b, c) = (rng.range(200, 999), rng.range(200, 999), rng.digits(4));
            match rng.below(9) {
                0 => format!("+1 {a}-{b}-{c}"),
                1 => format!("({a}) {b}-{c}"),
                2 => format!("+1{a}{b}{c}"),
                3 => format!("{a}.{b}.{c}"),
                4 => format!("+44 20 {} {}", rng.digits(4), rng.digits(4)),
                5 => format!(
                    "+33 {} {} {} {} {}",
                    rng.range(1, 9),
                    rng.digits(2),
                    rng.digits(2),
                    rng.digits(2),
                    rng.digits(2)
                ),
                6 => format!("+49 30 {}", rng.digits(8)),
                7 => format!("+86 1{} {} {}", rng.digits(2), rng.digits(4), rng.digits(4)),
                _ => format!("+91 {} {}", rng.digits(5), rng.digits(5)),
            }
        }
        7 => {
            let cents = rng.below(100);
            let width = rng.range(1, 15) as u32;
            let whole = rng.below(10u64.pow(width));
            match rng.below(3) {
                0 => format!("{}.{cents:02}", thousands(whole, ',')),
                1 => format!("{},{cents:02}", thousands(whole, '.')),
                _ => format!("{whole}.{cents:02}"),
            }
        }
        8 => {
            let n = *rng.pick(&[32, 40, 64]);
            hex(rng, n, false)
        }
        9 => {
            // Uniform in [0, 10^k): Display gives the shortest round-trip digits.
            let scale = 10f64.powi(rng.below(7) as i32);
            ((rng.next() >> 11) as f64 / (1u64 << 53) as f64 * scale).to_string()
        }
        10 => match rng.below(4) {
            0 => format!(
                "2025-{:02}-{:02}T{:02}:{:02}:{:02}.{}Z",
                rng.range(1, 12),
                rng.range(1, 28),
                rng.below(24),
                rng.below(60),
                rng.below(60),
                {
                    let n = 3 * rng.range(1, 3) as usize;
                    rng.digits(n)
                }
            ),
            1 => format!(
                "2025-{:02}-{:02} {:02}:{:02}:{:02},{}",
                rng.range(1, 12),
                rng.range(1, 28),
                rng.below(24),
                rng.below(60),
                rng.below(60),
                rng.digits(3)
            ),
            2 => format!("{}.{}.{}", rng.below(20), rng.below(50), rng.below(10_000)),
            _ => format!("{} ms", rng.below(100_000)),
        },
        11 => {
            let (cc, bban) = match rng.below(5) {
                0 => ("DE", rng.digits(18)),
                1 => ("FR", format!("{}{}", rng.digits(21), rng.digits(2))),
                2 => ("GB", format!("NWBK{}", rng.digits(14))),
                3 => ("ES", rng.digits(20)),
                _ => ("NL", format!("ABNA{}", rng.digits(10))),
            };
            let iban = with_iban_check(cc, &bban);
            let chunks: Vec<String> = iban
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            chunks.join(" ")
        }
        12 => {
            let brand = rng.below(BRANDS.len() as u64) as usize;
            let pan = gen_pan(rng, brand);
            match rng.below(3) {
                0 => format!("x{pan}"),
                1 => format!("{pan}z"),
                _ => format!(
                    "tok_{}{pan}",
                    hex(rng, 6, false).replace(|c: char| c.is_ascii_digit(), "q")
                ),
            }
        }
        13 => format!("{}{}", rng.range(1, 9), rng.digits_between(9, 11)),
        14 => format!("{}{}", rng.range(1, 9), rng.digits_between(12, 18)),
        15 => {
            let d = format!("{}{}", rng.range(1, 9), rng.digits(15));
            layout(&d, &[4, 4, 4, 4], *rng.pick(&[' ', '-']))
        }
        17 => {
            let key = *rng.pick(&[
                "status",
                "port",
                "code",
                "errorCode",
                "year",
                "ms",
                "retries",
                "pid",
                "http_status",
                "zip",
                "cvvResult",
                "cid",
                "pinCount",
                "version",
            ]);
            let v = rng.digits_between(3, 4);
            match rng.below(3) {
                0 => format!("\"{key}\":\"{v}\""),
                1 => format!("{key}={v}"),
                _ => format!("{key}: {v}"),
            }
        }
        _ => unreachable!("no look-alike class {class}"),
    }
}

/// `cc`, ISO 13616 check digits, `bban`.
fn with_iban_check(cc: &str, bban: &str) -> String {
    let rearranged = format!("{bban}{cc}00");
    let rem = rearranged.bytes().fold(0u32, |acc, c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    format!("{cc}{:02}{bban}", 98 - rem)
}

fn thousands(n: u64, sep: char) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Exact share of uniformly random n-digit numbers (first digit 1-9) with a brand
/// prefix, from all 6-digit prefixes.
fn brand_prefix_share(n: usize) -> f64 {
    let hits = (100_000u32..1_000_000)
        .filter(|p| {
            let mut d = digits_of(&p.to_string());
            d.resize(n, 0);
            brand(&d).is_some()
        })
        .count();
    hits as f64 / 900_000.0
}

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_false_positives() {
    const PER_CLASS: usize = 1_000_000;
    let templates = [
        "level=info msg=\"value {} seen\"",
        "{\"level\":\"info\",\"value\":\"{}\"}",
        "{}",
    ];
    let mut rng = Rng(0x5eed);
    let mut scratch = String::new();
    println!("| look-alike class | lines | masked | rate |");
    println!("|---|---:|---:|---:|");
    for (class, name) in LOOK_ALIKE_CLASSES.iter().enumerate() {
        let mut masked = 0usize;
        let mut example = None;
        for i in 0..PER_CLASS {
            let line = templates[i % templates.len()].replace("{}", &look_alike(&mut rng, class));
            if mask(&line, Keep::First6Last4, &mut scratch).is_some() {
                masked += 1;
                example.get_or_insert_with(|| (line.clone(), scratch.clone()));
            }
        }
        println!(
            "| {name} | {PER_CLASS} | {masked} | {:.4}% |",
            masked as f64 * 100.0 / PER_CLASS as f64
        );
        if let Some((line, out)) = example {
            println!("|   e.g. `{line}` -> `{out}` | | | |");
        }
    }
    let expected: f64 = (MIN_LEN..=MAX_LEN).map(brand_prefix_share).sum::<f64>()
        / (MAX_LEN - MIN_LEN + 1) as f64
        * 10.0;
    println!(
        "expected for random 13-19 digit ids: brand prefix share x Luhn 10% = {expected:.3}%; \
         for 16 digits: {:.3}%",
        brand_prefix_share(16) * 10.0
    );
}

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_detection() {
    const PER_CASE: usize = 200;
    let contexts = [
        "{}",
        "paid with {} today",
        "{\"card\":\"{}\",\"ok\":true}",
        "card={}&x=1",
        "({})",
        "card\t{}\n",
    ];
    let mut rng = Rng(0xca7d);
    let mut scratch = String::new();
    let (mut total, mut found, mut exact) = (0usize, 0usize, 0usize);
    println!("| brand | lengths | layouts | PANs tried | detected | masked as specified |");
    println!("|---|---|---|---:|---:|---:|");
    for (bi, (brand, _, lens)) in BRANDS.iter().enumerate() {
        let (mut t, mut f, mut x) = (0usize, 0usize, 0usize);
        let mut names = Vec::new();
        for &len in *lens {
            for groups in layouts(len) {
                let name = groups
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("-");
                if !names.contains(&name) {
                    names.push(name);
                }
                for sep in [' ', '-'] {
                    for ctx in contexts {
                        for keep in [Keep::First6Last4, Keep::Last4] {
                            for _ in 0..PER_CASE / 4 {
                                let pan = gen_pan_len(&mut rng, bi, len);
                                let f_ = layout(&pan, &groups, sep);
                                let text = ctx.replace("{}", &f_);
                                t += 1;
                                if mask(&text, keep, &mut scratch).is_some() {
                                    f += 1;
                                    if scratch == ctx.replace("{}", &expected(&f_, keep)) {
                                        x += 1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        println!(
            "| {brand:?} | {} | {} | {t} | {:.3}% | {:.3}% |",
            lens.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            names.join(", "),
            f as f64 * 100.0 / t as f64,
            x as f64 * 100.0 / t as f64
        );
        (total, found, exact) = (total + t, found + f, exact + x);
    }
    println!(
        "total: {total} PANs, detected {:.3}%, masked exactly {:.3}%",
        found as f64 * 100.0 / total as f64,
        exact as f64 * 100.0 / total as f64
    );
}

/// Log lines like those CloudWatch Logs carries: Lambda platform lines, JSON
/// application logs, access logs. One in `pan_every` lines carries a card number.
fn log_corpus(rng: &mut Rng, lines: usize, pan_every: Option<usize>) -> Vec<String> {
    (0..lines)
        .map(|i| {
            let uuid = look_alike(rng, 4);
            let ts = look_alike(rng, 10);
            let ip = look_alike(rng, 5);
            let mut line = match rng.below(6) {
                0 => format!("START RequestId: {uuid} Version: $LATEST"),
                1 => format!(
                    "REPORT RequestId: {uuid}\tDuration: {}.{} ms\tBilled Duration: {} ms\tMemory Size: 512 MB\tMax Memory Used: {} MB",
                    rng.below(2000), rng.digits(2), rng.below(2000), rng.range(60, 512)
                ),
                2 => format!(
                    "{{\"timestamp\":\"2025-11-28T16:38:{:02}.{}Z\",\"level\":\"INFO\",\"requestId\":\"{uuid}\",\"message\":\"order created\",\"orderId\":\"ORD-2025-{:08}\",\"userId\":{},\"amount\":{}.{:02},\"currency\":\"EUR\",\"latencyMs\":{}}}",
                    rng.below(60), rng.digits(3), rng.below(100_000_000), rng.below(10_000_000), rng.below(10_000), rng.below(100), rng.below(3000)
                ),
                3 => format!(
                    "{ip} - - [28/Nov/2025:16:38:{:02} +0000] \"GET /api/v1/orders/{}?page={} HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\"",
                    rng.below(60), rng.below(100_000_000), rng.below(50), *rng.pick(&[200, 201, 304, 404, 500]), rng.below(100_000)
                ),
                4 => format!(
                    "{ts} ERROR [main] c.e.payments.Gateway - upstream timeout after {}ms (attempt {}/3, trace={})",
                    rng.below(30_000), rng.range(1, 3), look_alike(rng, 8)
                ),
                _ => format!(
                    "{ts} INFO  worker-{} processed batch id={} records={} bytes={} lag={}s",
                    rng.below(16), look_alike(rng, 1), rng.below(10_000), rng.below(10_000_000), rng.below(600)
                ),
            };
            if pan_every.is_some_and(|k| i % k == 0) {
                let brand = rng.below(BRANDS.len() as u64) as usize;
                let pan = gen_pan(rng, brand);
                let options = layouts(pan.len());
                let f = layout(&pan, rng.pick::<Vec<usize>>(&options), *rng.pick(&[' ', '-']));
                line.push_str(&format!(" payment {{\"card\":\"{f}\",\"cvv\":\"{}\"}}", rng.digits(3)));
            }
            line
        })
        .collect()
}

/// MB/s of `f` over `lines`: the best of 20 passes, so that other work on the machine
/// weighs as little as possible; and what `f` returned over one pass.
fn throughput(lines: &[String], f: &mut dyn FnMut(&str) -> usize) -> (f64, usize) {
    let bytes: usize = lines.iter().map(String::len).sum();
    let mut best = f64::MAX;
    let mut hits = 0;
    for _ in 0..20 {
        hits = 0;
        let start = std::time::Instant::now();
        for l in lines {
            hits += f(l);
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    (bytes as f64 / best / 1e6, hits)
}

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_throughput() {
    let mut rng = Rng(0x106);
    let clean = log_corpus(&mut rng, 20_000, None);
    let with_pans = log_corpus(&mut rng, 20_000, Some(10));
    let avg = clean.iter().map(String::len).sum::<usize>() / clean.len();
    println!("corpus: 20,000 lines each, {avg} bytes per line on average");
    println!("| corpus | what | MB/s | values masked per pass |");
    println!("|---|---|---:|---:|");
    for (name, corpus) in [("no PAN", &clean), ("1 PAN + CVV / 10 lines", &with_pans)] {
        let mut scratch = String::new();
        let (mbs, hits) = throughput(corpus, &mut |l| {
            mask(l, Keep::First6Last4, &mut scratch).unwrap_or(0)
        });
        println!("| {name} | mask | {mbs:.0} | {hits} |");
        // What the line writer runs on escaped messages: the check, then mask only
        // where it says yes.
        let bodies: Vec<String> = corpus
            .iter()
            .map(|l| {
                let q = serde_json::to_string(l).unwrap();
                q[1..q.len() - 1].to_owned()
            })
            .collect();
        let (mbs, yes) = throughput(&bodies, &mut |body| {
            usize::from(json_body_may_mask(body.as_bytes()))
        });
        println!("| {name} | check the escaped JSON body (says yes {yes} times) | {mbs:.0} | |");
        let mut copy = String::new();
        let (mbs, _) = throughput(corpus, &mut |l| {
            copy.clear();
            copy.push_str(l);
            copy.len() & 1
        });
        println!("| {name} | baseline: copy into a String | {mbs:.0} | |");
    }
}
