//! Examples and properties of masking: what `mask` hides and leaves, and that it agrees
//! with the plain model of the PAN rules (`model`), its two kernels with each other, and
//! the check on escaped JSON with `mask`.

pub(super) mod cards;
mod model;

use super::brand::{brand, luhn, Brand, MAX_LEN, MIN_LEN};
use super::keep::TAIL;
use super::{json_body_may_mask, mask, Keep};
use cards::{canonical, gen_pan, issuer, layout, layouts, layouts_with, Rng, BRANDS};
use model::model_mask;
use proptest::prelude::*;

/// The masked text (or the text itself when nothing was found) and the count.
fn run(text: &str, keep: Keep) -> (String, usize) {
    let mut scratch = String::from("stale");
    match mask(text, keep, &mut scratch) {
        Some(n) => {
            assert_eq!(scratch.len(), text.len(), "length kept: {text:?}");
            (scratch, n)
        }
        None => {
            assert!(
                scratch.is_empty(),
                "left empty when nothing found: {text:?}"
            );
            (text.to_owned(), 0)
        }
    }
}

fn m(text: &str) -> String {
    run(text, Keep::First6Last4).0
}

fn untouched(text: &str) {
    let mut scratch = String::new();
    assert_eq!(
        mask(text, Keep::First6Last4, &mut scratch),
        None,
        "masked {text:?} -> {scratch:?}"
    );
    assert_eq!(mask(text, Keep::Last4, &mut scratch), None);
}

/// What `formatted` (a PAN in some layout) must become.
fn expected(formatted: &str, keep: Keep) -> String {
    cards::expected(formatted, keep.head(), TAIL)
}

/// Digit values, as the brand and Luhn rules take them.
fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().map(|c| c - b'0').collect()
}

/// Published test numbers (and Luhn-completed 19-digit ones).
const CARDS: &[(&str, Brand)] = &[
    ("4111111111111111", Brand::Visa),
    ("4012888888881881", Brand::Visa),
    ("4222222222222", Brand::Visa),
    ("4111111111111111110", Brand::Visa),
    ("5555555555554444", Brand::Mastercard),
    ("5105105105105100", Brand::Mastercard),
    ("2223003122003222", Brand::Mastercard),
    ("2720992593319364", Brand::Mastercard),
    ("378282246310005", Brand::Amex),
    ("371449635398431", Brand::Amex),
    ("6011111111111117", Brand::Discover),
    ("6011000990139424", Brand::Discover),
    ("6011000000000000001", Brand::Discover),
    ("30569309025904", Brand::Diners),
    ("38520000023237", Brand::Diners),
    ("3530111333300000", Brand::Jcb),
    ("3566002020360505", Brand::Jcb),
    ("3530111333300000001", Brand::Jcb),
    ("6200000000000005", Brand::UnionPay),
    ("6212345678901265", Brand::UnionPay),
    ("6200000000000000000", Brand::UnionPay),
    ("2200000000000004", Brand::Mir),
    ("6759649826438453", Brand::Maestro),
    ("6759649826438453003", Brand::Maestro),
];

#[test]
fn test_cards_are_valid_and_branded() {
    for &(pan, b) in CARDS {
        let d = digits_of(pan);
        assert!(luhn(&d), "{pan} fails Luhn");
        assert_eq!(brand(&d), Some(b), "{pan}");
    }
}

#[test]
fn brand_rules() {
    let b = |s: &str| brand(&digits_of(s));
    // Visa only at 13, 16 and 19 digits.
    assert_eq!(b("41111111111111"), None);
    assert_eq!(b("411111111111111"), None);
    // Amex only at 15, Mastercard only at 16.
    assert_eq!(b("3782822463100050"), None);
    assert_eq!(b("51051051051051000"), None);
    // Edges of ranges.
    assert_eq!(b("2220990000000000"), None);
    assert_eq!(b("2221000000000000"), Some(Brand::Mastercard));
    assert_eq!(b("2720990000000000"), Some(Brand::Mastercard));
    assert_eq!(b("2721000000000000"), None);
    assert_eq!(b("3527000000000000"), None);
    assert_eq!(b("3590000000000000"), None);
    assert_eq!(b("30600000000000"), None);
    assert_eq!(b("30950000000000"), Some(Brand::Diners));
    assert_eq!(b("2205000000000000"), None);
    assert_eq!(b("5000000000000"), Some(Brand::Maestro));
    // No brand starts with 0, 1, 7, 8 or 9.
    for first in ["0", "1", "7", "8", "9"] {
        for n in MIN_LEN..=MAX_LEN {
            assert_eq!(b(&format!("{first}{}", "0".repeat(n - 1))), None);
        }
    }
}

/// The issuer table the generators draw from is the masker's: the same brand for every
/// six first digits and length.
#[test]
fn the_generators_issuer_table_is_the_brand_rules() {
    for first6 in 0..1_000_000u64 {
        let mut d = digits_of(&format!("{first6:06}"));
        for len in MIN_LEN..=MAX_LEN {
            d.resize(len, 0);
            let want = brand(&d).map(|b| format!("{b:?}"));
            assert_eq!(
                issuer(first6, len).map(|i| BRANDS[i].0.to_owned()),
                want,
                "{first6} {len}"
            );
        }
    }
    let lens = BRANDS.iter().flat_map(|(_, _, lens)| lens.iter().copied());
    assert_eq!(lens.clone().min(), Some(MIN_LEN));
    assert_eq!(lens.max(), Some(MAX_LEN));
    assert_eq!((cards::MIN_LEN, cards::MAX_LEN), (MIN_LEN, MAX_LEN));
    for &(pan, _) in CARDS {
        for c in '0'..='9' {
            let t = format!("{}{c}", &pan[..pan.len() - 1]);
            assert_eq!(cards::luhn_valid(&t), luhn(&digits_of(&t)), "{t}");
        }
    }
}

#[test]
fn luhn_known_values() {
    assert!(luhn(&digits_of("79927398713")));
    assert!(!luhn(&digits_of("79927398710")));
    assert!(!luhn(&digits_of("4111111111111112")));
}

#[test]
fn both_modes_on_plain_examples() {
    assert_eq!(m("4111 1111 1111 1111"), "4111 11** **** 1111");
    assert_eq!(m("4111111111111111"), "411111******1111");
    assert_eq!(
        run("4111 1111 1111 1111", Keep::Last4).0,
        "**** **** **** 1111"
    );
    assert_eq!(run("4111111111111111", Keep::Last4).0, "************1111");
    assert_eq!(
        m(r#"{"card":"4111 1111 1111 1111"}"#),
        r#"{"card":"4111 11** **** 1111"}"#
    );
}

#[test]
fn every_test_card_in_every_layout_and_context() {
    let contexts = [
        "{}",
        "{} at the start",
        "at the end {}",
        "paid with {} today",
        r#"{"card":"{}","ok":true}"#,
        r#"{\"card\":\"{}\"}"#,
        "card={}&exp=12/27",
        "pan: {}\n",
        "(card {})",
        "<pan>{}</pan>",
        "café {} €",
        "123\t{}\t45678",
        "123  {}  45678",
        "123, {}; 45678",
        "ref 2025-11-28 16:38:00 {} 12/27, thanks.",
        "x=0.5 {} 100.00 EUR",
    ];
    for &(pan, _) in CARDS {
        for sep in [' ', '-'] {
            for groups in layouts_with(pan.len(), sep) {
                let f = layout(pan, &groups, sep);
                for keep in [Keep::First6Last4, Keep::Last4] {
                    for ctx in contexts {
                        let text = ctx.replace("{}", &f);
                        let want = ctx.replace("{}", &expected(&f, keep));
                        let (got, n) = run(&text, keep);
                        assert_eq!(got, want, "{text:?} ({keep})");
                        assert_eq!(n, 1, "{text:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn several_in_one_message() {
    let (got, n) = run(
        "a=4111111111111111 b=5555 5555 5555 4444 c=378282246310005",
        Keep::First6Last4,
    );
    assert_eq!(
        got,
        "a=411111******1111 b=5555 55** **** 4444 c=378282*****0005"
    );
    assert_eq!(n, 3);
}

#[test]
fn glued_to_letters_or_digits_is_not_a_candidate() {
    for &(pan, _) in CARDS {
        for text in [
            format!("x{pan}"),
            format!("{pan}x"),
            format!("id{pan}z"),
            format!("0x{pan}"),
            format!("Bearer{pan}"),
        ] {
            untouched(&text);
        }
        // Glued to a digit, the whole run is the number: masked only if it is valid.
        for text in [format!("9{pan}"), format!("{pan}0"), format!("12{pan}")] {
            let d = digits_of(&text);
            if d.len() <= MAX_LEN && brand(&d).is_some() && luhn(&d) {
                assert_eq!(m(&text), expected(&text, Keep::First6Last4));
            } else {
                untouched(&text);
            }
        }
        // A letter glued to a printed group takes that group: what is left is too short.
        let f = layout(pan, &canonical(pan.len()), ' ');
        untouched(&format!("x{f}"));
        if pan.len() <= 16 {
            untouched(&format!("{f}x"));
        }
        // A digit glued to a group makes another grouping of other digits: masked only
        // if that is valid.
        for text in [format!("0{f}"), format!("{f}0")] {
            let d = digits_of(&text.replace(' ', ""));
            if d.len() <= MAX_LEN && brand(&d).is_some() && luhn(&d) {
                assert_eq!(m(&text), expected(&text, Keep::First6Last4));
            } else {
                untouched(&text);
            }
        }
    }
    // Past 16 digits the glued last group goes, but the 4-4-4-4 before it is still a
    // separated candidate (and masked if valid).
    assert_eq!(m("4111 1111 1111 1111 110x"), "4111 11** **** 1111 110x");
    // 17 digits: not a Visa length, and no 16-digit part of it is taken.
    untouched("41111111111111111");
    untouched("x4111111111111111");
    untouched("41111111111111110000");
}

#[test]
fn decimals_are_not_candidates() {
    untouched("ratio=0.5555555555554444");
    untouched("4111111111111111.25");
    untouched("v1.4111111111111111");
    // A full stop ends a sentence, it does not start a fraction.
    assert_eq!(m("card 4111111111111111."), "card 411111******1111.");
    assert_eq!(m("card .4111111111111111"), "card .411111******1111");
}

#[test]
fn separators_must_be_single_and_consistent() {
    // Tabs and double spaces separate columns, not the groups of a card (docs/masking.md).
    untouched("4111  1111  1111  1111");
    untouched("4111\t1111\t1111\t1111");
    untouched("4111 \t1111 \t1111 \t1111");
    untouched("4111--1111--1111--1111");
    untouched("4111 1111-1111 1111");
    untouched("4111-1111 1111-1111");
    untouched("4111.1111.1111.1111");
    untouched("4111/1111/1111/1111");
    untouched("4111_1111_1111_1111");
    // Groups of 7 or more digits are numbers of their own.
    untouched("4111111 111111111");
    untouched("411111 1111111 111");
}

/// Groupings other than 4-4-4-4 are masked, and a candidate cut out of a longer run of
/// groups is not.
#[test]
fn uncommon_groupings_and_longer_runs() {
    // 13-digit Visas printed 4-4-5.
    assert_eq!(m("4610 1345 38471"), "4610 13** *8471");
    assert_eq!(m("4277-5085-30342"), "4277-50**-*0342");
    assert_eq!(m("card 4277-5085-30342 ok"), "card 4277-50**-*0342 ok");
    // 6011 86287653141 (Maestro range) passes Luhn, but the run is 19 digits that fail it.
    assert!(luhn(&digits_of("601186287653141")));
    untouched("order 6011 862876 53141 7556 shipped");
    // 6379 5959 2624 8112 passes Luhn, but the run is 19 digits starting with 1.
    assert!(luhn(&digits_of("6379595926248112")));
    untouched("card=117-6379-5959-2624-8112;");
}

#[test]
fn every_grouping_of_3_to_6_is_a_candidate() {
    // First groups of 5 and 6 reach the rules too.
    for (pan, groups) in [
        ("4111111111111111", &[5, 5, 6][..]),
        ("4111111111111111", &[6, 4, 6]),
        ("4111111111111111", &[6, 6, 4]),
        ("4111111111111111", &[5, 6, 5]),
        ("4111111111111111", &[3, 4, 4, 5]),
        ("4111111111111111", &[4, 4, 5, 3]),
        ("378282246310005", &[5, 5, 5]),
        ("378282246310005", &[6, 3, 6]),
        ("4111111111111111110", &[4, 4, 4, 3, 4]),
        ("4111111111111111110", &[3, 3, 3, 3, 3, 4]),
        ("4222222222222", &[4, 4, 5]),
        ("4222222222222", &[4, 5, 4]),
        ("4222222222222", &[6, 4, 3]),
        ("30569309025904", &[5, 4, 5]),
        ("6011000000000000001", &[6, 6, 4, 3]),
    ] {
        for sep in [' ', '-'] {
            let f = layout(pan, groups, sep);
            for text in [f.clone(), format!("pan={f};"), format!("\"{f}\"")] {
                assert_eq!(m(&text), expected_in(&text, &f), "{text:?}");
            }
        }
    }
    // Groups of three are masked with either separator, five of them (an Amex) or six.
    assert_eq!(m("378-282-246-310-005"), "378-282-***-**0-005");
    assert_eq!(
        m("349 512 469 182 376"),
        "349 512 ***-**2 376".replace('-', " ")
    );
    assert_eq!(
        m("total 378 282 246 310 005 bytes"),
        "total 378 282 *** **0 005 bytes"
    );
    assert_eq!(m("352 800 000 012 345 671"), "352 800 *** *** **5 671");
    // A number with a space between thousands is masked only when it is one: 15 or 18
    // digits, a brand's prefix and the Luhn digit. These fail one or the other.
    untouched("378 282 246 310 006");
    untouched("total 123 456 789 012 345 bytes");
    untouched("1 234 567 890 123");
}

/// `text` with the PAN `f` in it masked as specified.
fn expected_in(text: &str, f: &str) -> String {
    text.replace(f, &expected(f, Keep::First6Last4))
}

/// A run of groups is judged as a whole: no PAN is cut out of it, unless a group at an
/// end belongs to something else (docs/masking.md has the measurements behind this).
#[test]
fn a_run_of_groups_is_one_number() {
    // Longer than any PAN: one number, not a card and a neighbour.
    untouched("1234 4111 1111 1111 1111");
    untouched("4111 1111 1111 1111 2025");
    untouched("4111-1111-1111-1111-2025");
    untouched("6011 4111 1111 1111 1111");
    untouched("5 4111 1111 1111 1111");
    untouched(&"4242 ".repeat(20));
    // Of PAN length but not valid as a whole: not a 16-digit card and a 3-digit code.
    untouched("4111 1111 1111 1111 111");
    untouched("4111 1111 1111 1111 123 12/27");
    // The whole run valid: masked as one.
    assert_eq!(m("4111 1111 1111 1111 110"), "4111 11** **** ***1 110");

    // A neighbour set apart by anything but the run's own separator is not in the run.
    for (text, want) in [
        ("1234, 4111 1111 1111 1111", "1234, 4111 11** **** 1111"),
        ("4111 1111 1111 1111, 2025", "4111 11** **** 1111, 2025"),
        ("4111 1111 1111 1111\t2025", "4111 11** **** 1111\t2025"),
        ("4111 1111 1111 1111  2025", "4111 11** **** 1111  2025"),
        ("4111-1111-1111-1111 2025", "4111-11**-****-1111 2025"),
        ("1234 4111-1111-1111-1111", "1234 4111-11**-****-1111"),
        ("4111111111111111 2025", "411111******1111 2025"),
        ("4111111111111111-01", "411111******1111-01"),
        ("1234 4111111111111111", "1234 411111******1111"),
        ("4111 1111 1111 1111 2025123", "4111 11** **** 1111 2025123"),
        (
            "12345678 4111 1111 1111 1111",
            "12345678 4111 11** **** 1111",
        ),
    ] {
        assert_eq!(m(text), want, "{text:?}");
    }
    // A group at an end that belongs to something else is left out of the run: glued to
    // a letter, a side of a decimal point, or joined to more digits by another character.
    for (text, want) in [
        (
            "2025-11-28 4111 1111 1111 1111",
            "2025-11-28 4111 11** **** 1111",
        ),
        (
            "16:38:00 4111 1111 1111 1111",
            "16:38:00 4111 11** **** 1111",
        ),
        ("x=0.5 4111 1111 1111 1111", "x=0.5 4111 11** **** 1111"),
        ("ab12 4111 1111 1111 1111", "ab12 4111 11** **** 1111"),
        ("4111 1111 1111 1111 12/27", "4111 11** **** 1111 12/27"),
        (
            "4111 1111 1111 1111 2025-11-28",
            "4111 11** **** 1111 2025-11-28",
        ),
        (
            "4111 1111 1111 1111 100.00 EUR",
            "4111 11** **** 1111 100.00 EUR",
        ),
        ("4111 1111 1111 1111 10:30", "4111 11** **** 1111 10:30"),
        ("4111 1111 1111 1111 110x", "4111 11** **** 1111 110x"),
        // "2025 11" joins the last group to more digits: it is left out, as "28" is above.
        ("4111-1111-1111-1111-2025 11", "4111-11**-****-1111-2025 11"),
    ] {
        assert_eq!(m(text), want, "{text:?}");
    }
    // Both ends may be left out.
    assert_eq!(
        m("1.5 4111 1111 1111 1111 2.5"),
        "1.5 4111 11** **** 1111 2.5"
    );
    // Both "6011 4111 1111 1111" (with the last group left out) and "4111 1111 1111 1111"
    // (with the first) are valid: the union of what they hide is hidden, so neither shows
    // more than its first 6 and last 4.
    let both = "12/6011 4111 1111 1111 1111-5";
    assert!(luhn(&digits_of("6011411111111111")));
    assert_eq!(m(both), "12/6011 41** **** **** 1111-5");
    assert_eq!(run(both, Keep::Last4).0, "12/**** **** **** **** 1111-5");
    assert_eq!(run(both, Keep::Last4).1, 2);
}

#[test]
fn security_codes() {
    let cases = [
        (r#"{"cvv":"123"}"#, r#"{"cvv":"***"}"#),
        (r#"{"cvv2": "1234"}"#, r#"{"cvv2": "****"}"#),
        (r#"{"CVC" : 123, "x":1}"#, r#"{"CVC" : ***, "x":1}"#),
        ("cvv=123&cvc2=4567", "cvv=***&cvc2=****"),
        ("CVV: 123", "CVV: ***"),
        ("card_cvv=042", "card_cvv=***"),
        ("cardCVV=042", "cardCVV=***"),
        ("payment.cvc=042", "payment.cvc=***"),
        ("card[cvc]=042", "card[cvc]=***"),
        (r#"securityCode="9876""#, r#"securityCode="****""#),
        ("card-security-code: 987", "card-security-code: ***"),
        ("cardVerificationValue=321", "cardVerificationValue=***"),
        ("cardCode=321", "cardCode=***"),
        ("csc='321'", "csc='***'"),
        ("<cvv>123</cvv>", "<cvv>***</cvv>"),
        (r#"{\"cvv\":\"123\"}"#, r#"{\"cvv\":\"***\"}"#),
    ];
    for (text, want) in cases {
        let (got, n) = run(text, Keep::First6Last4);
        assert_eq!(got, want, "{text:?}");
        assert!(n >= 1);
    }
    let (got, n) = run(
        r#"{"card":"4111111111111111","cvv":"123","exp":"12/27"}"#,
        Keep::First6Last4,
    );
    assert_eq!(
        got,
        r#"{"card":"411111******1111","cvv":"***","exp":"12/27"}"#
    );
    assert_eq!(n, 2);
}

#[test]
fn not_security_codes() {
    for text in [
        r#"{"cvv":"12345"}"#,
        r#"{"cvv":"12"}"#,
        r#"{"cvv":"12a"}"#,
        r#"{"cvv":"1.23"}"#,
        r#"{"cvvResult":"123"}"#,
        r#"{"cid":"1234"}"#,
        r#"{"xcvv":"123"}"#,
        r#"{"status":200,"port":8080,"code":"1234"}"#,
        "cvv 123",
        "the cvv was 123",
        "cvv=abc123",
        "<p>123</p>",
        "cvv>123",
    ] {
        untouched(text);
    }
}

#[test]
fn track_data() {
    assert_eq!(
        m(";4111111111111111=25121010000000000000?"),
        ";411111******1111=********************?"
    );
    assert_eq!(
        m("%B4111111111111111^DOE/JOHN^2512101000000000000000000?"),
        "%B411111******1111^DOE/JOHN^*************************?"
    );
    // A `B` glued to other letters is a word, and without `^` it is not track 1.
    untouched("AB4111111111111111^X^2512101");
    untouched("B4111111111111111");
    // "key=PAN" on its own is not track 2: the PAN only.
    assert_eq!(m("4111111111111111=12"), "411111******1111=12");
}

#[test]
fn look_alikes_survive() {
    for text in [
        "ts=1764300000123",
        "ts=1764300000123456",
        "ts=1764300000123456789",
        "order 100023456789012 shipped",
        "user_id=9876543210987654",
        "request 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        "uuid 12345678-1234-5678-1234-567812345678",
        "from 192.168.100.200:8080 to 10.0.0.1",
        "call +1 415-555-0100 or (415) 555-0100 or +44 20 7946 0958",
        "+14155550100",
        "total 1,234.56 USD, 12,345,678.90 EUR, 1234567890123.45",
        "sha 4a7d1ed414474e4033ac29ccb8653d9b 5e884898da28047151d0e56f8dc62927",
        "abc4111111111111111def",
        "2025-11-28T16:38:00.123456789Z",
        "version 4.1.11111.1111111111",
        "eventId 36543254532412345678901234567890123456789012345678901234",
        "isbn 978-3-16-148410-0 ssn 123-45-6789",
        "",
        "no digits at all, ünïcödé ✓",
    ] {
        untouched(text);
    }
}

#[test]
fn ibans_are_not_pans() {
    // Valid IBANs whose digit groups are also a valid Visa 19 / Maestro 14.
    assert!(luhn(&digits_of("4503587684458823482")));
    assert!(luhn(&digits_of("65018614427031")));
    untouched("iban FR04 0662 4503 5876 8445 8823 482 ok");
    untouched("{\"iban\":\"GB41 NWBK 6501 8614 4270 31\"}");
    untouched("GB29 NWBK 6016 1331 9268 19");
    // Wrong check digits: not an IBAN, but its 23 digits are one run, longer than a PAN.
    untouched("FR05 0662 4503 5876 8445 8823 482");
    // Wrong check digits and of PAN length: the card number is masked.
    assert_eq!(m("AB12 4111 1111 1111 1111"), "AB12 4111 11** **** 1111");
    assert_eq!(
        m("GB42 NWBK 6501 8614 4270 31"),
        "GB42 NWBK 6501 86** **70 31"
    );
}

#[test]
fn many_pans_in_a_row() {
    // 4242 4242 4242 4242 is valid; set apart by commas, each is masked on its own.
    let text = "4242 4242 4242 4242, ".repeat(5);
    let (got, n) = run(text.trim_end(), Keep::First6Last4);
    assert_eq!(n, 5);
    assert_eq!(got.matches("4242 42** **** 4242").count(), 5);
}

/// The check on escaped JSON, on bodies as the line writer sees them: yes for each
/// value `mask` finds behind an escape, no for everyday log text (so the property
/// test below is not the only witness, and cannot pass by never finding anything).
#[test]
fn json_body_check_examples() {
    for (text, masked) in [
        ("\tcard 4111111111111111\n", true),
        ("{\"card\":\"5555 5555 5555 4444\"}", true),
        ("{\"cvv\":\"123\"}", true),
        ("body={\\\"cvv\\\":\\\"123\\\"}", true),
        ("line\ncvv=123", true),
        ("x\t<cvc>1234</cvc>", true),
        ("%B4111111111111111^DOE/JOHN^2512101000000000?", true),
        (
            "2025-11-28T03:19:35.838Z\tecf8a5fe-ee17-4883-ac05-4a5799bcc59e\tINFO\tdone\n",
            false,
        ),
        (
            "{\"status\":400,\"duration_ms\":727.869,\"bytes\":140931}",
            false,
        ),
        ("REPORT Duration: 579.38 ms\tMemory Size: 128 MB\t\n", false),
        ("\\n4111111111111112 \"order\":1764299975838", false),
        // Runs of groups: a neighbour joined by an escape is left out.
        ("12\t5555 4111 1111 1111 1111", true),
        ("12\"5555 4111 1111 1111 1111", true),
        ("4111 1111 1111 1111 5555\t12", true),
        ("card 4277-5085-30342\n", true),
        ("order 6011 862876 53141 7556 shipped\n", false),
        ("card=117-6379-5959-2624-8112;\t", false),
        ("sizes\t1234 4111 1111 1111 1111\n", false),
    ] {
        let mut scratch = String::new();
        assert_eq!(
            mask(text, Keep::First6Last4, &mut scratch).is_some(),
            masked,
            "{text:?}"
        );
        let quoted = serde_json::to_string(text).unwrap();
        let body = &quoted[1..quoted.len() - 1];
        assert_eq!(json_body_may_mask(body.as_bytes()), masked, "{body:?}");
    }
}

#[test]
fn adversarial_inputs_take_linear_time() {
    for unit in [
        "4242 ",
        "4242-",
        "1 ",
        "9",
        "a1",
        "0.5",
        "cvv=123 ",
        "\"cardVerificationValue\": \"1234\", ",
        "B4242424242424242^",
        "%B4242424242424242^A^2512101000000?",
        ";4242424242424242=",
        "FR76 ",
        "FR76 4242 ",
        "\\\"",
        "\\\\\\\\\\n1234 ",
        "42424 ",
        "424242-",
        "4 ",
        "12/4242 4242 ",
        "4242 4242 4242 4242 2025 ",
        "4242 4242 4242 4242 12/27 ",
        "x4242 ",
        "4242424 ",
        "\\\\\\tcvv\\t=\\t\\\"123\\\" ",
    ] {
        let text = unit.repeat(400_000 / unit.len());
        let start = std::time::Instant::now();
        let mut scratch = String::new();
        let _ = mask(&text, Keep::First6Last4, &mut scratch);
        let _ = json_body_may_mask(text.as_bytes());
        // Generous for unoptimised builds; quadratic behaviour would take minutes.
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{unit:?}: {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn unicode_around_is_kept() {
    assert_eq!(
        m("карта 4111111111111111 ✓ 日本"),
        "карта 411111******1111 ✓ 日本"
    );
}

#[test]
fn no_allocation_when_nothing_found() {
    let mut scratch = String::new();
    assert_eq!(
        mask("nothing here 1234 5678", Keep::First6Last4, &mut scratch),
        None
    );
    assert_eq!(scratch.capacity(), 0);
}

#[test]
fn scratch_is_cleared_and_reused() {
    let mut scratch = String::from("previous contents");
    assert_eq!(
        mask("4111111111111111", Keep::First6Last4, &mut scratch),
        Some(1)
    );
    assert_eq!(scratch, "411111******1111");
}

#[test]
fn keep_parses_and_displays() {
    assert_eq!("first6last4".parse(), Ok(Keep::First6Last4));
    assert_eq!(" LAST4 ".parse(), Ok(Keep::Last4));
    assert_eq!(Keep::default(), Keep::First6Last4);
    let err = "first4".parse::<Keep>().unwrap_err();
    assert!(err.to_string().contains("first4"), "{err}");
    for k in [Keep::First6Last4, Keep::Last4] {
        assert_eq!(k.to_string().parse(), Ok(k));
    }
}

// ------------------------------------------------------------ property tests

/// Text around a PAN: anything, then a non-alphanumeric boundary.
fn surrounding() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,:;=\"'{}()\\[\\]/|.é€\n-]{0,30}"
}

/// A valid card number of any brand, printed in one of the groupings masking accepts
/// with its separator, or (unless `accepted_only`) in any grouping of [`layouts`].
fn printed_pan(accepted_only: bool) -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        0..BRANDS.len(),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(move |(seed, brand, pick, dash)| {
            let mut rng = Rng(seed);
            let pan = gen_pan(&mut rng, brand);
            let sep = if dash { '-' } else { ' ' };
            let options = if accepted_only {
                layouts_with(pan.len(), sep)
            } else {
                layouts(pan.len())
            };
            layout(&pan, pick.get::<Vec<usize>>(&options), sep)
        })
}

/// Pieces of text that masking reacts to, with the characters JSON escapes around them.
fn masking_token() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "cvv",
        "CVC2",
        "card_cvv",
        "cardCvv",
        "securityCode",
        "cvNumber",
        "status",
        "cid",
    ]);
    let quote = prop::sample::select(vec!["", "\"", "\\\"", "'", "\\"]);
    let space = prop::sample::select(vec!["", " ", "\t", "\t\t", " \t ", "\n"]);
    let sep = prop::sample::select(vec![":", "=", ">", "<"]);
    prop_oneof![
        printed_pan(true),
        (
            quote.clone(),
            key,
            quote.clone(),
            space.clone(),
            sep,
            space,
            quote,
            "[0-9]{3,4}"
        )
            .prop_map(|(q1, k, q2, s1, sep, s2, q3, d)| format!("{q1}{k}{q2}{s1}{sep}{s2}{q3}{d}")),
        "[ \t\n\r\u{8}\u{c}\"'\\\\/:=<>\\[\\]B%^;?.,_-]{1,3}",
        "[a-zA-Z]{1,4}",
        "[0-9]{1,20}",
    ]
}

fn boundary() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        ' ', '\t', '\n', '"', '\'', ',', ':', ';', '=', '(', ')', '[', ']', '{', '}', '<', '>',
        '/', '|', '!', '?', '#', '&', '*', '+', '-', '_', 'é', '€',
    ])
}

/// Pieces of the texts the model is compared on: card numbers in any grouping, digit
/// runs, and what may stand between them.
fn model_token() -> impl Strategy<Value = String> {
    prop_oneof![
        printed_pan(false),
        "[0-9]{1,8}",
        "[2-6][0-9]{2,5}",
        prop::sample::select(vec![
            " ",
            "-",
            " ",
            "-",
            "  ",
            "\t",
            ".",
            "/",
            ",",
            ":",
            "_",
            "+",
            "é",
            "\n",
            "\"",
            "a",
            "xq",
            "1.5",
            "0.",
            "12/27",
            "2025-11-28 "
        ])
        .prop_map(str::to_owned),
    ]
}

/// Whenever `mask` finds something in `text`, the check on escaped JSON says yes for
/// `text` as a JSON string body (without `\u` escapes, which the line writer always
/// decodes).
fn json_body_check_finds_what_mask_finds(text: &str) -> Result<(), TestCaseError> {
    let quoted = serde_json::to_string(text).unwrap();
    let body = &quoted[1..quoted.len() - 1];
    let mut scratch = String::new();
    if !body.contains("\\u") && mask(text, Keep::First6Last4, &mut scratch).is_some() {
        prop_assert!(json_body_may_mask(body.as_bytes()), "missed in {:?}", body);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A valid PAN of any brand, length and layout is masked wherever it stands, and no
    /// more than its first 6 (none in last-4 mode) and last 4 digits stay readable.
    #[test]
    fn any_valid_pan_is_masked(
        seed in any::<u64>(),
        brand in 0..BRANDS.len(),
        layout_pick in any::<prop::sample::Index>(),
        dash in any::<bool>(),
        last4 in any::<bool>(),
        before in surrounding(),
        left in boundary(),
        right in boundary(),
        after in surrounding(),
    ) {
        let mut rng = Rng(seed);
        let pan = gen_pan(&mut rng, brand);
        let sep = if dash { '-' } else { ' ' };
        let options = layouts_with(pan.len(), sep);
        let groups = layout_pick.get::<Vec<usize>>(&options);
        let f = layout(&pan, groups, sep);
        // Digits joined by the PAN's own separator make a longer run of groups, judged
        // as a whole (`a_run_of_groups_is_one_number`).
        let digit_before = before.chars().last().is_some_and(|c| c.is_ascii_digit());
        let digit_after = after.chars().next().is_some_and(|c| c.is_ascii_digit());
        prop_assume!(groups.len() == 1 || !(left == sep && digit_before));
        prop_assume!(groups.len() == 1 || !(right == sep && digit_after));
        let keep = if last4 { Keep::Last4 } else { Keep::First6Last4 };
        let prefix = format!("{before}{left}");
        let text = format!("{prefix}{f}{right}{after}");
        let (got, n) = run(&text, keep);
        prop_assert!(n >= 1, "not masked: {text:?}");
        let region = &got.as_bytes()[prefix.len()..prefix.len() + f.len()];
        let digit_count = pan.len();
        let mut idx = 0;
        for (&o, &g) in f.as_bytes().iter().zip(region) {
            if o.is_ascii_digit() {
                if idx >= keep.head() && idx < digit_count - TAIL {
                    prop_assert_eq!(g, b'*', "{:?} -> {:?}", text, got);
                } else {
                    prop_assert!(g == o || g == b'*');
                }
                idx += 1;
            } else {
                prop_assert_eq!(g, o);
            }
        }
    }

    /// Same, exact: with boundaries that cannot join other digit groups, the PAN comes
    /// out exactly as specified and nothing else changes.
    #[test]
    fn any_valid_pan_is_masked_exactly(
        seed in any::<u64>(),
        brand in 0..BRANDS.len(),
        layout_pick in any::<prop::sample::Index>(),
        dash in any::<bool>(),
        last4 in any::<bool>(),
        before in "[a-zA-Z ,:é]{0,20}",
        left in prop::sample::select(vec!['"', ' ', '(', '/', '\n', '€']),
        right in prop::sample::select(vec!['"', ' ', ')', ',', '\n', '€']),
        after in "[a-zA-Z ,:é]{0,20}",
    ) {
        let mut rng = Rng(seed);
        let pan = gen_pan(&mut rng, brand);
        let sep = if dash { '-' } else { ' ' };
        let options = layouts_with(pan.len(), sep);
        let f = layout(&pan, layout_pick.get::<Vec<usize>>(&options), sep);
        let keep = if last4 { Keep::Last4 } else { Keep::First6Last4 };
        let text = format!("{before}{left}{f}{right}{after}");
        let want = format!("{before}{left}{}{right}{after}", expected(&f, keep));
        prop_assert_eq!(run(&text, keep), (want, 1));
    }

    /// Digit runs that fail Luhn are never touched, whatever their prefix, length and
    /// grouping.
    #[test]
    fn non_luhn_runs_are_untouched(
        seed in any::<u64>(),
        len in 5usize..40,
        grouped in any::<bool>(),
        layout_pick in any::<prop::sample::Index>(),
        dash in any::<bool>(),
        before in "[a-zA-Z ,:é\"]{0,20}",
        after in "[a-zA-Z ,:é\"]{0,20}",
    ) {
        let mut rng = Rng(seed);
        let len = if grouped { MIN_LEN + len % (MAX_LEN - MIN_LEN + 1) } else { len };
        let mut run_digits = rng.digits(len);
        if luhn(&digits_of(&run_digits)) {
            let last = run_digits.pop().unwrap();
            run_digits.push(if last == '9' { '0' } else { char::from(last as u8 + 1) });
        }
        let sep = if dash { '-' } else { ' ' };
        let body = if grouped {
            layout(&run_digits, layout_pick.get::<Vec<usize>>(&layouts(len)), sep)
        } else {
            run_digits
        };
        let text = format!("{before} {body} {after}");
        let mut scratch = String::new();
        prop_assert_eq!(mask(&text, Keep::First6Last4, &mut scratch), None);
    }

    /// The check on escaped JSON never misses: whenever `mask` finds something in a
    /// text, the check says yes for that text as a JSON string body (without `\u`
    /// escapes, which the line writer always decodes).
    #[test]
    fn json_body_check_never_misses(tokens in prop::collection::vec(masking_token(), 0..10)) {
        json_body_check_finds_what_mask_finds(&tokens.concat())?;
    }

    /// The same on texts of card numbers in every grouping, digit runs and the characters
    /// between them (escaped ones included), where runs of groups are judged whole.
    #[test]
    fn json_body_check_never_misses_groupings(
        tokens in prop::collection::vec(model_token(), 1..12),
    ) {
        json_body_check_finds_what_mask_finds(&tokens.concat())?;
    }

    /// Both byte kernels of this CPU give the same masking and the same checks: the
    /// one that also tells the bytes around keys and groups only passes over runs sooner.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn kernels_agree(
        a in prop::collection::vec(masking_token(), 0..8),
        b in prop::collection::vec(model_token(), 0..8),
        last4 in any::<bool>(),
    ) {
        use crate::mask::digits::Baseline;
        use crate::mask::{json_body_may_mask_with, mask_bytes_with};
        let Some(avx2) = crate::simd::Avx2::detect() else {
            return Ok(());
        };
        let keep = if last4 { Keep::Last4 } else { Keep::First6Last4 };
        for text in [a.concat(), b.concat()] {
            let (mut base, mut fast) = (Vec::new(), Vec::new());
            let want = mask_bytes_with(text.as_bytes(), keep, None, &mut base, Baseline);
            let got = mask_bytes_with(text.as_bytes(), keep, None, &mut fast, avx2);
            prop_assert_eq!((got, &fast), (want, &base), "{:?}", text);
            let escaped = serde_json::to_string(&text).unwrap();
            let raw = &escaped.as_bytes()[1..escaped.len() - 1];
            prop_assert_eq!(
                json_body_may_mask_with(raw, avx2),
                json_body_may_mask_with(raw, Baseline),
                "{:?}", text
            );
        }
    }

    /// Whatever the input: no panic, same length, only ASCII digits change (to `*`).
    #[test]
    fn only_digits_change(text in "\\PC{0,200}|[0-9 \\-=:\"cvB^%;]{0,200}") {
        let mut scratch = String::new();
        if let Some(n) = mask(&text, Keep::First6Last4, &mut scratch) {
            prop_assert!(n >= 1);
            prop_assert_eq!(scratch.len(), text.len());
            for (o, g) in text.bytes().zip(scratch.bytes()) {
                prop_assert!(o == g || (o.is_ascii_digit() && g == b'*'));
            }
        }
    }

    /// `mask` hides exactly what the plain model of the rules hides, on texts made of card
    /// numbers in every grouping, digit runs and the characters between them.
    #[test]
    fn mask_agrees_with_the_model(tokens in prop::collection::vec(model_token(), 1..12)) {
        let text = tokens.concat();
        prop_assert_eq!(run(&text, Keep::First6Last4).0, model_mask(&text), "{:?}", text);
    }
}

#[test]
fn card_tokens_follow_masked_pans_and_only_them() {
    use crate::mask::{mask_keyed, PanKey};
    let key = PanKey::new(b"k".repeat(32)).unwrap();
    let other = PanKey::new(b"j".repeat(32)).unwrap();
    let m = |text: &str, key: &PanKey| {
        let mut out = String::new();
        mask_keyed(text, Keep::First6Last4, Some(key), &mut out).map(|_| out)
    };
    let a = m("pan 4111 1111 1111 1111, cvv=123", &key).unwrap();
    let b = m("pan 4111-1111-1111-1111 and 5555555555554444", &key).unwrap();
    let token = |s: &str| {
        s.split(" [pan_token:")
            .skip(1)
            .map(|t| t[..24].to_string())
            .collect::<Vec<_>>()
    };
    assert!(a.starts_with("pan 4111 11** **** 1111 [pan_token:"), "{a}");
    assert!(
        a.ends_with("], cvv=***"),
        "a security code gets no token: {a}"
    );
    let (ta, tb) = (token(&a), token(&b));
    assert_eq!(ta.len(), 1);
    assert_eq!(tb.len(), 2);
    assert_eq!(
        ta[0], tb[0],
        "the same card, the same token, in any grouping"
    );
    assert_ne!(tb[0], tb[1]);
    assert!(ta[0]
        .bytes()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_ne!(
        token(&m("4111111111111111", &other).unwrap())[0],
        ta[0],
        "another key"
    );
    assert_eq!(m("no card here 12345", &key), None);
}
