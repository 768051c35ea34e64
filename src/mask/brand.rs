//! Card brands (issuer ranges and lengths) and the Luhn check.

/// Fewest digits of a card number looked for: 12-digit Maestro has too many look-alikes.
pub(super) const MIN_LEN: usize = 13;
/// Most digits of a card number.
pub(super) const MAX_LEN: usize = 19;

/// Card brands whose issuer ranges are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Brand {
    Visa,
    Mastercard,
    Amex,
    Jcb,
    Discover,
    Diners,
    UnionPay,
    Mir,
    Maestro,
}

/// The brand whose issuer range and length rules `d` (13-19 digits) fits.
pub(super) fn brand(d: &[u8]) -> Option<Brand> {
    let n = d.len();
    let p6 = d
        .iter()
        .take(6)
        .fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let (p1, p2, p3, p4) = (p6 / 100_000, p6 / 10_000, p6 / 1_000, p6 / 100);
    let any_16_19 = (16..=19).contains(&n);
    if p1 == 4 && matches!(n, 13 | 16 | 19) {
        Some(Brand::Visa)
    } else if n == 16 && ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) {
        Some(Brand::Mastercard)
    } else if n == 15 && (p2 == 34 || p2 == 37) {
        Some(Brand::Amex)
    } else if any_16_19 && (3528..=3589).contains(&p4) {
        Some(Brand::Jcb)
    } else if any_16_19
        && (p4 == 6011
            || (644..=649).contains(&p3)
            || p2 == 65
            || (622_126..=622_925).contains(&p6))
    {
        Some(Brand::Discover)
    } else if (14..=19).contains(&n)
        && ((300..=305).contains(&p3) || p4 == 3095 || matches!(p2, 36 | 38 | 39))
    {
        Some(Brand::Diners)
    } else if any_16_19 && p2 == 62 {
        Some(Brand::UnionPay)
    } else if any_16_19 && (2200..=2204).contains(&p4) {
        Some(Brand::Mir)
    } else if (MIN_LEN..=MAX_LEN).contains(&n) && (p2 == 50 || (56..=69).contains(&p2)) {
        // Maestro is 12-19 digits; 12 is below what we scan for (too many look-alikes).
        Some(Brand::Maestro)
    } else {
        None
    }
}

/// The Luhn (mod 10) check over digit values 0-9.
pub(super) fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}
