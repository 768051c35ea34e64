//! Card numbers for tests and reports: a seeded generator, the issuer table as data, and
//! the ways a card may be printed.
//!
//! Shared by the masking tests and `lab/mask_reports.rs` (which includes this file), so
//! it uses nothing of the crate: its Luhn check and issuer table are written from the
//! card rules on their own, and the tests check them against the masker's.
#![allow(dead_code)]

/// splitmix64: a seeded, dependency-free generator, so every run draws the same cards.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    pub fn digits_between(&mut self, lo: u64, hi: u64) -> String {
        let n = self.range(lo, hi) as usize;
        self.digits(n)
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Fewest and most digits of a card number: the shortest and longest of [`BRANDS`].
pub const MIN_LEN: usize = 13;
pub const MAX_LEN: usize = 19;

/// A brand's name, its issuer ranges (inclusive, as numbers of any width) and its lengths.
pub type BrandRule = (&'static str, &'static [(u64, u64)], &'static [usize]);

/// The brands, first match first where their ranges overlap.
pub const BRANDS: &[BrandRule] = &[
    ("Visa", &[(4, 4)], &[13, 16, 19]),
    ("Mastercard", &[(51, 55), (2221, 2720)], &[16]),
    ("Amex", &[(34, 34), (37, 37)], &[15]),
    ("Jcb", &[(3528, 3589)], &[16, 17, 18, 19]),
    (
        "Discover",
        &[(6011, 6011), (644, 649), (65, 65), (622_126, 622_925)],
        &[16, 17, 18, 19],
    ),
    (
        "Diners",
        &[(300, 305), (3095, 3095), (36, 36), (38, 39)],
        &[14, 15, 16, 17, 18, 19],
    ),
    ("UnionPay", &[(62, 62)], &[16, 17, 18, 19]),
    ("Mir", &[(2200, 2204)], &[16, 17, 18, 19]),
    (
        "Maestro",
        &[(50, 50), (56, 69)],
        &[13, 14, 15, 16, 17, 18, 19],
    ),
];

/// The index in [`BRANDS`] of the brand of a `len`-digit card whose first six digits are
/// `first6`.
pub fn issuer(first6: u64, len: usize) -> Option<usize> {
    BRANDS.iter().position(|(_, ranges, lens)| {
        lens.contains(&len)
            && ranges.iter().any(|&(lo, hi)| {
                let width = lo.ilog10() + 1;
                (lo..=hi).contains(&(first6 / 10u64.pow(6 - width)))
            })
    })
}

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0') << (i % 2);
            d / 10 + d % 10
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `head` followed by the digit that makes it pass Luhn.
pub fn with_check_digit(head: &str) -> String {
    (b'0'..=b'9')
        .map(|c| format!("{head}{}", char::from(c)))
        .find(|t| luhn_valid(t))
        .expect("one check digit always fits")
}

/// A random valid PAN of `BRANDS[brand]` with `len` digits.
pub fn gen_pan_len(rng: &mut Rng, brand: usize, len: usize) -> String {
    let (_, ranges, _) = BRANDS[brand];
    let &(lo, hi) = rng.pick(ranges);
    let mut s = rng.range(lo, hi).to_string();
    let fill = len - 1 - s.len();
    s.push_str(&rng.digits(fill));
    with_check_digit(&s)
}

/// A random valid PAN of `BRANDS[brand]`, of one of its lengths.
pub fn gen_pan(rng: &mut Rng, brand: usize) -> String {
    let len = *rng.pick(BRANDS[brand].2);
    gen_pan_len(rng, brand, len)
}

/// The digits of `pan` laid out in `groups` joined by `sep`.
pub fn layout(pan: &str, groups: &[usize], sep: char) -> String {
    let mut out = String::new();
    let mut digits = pan.chars();
    for (i, &g) in groups.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend(digits.by_ref().take(g));
    }
    assert!(
        digits.next().is_none(),
        "layout {groups:?} shorter than {pan}"
    );
    out
}

/// Every way a card of `n` digits may be printed (contiguous first): every split into
/// groups of 3 to 6, and groups of 4 ending in a short one. With spaces, those of only
/// 3-digit groups are left out (see [`accepted`]).
pub fn layouts(n: usize) -> Vec<Vec<usize>> {
    fn splits(left: usize, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if left == 0 {
            if prefix.len() >= 2 {
                out.push(prefix.clone());
            }
            return;
        }
        for g in 3..=6.min(left) {
            prefix.push(g);
            splits(left - g, prefix, out);
            prefix.pop();
        }
    }
    let mut v = vec![vec![n]];
    splits(n, &mut Vec::new(), &mut v);
    match n {
        13 => v.push(vec![4, 4, 4, 1]),
        14 => v.push(vec![4, 4, 4, 2]),
        17 => v.push(vec![4, 4, 4, 4, 1]),
        18 => v.push(vec![4, 4, 4, 4, 2]),
        _ => {}
    }
    v
}

/// The layout in groups of 4 (the last shorter) of a card of `n` digits.
pub fn canonical(n: usize) -> Vec<usize> {
    let mut v = vec![4; n / 4];
    if !n.is_multiple_of(4) {
        v.push(n % 4);
    }
    v
}

/// The layouts of [`layouts`] masking accepts with `sep`: every one, with either
/// separator (groups of three joined by spaces included).
pub fn layouts_with(n: usize, _sep: char) -> Vec<Vec<usize>> {
    layouts(n)
}

/// What `formatted` (a PAN in some layout) must become when its first `head` and last
/// `tail` digits stay readable.
pub fn expected(formatted: &str, head: usize, tail: usize) -> String {
    let n = formatted.bytes().filter(u8::is_ascii_digit).count();
    let mut idx = 0;
    formatted
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            idx += 1;
            if idx > head && idx <= n - tail {
                '*'
            } else {
                c
            }
        })
        .collect()
}
