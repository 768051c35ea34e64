//! The detectors on the forms docs/redaction.md documents and on their look-alikes, and
//! the fast finder (two trigger passes) against a plain one that tries every detector
//! at every byte.

use super::find::{find_at_every_byte, my_number_check};
use super::*;
use proptest::prelude::*;

fn r(text: &str) -> String {
    let mut tally = Tally::default();
    Redactor::default()
        .redact_str(text, Redact::ALL, &mut tally)
        .unwrap_or_else(|| text.to_string())
}

fn untouched(text: &str) {
    assert_eq!(r(text), text, "{text:?}");
}

#[test]
fn documented_forms_are_redacted() {
    for (text, want) in [
        ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws_access_key_id] used"),
        ("ASIAY34FZKBOKMUTVV7A", "[REDACTED:aws_access_key_id]"),
        // A hex digest after an id is no secret key: it has one case.
        (
            "key AKIAIOSFODNN7EXAMPLE 26577c1239b9ad857dc3cc4d6f8c6313e17750e1",
            "key [REDACTED:aws_access_key_id] 26577c1239b9ad857dc3cc4d6f8c6313e17750e1",
        ),
        (
            "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "[REDACTED:aws_access_key_id] [REDACTED:aws_secret_key]",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED:aws_secret_key]",
        ),
        (
            r#"{"SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}"#,
            r#"{"SecretAccessKey":"[REDACTED:aws_secret_key]"}"#,
        ),
        (
            "Authorization: Bearer abc123.def456-ghi",
            "Authorization: Bearer [REDACTED:authorization]",
        ),
        (
            r#"{"authorization":"Basic dXNlcjpwYXNzd29yZA=="}"#,
            r#"{"authorization":"Basic [REDACTED:authorization]"}"#,
        ),
        (
            "sent with bearer 4f9a0c2e-77aa-4b1c",
            "sent with bearer [REDACTED:authorization]",
        ),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk end",
            "token [REDACTED:jwt] end",
        ),
        (
            "k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- done",
            "k=[REDACTED:private_key] done",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk",
            "[REDACTED:private_key]",
        ),
        (
            "dsn postgres://app:s3cr3t@db.internal:5432/orders",
            "dsn postgres://[REDACTED:url_credentials]@db.internal:5432/orders",
        ),
        (
            r#"{"user":"bob","password":"hunter2"}"#,
            r#"{"user":"bob","password":"[REDACTED:secret_value]"}"#,
        ),
        (
            r#"{\"db_password\":\"p@ss w\"}"#,
            r#"{\"db_password\":\"[REDACTED:secret_value]\"}"#,
        ),
        (
            "GET /cb?code=1&access_token=ya29.a0Af&state=x",
            "GET /cb?code=1&access_token=[REDACTED:secret_value]&state=x",
        ),
        ("api_key: sk_live_51H", "api_key: [REDACTED:secret_value]"),
        // An escaped quote is a quote: it ends a value and separates an id from its key.
        (
            r#"password=abc\"def"#,
            r#"password=[REDACTED:secret_value]\"def"#,
        ),
        (
            r#"authorization: Basic dXNlcjpw\"}"#,
            r#"authorization: Basic [REDACTED:authorization]\"}"#,
        ),
        (
            r#"{\"k\":\"AKIAIOSFODNN7EXAMPLE\",\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}"#,
            r#"{\"k\":\"[REDACTED:aws_access_key_id]\",\"[REDACTED:aws_secret_key]\"}"#,
        ),
        // An END line's label holds no quote: this block runs to the text's end.
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA\"PRIVATE KEY----- done",
            "[REDACTED:private_key]",
        ),
        ("X-Api-Key=abc", "X-Api-Key=[REDACTED:secret_value]"),
        ("mail bob.smith+tag@example.co.jp now", "mail [REDACTED:email] now"),
        ("from 10.1.2.3:443", "from [REDACTED:ipv4]:443"),
        ("client=192.168.0.254,", "client=[REDACTED:ipv4],"),
        ("peer 2001:db8::8a2e:370:7334 up", "peer [REDACTED:ipv6] up"),
        ("[fe80::1]:80", "[[REDACTED:ipv6]]:80"),
        ("::ffff:10.0.0.1", "[REDACTED:ipv6]"),
        (
            "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
            "[REDACTED:ipv6]",
        ),
        ("tel +81 90-1234-5678.", "tel [REDACTED:phone]."),
        ("tel +44 (0)20 7946 0958", "tel [REDACTED:phone]"),
        ("+14155552671", "[REDACTED:phone]"),
        ("電話 03-1234-5678 まで", "電話 [REDACTED:phone] まで"),
        ("090-1234-5678", "[REDACTED:phone]"),
        ("0120-123-456", "[REDACTED:phone]"),
        ("mobile 09012345678", "mobile [REDACTED:phone]"),
        ("番号 1234 5678 9018 です", "番号 [REDACTED:my_number] です"),
        ("1234-5678-9018", "[REDACTED:my_number]"),
        (r#"{"my_number":"123456789018"}"#, r#"{"my_number":"[REDACTED:my_number]"}"#),
        ("マイナンバー：123456789018", "マイナンバー：[REDACTED:my_number]"),
    ] {
        assert_eq!(r(text), want, "{text:?}");
    }
}

#[test]
fn look_alikes_are_left() {
    for text in [
        // ids, hashes, hex, UUIDs, versions, timestamps, prices, order numbers
        "request_id=5f0c6d8e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
        "sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "version 1.2.3 build 10.0.19041",
        "at 2025-11-28T10:20:30.123Z took 12:34:56",
        "price 1,234.56 JPY order 000123456789",
        "account 123456789012 arn:aws:iam::123456789012:role/x",
        "123456789012",
        "1234-5678-9012-3456",
        "std::vector<int> Foo::bar",
        "mac aa:bb:cc:dd:ee:ff",
        "tz +0900 and +09:00",
        "the bearer of the card",
        "Bearer undefined",
        "token: null",
        "\"password\": \"\"",
        "passwordPolicy=strict",
        "tokens_used=12",
        "https://example.com/path?x=1",
        "ssh://git@github.com/o/r",
        "user@localhost",
        "@types/node@18.0.0",
        "1.2.3.400",
        "v1.2.3.4",
        "1.2.3.4.5",
        "1234 5678 9012",
        "AKIAIOSFODNN7EXAMPLEX",
        "xAKIAIOSFODNN7EXAMPLE",
        "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
        "eyJhbGciOiJIUzI1NiJ9",
        "03-1234-56789-0",
        "2025-11-28",
        "0.5555555555",
        "201 512 \"25400821-bec2-4fcc-ba43-eef2916348c6 retrying",
        "28/Nov/2025:10:18:28 +0900 2025/11/26 20:03",
        "total +189.62 6791073 bytes",
        "+0900 0.10.198",
    ] {
        untouched(text);
    }
}

#[test]
fn only_the_chosen_detectors_run_and_each_is_counted() {
    let text = "bob@example.com 10.0.0.1 bob@example.org password=x";
    let set: Redact = "email".parse().unwrap();
    let mut tally = Tally::default();
    let got = Redactor::default()
        .redact_str(text, set, &mut tally)
        .unwrap();
    assert_eq!(got, "[REDACTED:email] 10.0.0.1 [REDACTED:email] password=x");
    assert_eq!(tally.of(Detector::Email), 2);
    assert_eq!(tally.0.iter().sum::<usize>(), 2);
    let mut tally = Tally::default();
    Redactor::default().redact_str(text, Redact::ALL, &mut tally);
    assert_eq!(tally.of(Detector::Ipv4), 1);
    assert_eq!(tally.of(Detector::SecretValue), 1);
    assert!(Redactor::default()
        .redact_str("nothing here", Redact::ALL, &mut tally)
        .is_none());
}

#[test]
fn sets_parse_and_print() {
    assert_eq!("all".parse::<Redact>().unwrap(), Redact::ALL);
    assert_eq!(Redact::ALL.to_string(), "all");
    let s: Redact = " Email , ipv4".parse().unwrap();
    assert_eq!(s.to_string(), "email,ipv4");
    assert!("emails".parse::<Redact>().unwrap_err().contains("emails"));
    assert!("".parse::<Redact>().is_err());
    assert_eq!(Detector::ALL.len(), COUNT);
}

#[test]
fn a_body_is_decoded_for_custom_rules_and_other_escapes() {
    let raw = br#"{\"password\":\"x\",\"order\":\"ORD-1\"}"#;
    let mut out = Vec::new();
    let mut tally = Tally::default();
    let mut plain = Redactor::default();
    assert_eq!(
        plain.redact_body(raw, Redact::ALL, &mut out, &mut tally),
        Some(true)
    );
    assert_eq!(
        out,
        br#"{\"password\":\"[REDACTED:secret_value]\",\"order\":\"ORD-1\"}"#
    );
    // A pattern reads the decoded text, and `\n` is no quote: both decline.
    let mut ruled = Redactor::with_rules(Rules::parse("order=ORD-[0-9]+").unwrap());
    assert_eq!(
        ruled.redact_body(raw, Redact::ALL, &mut out, &mut tally),
        None
    );
    assert_eq!(
        plain.redact_body(br#"a\nb"#, Redact::ALL, &mut out, &mut tally),
        None
    );
}

#[test]
fn my_number_check_digit() {
    // 12345678901: weighted sum 212, remainder 3, check digit 8. And whatever the eleven
    // digits, exactly one twelfth is valid.
    let d = |s: &str| s.bytes().map(|c| c - b'0').collect::<Vec<u8>>();
    assert!(my_number_check(&d("123456789018")));
    for body in ["12345678901", "00000000000", "98765432109", "11111111111"] {
        let valid = (0..10)
            .filter(|c| my_number_check(&d(&format!("{body}{c}"))))
            .count();
        assert_eq!(valid, 1, "{body}");
    }
}

/// Pieces the random texts are made of: documented forms, near misses, and the syntax
/// around them.
const PIECES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "ASIA",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "Bearer ",
    "bearer",
    "Authorization",
    "authorization: ",
    "Basic ",
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJ",
    ".",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "-----BEGIN ",
    "://",
    "https",
    "user:pw@",
    "@",
    "example.com",
    "password",
    "Token",
    "api_key",
    "my_number",
    "number",
    "マイナンバー",
    "\"",
    "\\\"",
    ":",
    "::",
    "=",
    " ",
    "-",
    "+",
    "(0)",
    "&",
    ",",
    "\n",
    "0",
    "09",
    "090",
    "1234",
    "5678",
    "9018",
    "10",
    "255",
    "256",
    "2001",
    "db8",
    "fe80",
    "123456789018",
    "81",
    "abc",
    "Z",
    "_",
    "null",
    "é",
    // What the key pass reads back over from a separator, and keys near its limits.
    "\t",
    "'",
    "\\",
    "\\\\",
    "    ",
    "：",
    "個人番号",
    "secret_access_key",
    "_-.",
    "Proxy-Authorization",
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789",
    "1.",
    "0.",
    "192.168.",
    "2025-",
    "03-",
    "ASIAXXXXXXXXXXXXXXXX",
    "ABIAKIA",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
    // Whole values of the digit and colon detectors, and near misses beside them.
    "2001:db8:85a3:0:0:8a2e:370:7334",
    "1:2:3:4:5:6:7:8",
    "fe80::1",
    "03:19:11.555Z",
    "2025-11-28T03:19:11",
    "10.0.0.1",
    "1.2.3",
    "1.22.333.4",
    "03-1234-5678",
    "090-1234-5678",
    "0120-123-456",
    "09012345678",
    "1234 5678 9018",
    "1234-5678-9018",
    "+81 90-1234-5678",
    "+1",
    "a:",
    "1=",
    "rt=",
    // Near misses of the digit marks' first bytes, and keys read back past `_`.
    "/",
    "12.345",
    "1.23.4",
    ":05",
    "T09",
    "0120-",
    "user_id",
    "pass_word",
];

fn text_from(picks: &[usize]) -> String {
    picks.iter().map(|&i| PIECES[i % PIECES.len()]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// The two trigger passes find what trying every detector at every byte finds.
    #[test]
    fn fast_finder_matches_every_byte(picks in proptest::collection::vec(0usize..1000, 0..40), set_bits in 1u16..(1 << COUNT)) {
        let text = text_from(&picks);
        let set = Redact::from_bits(set_bits);
        let mut fast = Vec::new();
        find::find_all(text.as_bytes(), set, &mut fast);
        let mut plain = Vec::new();
        find_at_every_byte(text.as_bytes(), set, &mut plain);
        let resolve = |mut v: Vec<Found>| {
            v.sort_unstable_by_key(|f| (f.start, std::cmp::Reverse(f.end), f.label));
            let mut kept = Vec::new();
            let mut copied = 0;
            for f in v {
                if f.start >= copied && f.end > f.start {
                    copied = f.end;
                    kept.push(f);
                }
            }
            kept
        };
        prop_assert_eq!(resolve(fast), resolve(plain), "{:?}", text);
        // And the redacted text is UTF-8 whatever was replaced.
        let mut out = Vec::new();
        Redactor::default().redact(text.as_bytes(), set, &mut out, &mut Tally::default());
        prop_assert!(std::str::from_utf8(&out).is_ok());
        // The text as a canonical JSON body: redacted in place of its escapes, it is the
        // body of the redacted text written again.
        let mut raw = Vec::new();
        crate::json::push_str(&mut raw, &text);
        let raw = &raw[1..raw.len() - 1];
        let mut escaped = Vec::new();
        let mut tally = Tally::default();
        let found = Redactor::default().redact_escaped(text.as_bytes(), raw, set, &mut escaped, &mut tally);
        if found {
            let mut want = Vec::new();
            crate::json::push_str(&mut want, std::str::from_utf8(&out).unwrap());
            prop_assert_eq!(&escaped[..], &want[1..want.len() - 1], "{:?}", text);
        } else {
            prop_assert_eq!(tally, Tally::default());
        }
        body_is_read_as_it_is(&text, set, raw, &escaped, &tally)?;
    }

    /// JSON lines inside a message, escaped only as `\"`: read as they are, they are
    /// redacted as their decoded text is.
    #[test]
    fn json_lines_are_read_as_they_are(picks in proptest::collection::vec(0usize..1000, 0..40), set_bits in 1u16..(1 << COUNT)) {
        let text: String = picks
            .iter()
            .map(|&i| JSON_PIECES[i % JSON_PIECES.len()])
            .collect();
        let set = Redact::from_bits(set_bits);
        let mut raw = Vec::new();
        crate::json::push_str(&mut raw, &text);
        let raw = &raw[1..raw.len() - 1];
        let mut escaped = Vec::new();
        let mut tally = Tally::default();
        Redactor::default().redact_escaped(text.as_bytes(), raw, set, &mut escaped, &mut tally);
        prop_assert!(crate::simd::only_quotes_escaped(raw));
        body_is_read_as_it_is(&text, set, raw, &escaped, &tally)?;
    }
}

/// Pieces of JSON lines without a backslash or a control (each quote is escaped once
/// in the body), with the values beside quotes that a quote ends or separates.
const JSON_PIECES: &[&str] = &[
    "{\"",
    "\":\"",
    "\",\"",
    "\"}",
    "\"",
    "'",
    ":",
    "=",
    " ",
    ",",
    "&",
    "password",
    "api_key",
    "Authorization",
    "authorization: ",
    "Basic ",
    "Bearer ",
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "my_number",
    "123456789018",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "-----END ",
    "10.0.0.1",
    "fe80::1",
    "user@example.com",
    "https://u:p@h",
    "abc",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
    "090-1234-5678",
    "+81 90-1234-5678",
    "null",
    "é",
];

/// `redact_body` on `raw` (the canonical body of `text`) declines, or writes what
/// `redact_escaped` wrote (`escaped`, adding `tally`).
fn body_is_read_as_it_is(
    text: &str,
    set: Redact,
    raw: &[u8],
    escaped: &[u8],
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let mut body = Vec::new();
    let mut body_tally = Tally::default();
    let read = Redactor::default().redact_body(raw, set, &mut body, &mut body_tally);
    prop_assert_eq!(read.is_some(), crate::simd::only_quotes_escaped(raw));
    if let Some(found) = read {
        prop_assert_eq!(&body_tally, tally, "{:?}", text);
        if found {
            prop_assert_eq!(&body[..], escaped, "{:?}", text);
        } else {
            prop_assert_eq!(body_tally, Tally::default(), "{:?}", text);
        }
    }
    Ok(())
}
