//! IBANs printed in groups of four, which would otherwise pass for grouped card
//! numbers one time in ten.

/// Whether `s..end` lies inside an IBAN printed in groups of four with valid check digits
/// ("FR76 3000 6000 0112 3456 7890 189"): a tenth of IBANs would pass for a PAN otherwise.
pub(super) fn inside_iban(b: &[u8], s: usize, end: usize) -> bool {
    // Back over whole groups ("XXXX "), trying each as the IBAN's first.
    let mut head = s;
    loop {
        let Some(g) = head.checked_sub(5) else {
            return false;
        };
        match b.get(g..head) {
            Some([group @ .., b' ']) if group.iter().all(is_iban_char) => head = g,
            _ => return false,
        }
        if s - head > IBAN_MAX {
            return false;
        }
        if is_iban_at(b, head, end) {
            return true;
        }
    }
}

fn is_iban_char(c: &u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// An IBAN starts at `head` and reaches at least `end`: country code, check digits, then
/// groups of 4 (the last 1-4) up to 34 characters, and the ISO 13616 check passes.
fn is_iban_at(b: &[u8], head: usize, end: usize) -> bool {
    let at_word_start = head
        .checked_sub(1)
        .and_then(|p| b.get(p))
        .is_none_or(|c| !c.is_ascii_alphanumeric());
    let country_and_check = matches!(
        b.get(head..head + 4),
        Some([c0, c1, d0, d1])
            if c0.is_ascii_uppercase() && c1.is_ascii_uppercase()
                && d0.is_ascii_digit() && d1.is_ascii_digit()
    );
    if !at_word_start || !country_and_check {
        return false;
    }
    let mut iban = [0u8; IBAN_MAX];
    let (mut n, mut in_group, mut p) = (0, 0, head);
    while let Some(&c) = b.get(p) {
        if is_iban_char(&c) {
            let Some(slot) = iban.get_mut(n) else {
                return false;
            };
            *slot = c;
            n += 1;
            in_group += 1;
            if in_group > 4 {
                return false;
            }
        } else if c == b' ' && in_group == 4 && b.get(p + 1).is_some_and(is_iban_char) {
            in_group = 0;
        } else {
            break;
        }
        p += 1;
    }
    if n < IBAN_MIN || p < end || b.get(p).is_some_and(u8::is_ascii_alphanumeric) {
        return false;
    }
    // Move the first four characters to the end, letters count 10-35: mod 97 must be 1.
    let Some(iban) = iban.get(..n) else {
        return false;
    };
    let rem = iban
        .iter()
        .skip(4)
        .chain(iban.iter().take(4))
        .fold(0u32, |acc, &c| {
            if c.is_ascii_digit() {
                (acc * 10 + u32::from(c - b'0')) % 97
            } else {
                (acc * 100 + u32::from(c - b'A') + 10) % 97
            }
        });
    rem == 1
}

/// Shortest IBAN (Norway).
const IBAN_MIN: usize = 15;
/// Longest IBAN, in characters without spaces.
const IBAN_MAX: usize = 34;
