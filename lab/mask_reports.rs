//! Reports, not tests: the detection, false-positive and throughput figures quoted in
//! `docs/masking.md`, seeded so every run prints the same rates. Opt-in (each is an
//! ignored test) and best run alone, in release:
//!
//! ```text
//! cargo test --release --no-default-features --test mask_reports -- --ignored --nocapture --test-threads 1
//! ```
//!
//! They see masking as the line writer does, through `mask` and `json_body_may_mask`;
//! the cards come from the generators the masking tests use.

#[path = "../src/mask/tests/cards.rs"]
mod cards;

use cards::*;
use cwl_firehose::internals::{json_body_may_mask, mask};
use cwl_firehose::Keep;

/// What the PAN `formatted` must become under `keep`: its first 6 digits (none in last-4
/// mode) and its last 4 readable.
fn masked_as_specified(formatted: &str, keep: Keep) -> String {
    let head = match keep {
        Keep::First6Last4 => 6,
        Keep::Last4 => 0,
    };
    expected(formatted, head, 4)
}

/// The look-alike classes, each with whether it has a structure a card number cannot
/// have (those must stay at 0%) or is random digits (masked at the share that passes
/// Luhn with a brand prefix, which cannot be told from a card).
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
    "random 13-19 digit ids in any grouping of 3-6",
    "lists of 3-6 digit numbers, 20-40 digits in all",
    "numbers with a space between thousands",
    "phone numbers, international and national groupings",
    "tracking, tax, bank and device numbers in groups",
    "table rows, single-spaced columns (vmstat)",
    "table rows, tab or double-space columns",
    "table rows of 3-digit fields, single-spaced",
];

/// Classes of random digits (see [`LOOK_ALIKE_CLASSES`]).
const UNSTRUCTURED: &[usize] = &[13, 14, 15, 16, 18, 20, 23, 25];

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
        18 => {
            let n = rng.range(MIN_LEN as u64, MAX_LEN as u64) as usize;
            let d = format!("{}{}", rng.range(1, 9), rng.digits(n - 1));
            let sep = *rng.pick(&[' ', '-']);
            let options = layouts_with(n, sep);
            let groups = rng.pick(&options[1..]).clone();
            layout(&d, &groups, sep)
        }
        19 => {
            let total = rng.range(20, 40) as usize;
            let mut groups = Vec::new();
            let mut n = 0;
            while n < total {
                let g = (rng.range(3, 6) as usize).min(total - n).max(1);
                groups.push(g);
                n += g;
            }
            let d = format!("{}{}", rng.range(1, 9), rng.digits(n - 1));
            layout(&d, &groups, *rng.pick(&[' ', ' ', ' ', '-']))
        }
        20 => {
            let width = rng.range(4, 21) as usize;
            let n = format!("{}{}", rng.range(1, 9), rng.digits(width - 1));
            let spaced = thousands_str(&n, ' ');
            match rng.below(4) {
                0 => format!("{spaced},{:02}", rng.below(100)),
                1 => format!("{spaced}.{:02}", rng.below(100)),
                2 => format!("{spaced} EUR"),
                _ => format!("{spaced} bytes"),
            }
        }
        21 => phone(rng),
        22 => grouped_number(rng),
        23 => vmstat_row(rng),
        24 => {
            let cols = rng.range(3, 10);
            let sep = *rng.pick(&["\t", "  ", "   "]);
            (0..cols)
                .map(|_| {
                    let k = rng.range(1, 7) as u32;
                    rng.below(10u64.pow(k)).to_string()
                })
                .collect::<Vec<_>>()
                .join(sep)
        }
        25 => {
            // Status codes, ports, sizes, per-mille figures: 3-digit columns joined by
            // one space, 3 to 12 of them (five or six in a row can read as a card).
            let cols = rng.range(3, 12);
            (0..cols)
                .map(|_| rng.range(100, 999).to_string())
                .collect::<Vec<_>>()
                .join(" ")
        }
        _ => unreachable!("no look-alike class {class}"),
    }
}

/// `n` (digits) with `sep` between thousands.
fn thousands_str(n: &str, sep: char) -> String {
    let mut out = String::new();
    for (i, c) in n.chars().enumerate() {
        if i > 0 && (n.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Phone numbers as people and libphonenumber print them, with and without the country
/// code (`+` or `00`).
fn phone(rng: &mut Rng) -> String {
    let d = |rng: &mut Rng, n: usize| rng.digits(n);
    let intl = *rng.pick(&["+", "00"]);
    match rng.below(12) {
        0 => format!("{intl}86 1{} {} {}", d(rng, 2), d(rng, 4), d(rng, 4)),
        1 => format!("{intl}44 7{} {}", d(rng, 3), d(rng, 6)),
        2 => format!(
            "{intl}7 9{} {}-{}-{}",
            d(rng, 2),
            d(rng, 3),
            d(rng, 2),
            d(rng, 2)
        ),
        3 => format!("{intl}49 1{} {}", d(rng, 2), d(rng, 7)),
        4 => format!(
            "{intl}33 {} {} {} {} {}",
            rng.range(1, 9),
            d(rng, 2),
            d(rng, 2),
            d(rng, 2),
            d(rng, 2)
        ),
        5 => format!("{intl}61 4{} {} {}", d(rng, 2), d(rng, 3), d(rng, 3)),
        6 => format!(
            "{intl}1 {} {} {}",
            rng.range(200, 999),
            rng.range(200, 999),
            d(rng, 4)
        ),
        7 => format!("1-800-{}-{}", rng.range(200, 999), d(rng, 4)),
        8 => format!("{intl}55 11 9{}-{}", d(rng, 4), d(rng, 4)),
        9 => format!("{intl}91 {}{} {}", rng.range(6, 9), d(rng, 4), d(rng, 5)),
        10 => format!("{intl}81 90-{}-{}", d(rng, 4), d(rng, 4)),
        _ => format!("0{} {} {}", rng.range(20, 99), d(rng, 4), d(rng, 4)),
    }
}

/// Numbers other than cards that are printed in groups: USPS tracking (22 digits from 9),
/// Brazilian NF-e access keys (44 digits in groups of 4), Spanish CCC accounts (20),
/// Mexican CLABE (18, from a bank code of 0-1), ISBN-13, IMEI (15, Luhn-valid, TAC from
/// 01, 35 or 86) and ICCID (19, from 89, Luhn-valid).
fn grouped_number(rng: &mut Rng) -> String {
    let luhn_complete = |rng: &mut Rng, head: &str, n: usize| -> String {
        with_check_digit(&format!("{head}{}", rng.digits(n - 1 - head.len())))
    };
    match rng.below(7) {
        0 => {
            let d = format!("9{}{}", rng.range(2, 5), rng.digits(20));
            layout(&d, &[4, 4, 4, 4, 4, 2], ' ')
        }
        1 => {
            let d = format!("{}{}", rng.range(11, 53), rng.digits(42));
            layout(&d, &[4; 11], ' ')
        }
        2 => {
            let d = format!(
                "{}{}",
                *rng.pick(&["2100", "0049", "0182", "2038", "0081"]),
                rng.digits(16)
            );
            if rng.below(2) == 0 {
                layout(&d, &[4, 4, 4, 4, 4], ' ')
            } else {
                layout(&d, &[4, 4, 2, 10], '-')
            }
        }
        3 => {
            let bank = *rng.pick(&["002", "012", "014", "021", "072", "127", "137"]);
            let d = format!("{bank}{}", rng.digits(15));
            layout(&d, &[4, 4, 4, 4, 2], *rng.pick(&[' ', '-']))
        }
        4 => {
            // 978/979, a group, publisher and title (8 digits together), check digit.
            let publisher = rng.range(2, 7) as usize;
            let d = format!("97{}{}", rng.range(8, 9), rng.digits(10));
            layout(&d, &[3, 1, publisher, 8 - publisher, 1], '-')
        }
        5 => {
            let tac = *rng.pick(&["01", "35", "86"]);
            let d = luhn_complete(rng, tac, 15);
            match rng.below(3) {
                0 => layout(&d, &[2, 6, 6, 1], '-'),
                1 => layout(&d, &[2, 6, 6, 1], ' '),
                _ => layout(&d, &[6, 2, 6, 1], ' '),
            }
        }
        _ => {
            let d = luhn_complete(rng, "89", 19);
            layout(&d, &[4, 4, 4, 4, 3], ' ')
        }
    }
}

/// A `vmstat` row: its columns are right-aligned to fixed widths, so wide values end up
/// one space apart (`812345 123456 234567`).
fn vmstat_row(rng: &mut Rng) -> String {
    // 5 to 7 digits, each width as likely: three 6-digit values in a row are the case
    // that looks like a card (6-6-6).
    let mem = |rng: &mut Rng| {
        let k = rng.range(5, 7) as u32;
        rng.range(10u64.pow(k - 1), 10u64.pow(k) - 1)
    };
    let cols = [
        (2, rng.below(5)),
        (2, rng.below(3)),
        (6, if rng.below(2) == 0 { 0 } else { mem(rng) }),
        (6, mem(rng)),
        (6, mem(rng)),
        (6, mem(rng)),
        (4, rng.below(100)),
        (4, rng.below(100)),
        (5, rng.below(100_000)),
        (5, rng.below(100_000)),
        (4, rng.below(20_000)),
        (4, rng.below(50_000)),
        (2, rng.below(100)),
        (2, rng.below(100)),
        (2, rng.below(100)),
        (2, rng.below(100)),
        (2, 0),
    ];
    cols.iter()
        .map(|&(w, v)| format!("{v:>w$}"))
        .collect::<Vec<_>>()
        .join(" ")
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
    thousands_str(&n.to_string(), sep)
}

/// Exact share of uniformly random n-digit numbers (first digit 1-9) with a brand
/// prefix, from all 6-digit prefixes.
fn brand_prefix_share(n: usize) -> f64 {
    let hits = (100_000u32..1_000_000)
        .filter(|&p| issuer(u64::from(p), n).is_some())
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
    println!("| look-alike class | kind | lines | masked | rate |");
    println!("|---|---|---:|---:|---:|");
    for (class, name) in LOOK_ALIKE_CLASSES.iter().enumerate() {
        let kind = if UNSTRUCTURED.contains(&class) {
            "random"
        } else {
            "structured"
        };
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
            "| {name} | {kind} | {PER_CLASS} | {masked} | {:.4}% |",
            masked as f64 * 100.0 / PER_CLASS as f64
        );
        if let Some((line, out)) = example {
            println!("|   e.g. `{line}` -> `{out}` | | | | |");
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
    // PANs per brand, length, grouping, separator, context and mode.
    const PER_CASE: usize = 4;
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
    let (mut total, mut found, mut exact, mut groupings) = (0usize, 0usize, 0usize, 0usize);
    println!("| brand | lengths | groupings (space + dash) | PANs tried | detected | masked as specified |");
    println!("|---|---|---:|---:|---:|---:|");
    for (bi, (brand, _, lens)) in BRANDS.iter().enumerate() {
        let (mut t, mut f, mut x, mut g) = (0usize, 0usize, 0usize, 0usize);
        for &len in *lens {
            for sep in [' ', '-'] {
                for groups in layouts_with(len, sep) {
                    g += 1;
                    for ctx in contexts {
                        for keep in [Keep::First6Last4, Keep::Last4] {
                            for _ in 0..PER_CASE {
                                let pan = gen_pan_len(&mut rng, bi, len);
                                let f_ = layout(&pan, &groups, sep);
                                let text = ctx.replace("{}", &f_);
                                t += 1;
                                if mask(&text, keep, &mut scratch).is_some() {
                                    f += 1;
                                    if scratch == ctx.replace("{}", &masked_as_specified(&f_, keep))
                                    {
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
            "| {brand} | {} | {g} | {t} | {:.3}% | {:.3}% |",
            lens.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            f as f64 * 100.0 / t as f64,
            x as f64 * 100.0 / t as f64
        );
        (total, found, exact, groupings) = (total + t, found + f, exact + x, groupings + g);
    }
    println!(
        "total: {total} PANs in {groupings} brand x grouping x separator cases, detected {:.3}%, \
         masked exactly {:.3}%",
        found as f64 * 100.0 / total as f64,
        exact as f64 * 100.0 / total as f64
    );
    // Groups of three joined by spaces, five or six of them (numbers with a space between
    // thousands look the same: `report_false_positives` measures those).
    let (mut t, mut f) = (0usize, 0usize);
    for (bi, (_, _, lens)) in BRANDS.iter().enumerate() {
        for &len in lens.iter().filter(|&&l| l % 3 == 0) {
            for _ in 0..1000 {
                let pan = gen_pan_len(&mut rng, bi, len);
                let text = format!("card {} ok", layout(&pan, &vec![3; len / 3], ' '));
                t += 1;
                f += usize::from(mask(&text, Keep::First6Last4, &mut scratch).is_some());
            }
        }
    }
    println!(
        "{t} PANs printed in groups of three joined by spaces, detected {:.3}%",
        f as f64 * 100.0 / t as f64
    );
    // Tabs and double spaces do not join groups.
    let (mut t, mut f) = (0usize, 0usize);
    for sep in ["\t", "  "] {
        for _ in 0..10_000 {
            let bi = rng.below(BRANDS.len() as u64) as usize;
            let pan = gen_pan(&mut rng, bi);
            let groups = canonical(pan.len());
            let text = format!("card {} ok", layout(&pan, &groups, '|').replace('|', sep));
            t += 1;
            f += usize::from(mask(&text, Keep::First6Last4, &mut scratch).is_some());
        }
    }
    println!(
        "left out: {t} PANs in groups of 4 joined by tabs or double spaces, detected {:.3}%",
        f as f64 * 100.0 / t as f64
    );
}

/// A random valid PAN in a random grouping accepted with `sep` (never contiguous).
fn grouped_pan(rng: &mut Rng, sep: char) -> String {
    let bi = rng.below(BRANDS.len() as u64) as usize;
    let pan = gen_pan(rng, bi);
    let options = layouts_with(pan.len(), sep);
    let groups = rng.pick(&options[1..]).clone();
    layout(&pan, &groups, sep)
}

/// Whether the PAN `f` inside `text` came out masked as specified.
fn pan_masked(text: &str, f: &str, scratch: &mut String) -> bool {
    mask(text, Keep::First6Last4, scratch).is_some()
        && scratch.contains(&masked_as_specified(f, Keep::First6Last4))
}

/// Generates the groups of a run and their separator.
type RunOfGroups = fn(&mut Rng) -> (Vec<String>, char);

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_neighbours() {
    // What a PAN next to another number gives, by what stands between them.
    const PER_CASE: usize = 2_000;
    let neighbours = [
        ("a year", "2025"),
        ("a 3-digit number", "123"),
        ("a 1-digit number", "5"),
        ("a 6-digit number", "482913"),
        ("an expiry", "12/27"),
        ("a date", "2025-11-28"),
        ("a time", "16:38:00"),
        ("an amount", "100.00"),
    ];
    let joiners = [
        ("its own separator", ""),
        ("the other separator", ""),
        ("`, `", ", "),
        ("a tab", "\t"),
        ("two spaces", "  "),
        ("a word", " exp "),
    ];
    let mut rng = Rng(0x4e16);
    let mut scratch = String::new();
    println!("| neighbour | joined by | PAN then it | it then PAN |");
    println!("|---|---|---:|---:|");
    for (nname, nb) in neighbours {
        for (ji, (jname, j)) in joiners.iter().enumerate() {
            let mut rates = [0usize; 2];
            for _ in 0..PER_CASE {
                let sep = *rng.pick(&[' ', '-']);
                let other = if sep == ' ' { "-" } else { " " };
                let own = sep.to_string();
                let j = match ji {
                    0 => own.as_str(),
                    1 => other,
                    _ => j,
                };
                let f = grouped_pan(&mut rng, sep);
                for (k, text) in [format!("x {f}{j}{nb} y"), format!("x {nb}{j}{f} y")]
                    .iter()
                    .enumerate()
                {
                    rates[k] += usize::from(pan_masked(text, &f, &mut scratch));
                }
            }
            println!(
                "| {nname} `{nb}` | {jname} | {:.1}% | {:.1}% |",
                rates[0] as f64 * 100.0 / PER_CASE as f64,
                rates[1] as f64 * 100.0 / PER_CASE as f64
            );
        }
    }

    // Runs of groups longer than any PAN, under the rule chosen (one number: nothing
    // masked) and two others, simulated by masking parts of the run on their own.
    // "ends": a PAN may be the run without its first or its last group (a PAN and one
    // neighbour); "anywhere": any part of it made of whole groups.
    const RUNS: usize = 200_000;
    println!();
    println!(
        "| run of groups (sample of {RUNS}) | masked: one number (chosen) | ends | anywhere |"
    );
    println!("|---|---:|---:|---:|");
    let kinds: [(&str, RunOfGroups); 6] = [
        (
            "PAN, then a year with its own separator (detection)",
            |rng| {
                let sep = *rng.pick(&[' ', '-']);
                let f = grouped_pan(rng, sep);
                let mut g: Vec<String> = f.split(sep).map(str::to_owned).collect();
                g.push(rng.range(2015, 2035).to_string());
                (g, sep)
            },
        ),
        (
            "a year, then a PAN with its own separator (detection)",
            |rng| {
                let sep = *rng.pick(&[' ', '-']);
                let f = grouped_pan(rng, sep);
                let mut g = vec![rng.range(2015, 2035).to_string()];
                g.extend(f.split(sep).map(str::to_owned));
                (g, sep)
            },
        ),
        ("lists of 5-10 numbers of 4 digits", |rng| {
            let n = rng.range(5, 10);
            (
                (0..n).map(|_| rng.range(1000, 9999).to_string()).collect(),
                ' ',
            )
        }),
        ("lists of 3-6 digit numbers, 20-40 digits", |rng| {
            let l = look_alike(rng, 19);
            let sep = if l.contains('-') { '-' } else { ' ' };
            (l.split(sep).map(str::to_owned).collect(), sep)
        }),
        ("USPS tracking numbers (22 digits)", |rng| {
            let d = format!("9{}{}", rng.range(2, 5), rng.digits(20));
            let l = layout(&d, &[4, 4, 4, 4, 4, 2], ' ');
            (l.split(' ').map(str::to_owned).collect(), ' ')
        }),
        ("Spanish CCC accounts (20 digits in groups of 4)", |rng| {
            let d = format!(
                "{}{}",
                *rng.pick(&["2100", "0049", "0182", "2038", "0081"]),
                rng.digits(16)
            );
            let l = layout(&d, &[4, 4, 4, 4, 4], ' ');
            (l.split(' ').map(str::to_owned).collect(), ' ')
        }),
    ];
    for (name, gen) in kinds {
        let mut counts = [0usize; 3];
        for _ in 0..RUNS {
            let (g, sep) = gen(&mut rng);
            let s = sep.to_string();
            let line = format!("x {} y", g.join(&s));
            let alone = |i: usize, j: usize, scratch: &mut String| {
                mask(&g[i..j].join(&s), Keep::First6Last4, scratch).is_some()
            };
            let n = g.len();
            counts[0] += usize::from(mask(&line, Keep::First6Last4, &mut scratch).is_some());
            counts[1] += usize::from(alone(1, n, &mut scratch) || alone(0, n - 1, &mut scratch));
            let any =
                (0..n).any(|i| (i + 1..=n).any(|j| (i, j) != (0, n) && alone(i, j, &mut scratch)));
            counts[2] += usize::from(any);
        }
        let pct = |c: usize| c as f64 * 100.0 / RUNS as f64;
        println!(
            "| {name} | {:.3}% | {:.3}% | {:.3}% |",
            pct(counts[0]),
            pct(counts[1]),
            pct(counts[2])
        );
    }
}

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_columns() {
    // Tabs and double spaces: what counting them as separators would cost.
    const LINES: usize = 1_000_000;
    let mut rng = Rng(0xc01);
    let mut scratch = String::new();
    let (mut now, mut counted) = (0usize, 0usize);
    for _ in 0..LINES {
        let row = look_alike(&mut rng, 24);
        now += usize::from(mask(&row, Keep::First6Last4, &mut scratch).is_some());
        let single: String = row
            .split(['\t', ' '])
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        counted += usize::from(mask(&single, Keep::First6Last4, &mut scratch).is_some());
    }
    println!(
        "{LINES} table rows of 3-9 numbers of 1-7 digits, columns split by a tab or 2-3 spaces: \
         masked {:.4}%; if tabs and runs of spaces joined groups: {:.4}%",
        now as f64 * 100.0 / LINES as f64,
        counted as f64 * 100.0 / LINES as f64
    );
}

/// One line of the digit-heavy corpus, of kind `kind` (see [`DIGIT_HEAVY`]).
fn digit_heavy_line(rng: &mut Rng, kind: usize) -> String {
    match kind {
        0 => log_corpus(rng, 1, None).remove(0),
        1 => vmstat_row(rng),
        2 => look_alike(rng, 24),
        3 => format!("call {} or {}", phone(rng), look_alike(rng, 6)),
        4 => format!("total {} ({})", look_alike(rng, 20), look_alike(rng, 7)),
        5 => format!("shipped {} ref {}", grouped_number(rng), look_alike(rng, 3)),
        6 => {
            let n = rng.range(2, 8);
            let ids: Vec<String> = (0..n)
                .map(|_| {
                    let k = rng.range(1, 6) as u32;
                    rng.range(10u64.pow(k - 1), 10u64.pow(k) - 1).to_string()
                })
                .collect();
            format!(
                "retrying shards {} after {} ms",
                ids.join(" "),
                rng.below(10_000)
            )
        }
        7 => format!(
            "ts={} id={} user={} took {}",
            look_alike(rng, 0),
            look_alike(rng, 1),
            look_alike(rng, 3),
            look_alike(rng, 10)
        ),
        8 => format!(
            "{} {} {} {}",
            look_alike(rng, 5),
            look_alike(rng, 4),
            look_alike(rng, 9),
            look_alike(rng, 17)
        ),
        _ => format!("iban {} amount {}", look_alike(rng, 11), look_alike(rng, 7)),
    }
}

const DIGIT_HEAVY: &[&str] = &[
    "application, access and platform log lines (the throughput corpus)",
    "vmstat rows",
    "table rows, tab or double-space columns",
    "phone numbers",
    "amounts (space, comma and dot thousands separators)",
    "tracking, tax, bank and device numbers in groups, with an order id",
    "lists of 2-8 numbers of 1-6 digits",
    "epoch, snowflake and order ids, timestamps",
    "IPs, UUIDs, floats, 3-4 digit fields",
    "IBANs and amounts",
];

#[test]
#[ignore = "report: run with --release --ignored --nocapture"]
fn report_digit_heavy() {
    const PER_KIND: usize = 100_000;
    let mut rng = Rng(0xd161);
    let mut scratch = String::new();
    let mut all = 0usize;
    println!("| digit-heavy lines | lines | masked | rate |");
    println!("|---|---:|---:|---:|");
    for (kind, name) in DIGIT_HEAVY.iter().enumerate() {
        let mut masked = 0usize;
        let mut example = None;
        for _ in 0..PER_KIND {
            let line = digit_heavy_line(&mut rng, kind);
            if mask(&line, Keep::First6Last4, &mut scratch).is_some() {
                masked += 1;
                example.get_or_insert_with(|| (line.clone(), scratch.clone()));
            }
        }
        all += masked;
        println!(
            "| {name} | {PER_KIND} | {masked} | {:.4}% |",
            masked as f64 * 100.0 / PER_KIND as f64
        );
        if let Some((line, out)) = example {
            println!("|   e.g. `{line}` -> `{out}` | | | |");
        }
    }
    let lines = PER_KIND * DIGIT_HEAVY.len();
    println!(
        "| all, one line of each kind in turn | {lines} | {all} | {:.4}% |",
        all as f64 * 100.0 / lines as f64
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
                let sep = *rng.pick(&[' ', '-']);
                let options = layouts_with(pan.len(), sep);
                let f = layout(&pan, rng.pick::<Vec<usize>>(&options), sep);
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
