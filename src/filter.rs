//! Event filters (`DROP_MESSAGES`, `KEEP_MESSAGES`, `EVENT_FILTERS`): which
//! events get no line, decided on the message as the line would show it.
//!
//! A rule drops the events whose message matches its pattern, or keeps only
//! those; a rule may apply to the log groups whose name matches a second
//! pattern only. For one event of one log group, with the rules that apply
//! to that group: it is dropped when a drop rule matches, or when there are
//! keep rules and none matches. The patterns are the `regex` crate's
//! (linear time in the message, whatever the pattern), each action's in two
//! [`RegexSet`]s: those anchored at the message's start, tried there only,
//! and the others, searched for in one pass whatever their number. Which
//! rules apply to a log group is decided once per record ([`Active`]), never
//! per event.
//!
//! Masking comes first: the patterns see the masked message (so no rule can
//! select events by a card number), and the masked values of a dropped event
//! are still counted (what masking found does not depend on the filters).

use aho_corasick::{packed, AhoCorasick, MatchKind};
use regex::bytes::{RegexSet, RegexSetBuilder};
use regex::{Regex, RegexBuilder};

/// At most this many rules (one bit each in [`Active`]).
pub const MAX_RULES: usize = 32;

/// The compiled size one pattern set or one group pattern may take: patterns
/// come from the environment, and a few bounded repetitions can ask for
/// megabytes of automaton.
const SIZE_LIMIT: usize = 1 << 20;

/// What a rule does with the events it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Drop the events whose message matches.
    Drop,
    /// Keep only the events whose message matches.
    Keep,
}

/// One rule, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its name in the metrics (`EventsFiltered_<name>`).
    pub name: String,
    /// Drop or keep.
    pub action: Action,
    /// The pattern the message is matched against.
    pub pattern: String,
    /// Only for log groups whose name matches this pattern; every group when `None`.
    pub log_groups: Option<String>,
}

/// The rules, compiled. Empty: no filter, no work.
#[derive(Debug, Clone, Default)]
pub struct EventFilters {
    rules: Vec<Rule>,
    compiled: Option<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    /// Every drop pattern.
    drop: Patterns,
    /// Every keep pattern.
    keep: Patterns,
    /// Each rule's log group pattern.
    groups: Vec<Option<Regex>>,
    /// Every message pattern is [`blind_to_escapes`].
    blind: bool,
}

/// One action's patterns, as two sets: those anchored at the message's start,
/// which are tried there only, and the others, searched for through the
/// message. In one set, every message would be searched for the anchored
/// patterns' literals too (`^(START|END) RequestId` has the search look at
/// every `END`). A pattern's index is its place in `rules`: the anchored
/// ones first, then the others; [`Active`]'s bits follow it.
#[derive(Debug, Clone)]
struct Patterns {
    anchored: RegexSet,
    floating: RegexSet,
    /// The words every match of the anchored patterns starts with, when the
    /// patterns say (see [`prefixes`]): a message that starts with none is
    /// not given to the set.
    anchored_words: Option<Starts>,
    /// The same for the other patterns: a message that contains none of
    /// their words is not given to the set.
    floating_words: Option<Words>,
    /// The rule of each pattern.
    rules: Vec<usize>,
}

impl Patterns {
    /// The patterns of `chosen` (rule index, pattern), compiled.
    fn new(chosen: &[(usize, &str)]) -> Result<Self, String> {
        let (anchored, floating): (Vec<_>, Vec<_>) =
            chosen.iter().partition(|(_, p)| anchored_at_start(p));
        let set = |patterns: &[&(usize, &str)]| {
            RegexSetBuilder::new(patterns.iter().map(|(_, p)| p))
                .size_limit(SIZE_LIMIT * patterns.len().max(1))
                .build()
                .map_err(|e| format!("event filter patterns together: {e}"))
        };
        let floating_words = prefixes(&floating).and_then(Words::new);
        Ok(Self {
            anchored: set(&anchored)?,
            floating: set(&floating)?,
            anchored_words: prefixes(&anchored).map(Starts::new),
            floating_words,
            rules: anchored.iter().chain(&floating).map(|(i, _)| *i).collect(),
        })
    }

    /// Whether any anchored pattern may match `message`: false only when
    /// none does.
    #[inline]
    fn anchored_may_match(&self, message: &[u8]) -> bool {
        !self.anchored.is_empty()
            && self
                .anchored_words
                .as_ref()
                .is_none_or(|starts| starts.any(message))
    }

    /// Whether any other pattern may match `message`: false only when none
    /// does.
    #[inline]
    fn floating_may_match(&self, message: &[u8]) -> bool {
        !self.floating.is_empty()
            && self
                .floating_words
                .as_ref()
                .is_none_or(|words| words.is_match(message))
    }

    /// Whether any pattern matches `message`.
    #[inline]
    fn is_match(&self, message: &[u8]) -> bool {
        (self.anchored_may_match(message) && self.anchored.is_match(message))
            || (self.floating_may_match(message) && self.floating.is_match(message))
    }

    /// The first rule (in the order configured) of the patterns among `bits`
    /// that match `message`.
    fn first_match(&self, bits: u64, message: &[u8]) -> Option<usize> {
        let offset = self.anchored.len();
        let matches = |set: &RegexSet, may: bool, offset: usize| {
            if !may || !set.is_match(message) {
                return None;
            }
            set.matches(message)
                .iter()
                .map(|i| i + offset)
                .filter(|&i| bits & 1 << i != 0)
                .filter_map(|i| self.rules.get(i).copied())
                .min()
        };
        let a = matches(&self.anchored, self.anchored_may_match(message), 0);
        let f = matches(&self.floating, self.floating_may_match(message), offset);
        a.into_iter().chain(f).min()
    }

    /// The first rule (in the order configured) among `bits`.
    fn first_rule(&self, bits: u64) -> Option<usize> {
        (0..self.rules.len())
            .filter(|&i| bits & 1 << i != 0)
            .filter_map(|i| self.rules.get(i).copied())
            .min()
    }
}

/// The words every match of one of `patterns` starts with, as the regex
/// syntax's literal extractor finds them (a finite set, none empty, at most
/// [`MAX_WORDS`]), or `None` when the patterns say too little (a wide class, a
/// pattern that matches the empty string): then every message is given to
/// the set. The usual message has none of them, and a search for a few words
/// costs less than a regex search (whose own prefilter looks for the same
/// words, after more set-up).
fn prefixes(patterns: &[&(usize, &str)]) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut words = Vec::new();
    for (_, pattern) in patterns {
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        for literal in seq.literals()? {
            if literal.as_bytes().is_empty() {
                return None;
            }
            words.push(literal.as_bytes().to_vec());
        }
    }
    (!words.is_empty() && words.len() <= MAX_WORDS).then_some(words)
}

/// Words looked for anywhere in a message: with the packed (SIMD) searcher
/// where the CPU has one, else an Aho-Corasick automaton.
#[derive(Debug, Clone)]
enum Words {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Words {
    fn new(words: Vec<Vec<u8>>) -> Option<Self> {
        if let Some(searcher) = packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(&words)
            .build()
        {
            return Some(Words::Packed(searcher));
        }
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(words)
            .ok()
            .map(Words::Automaton)
    }

    /// Whether `message` contains one of the words.
    #[inline]
    fn is_match(&self, message: &[u8]) -> bool {
        match self {
            Words::Packed(s) => s.find(message).is_some(),
            Words::Automaton(a) => a.is_match(message),
        }
    }
}

/// Words a message may start with, and their first bytes (most messages
/// are told apart by their first byte).
#[derive(Debug, Clone)]
struct Starts {
    first: [bool; 256],
    words: Vec<Vec<u8>>,
}

impl Starts {
    fn new(words: Vec<Vec<u8>>) -> Self {
        let mut first = [false; 256];
        for w in &words {
            if let Some(seen) = w.first().and_then(|&b| first.get_mut(usize::from(b))) {
                *seen = true;
            }
        }
        Self { first, words }
    }

    /// Whether `message` starts with one of the words.
    #[inline]
    fn any(&self, message: &[u8]) -> bool {
        message
            .first()
            .is_some_and(|&b| self.first.get(usize::from(b)) == Some(&true))
            && self.words.iter().any(|w| message.starts_with(w))
    }
}

/// At most this many words before a set (more would cost what the set does).
const MAX_WORDS: usize = 64;

/// Whether every match of `pattern` starts where the message does (`^`, not
/// `(?m)^`, before every alternative): a pattern that need only be tried there.
fn anchored_at_start(pattern: &str) -> bool {
    regex_syntax::Parser::new().parse(pattern).is_ok_and(|h| {
        h.properties()
            .look_set_prefix()
            .contains(regex_syntax::hir::Look::Start)
    })
}

/// Equal when configured alike (the compiled form follows from the rules).
impl PartialEq for EventFilters {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules
    }
}

impl Eq for EventFilters {}

/// The rules that apply to the current record's log group, as bits over the
/// drop and keep sets.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Active {
    drop: u64,
    keep: u64,
}

impl Active {
    /// Whether any rule applies (else no event is looked at).
    #[inline]
    pub(crate) fn any(self) -> bool {
        self.drop | self.keep != 0
    }
}

impl EventFilters {
    /// No rule.
    pub fn none() -> Self {
        Self::default()
    }

    /// Compiles `rules`; the error names the rule and what is wrong with it.
    pub fn new(rules: Vec<Rule>) -> Result<Self, String> {
        if rules.is_empty() {
            return Ok(Self::none());
        }
        if rules.len() > MAX_RULES {
            return Err(format!(
                "{} event filter rules: at most {MAX_RULES}",
                rules.len()
            ));
        }
        let mut groups = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let name_ok = !rule.name.is_empty()
                && rule.name.len() <= 64
                && rule
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !name_ok {
                return Err(format!(
                    "event filter rule name {:?}: 1 to 64 of A-Z a-z 0-9 _ -",
                    rule.name
                ));
            }
            if rules.iter().take(i).any(|r| r.name == rule.name) {
                return Err(format!("event filter rule {:?} is named twice", rule.name));
            }
            groups.push(match &rule.log_groups {
                None => None,
                Some(p) => Some(
                    RegexBuilder::new(p)
                        .size_limit(SIZE_LIMIT)
                        .build()
                        .map_err(|e| {
                            format!(
                                "event filter rule {:?}: log group pattern {p:?}: {e}",
                                rule.name
                            )
                        })?,
                ),
            });
        }
        let patterns = |action: Action| -> Result<Patterns, String> {
            let chosen: Vec<(usize, &str)> = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.action == action)
                .map(|(i, r)| (i, r.pattern.as_str()))
                .collect();
            // Each pattern alone first, so that the error names its rule.
            for &(i, pattern) in &chosen {
                RegexSetBuilder::new([pattern])
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .map_err(|e| {
                        let name = rules.get(i).map_or("", |r| r.name.as_str());
                        format!("event filter rule {name:?}: pattern {pattern:?}: {e}")
                    })?;
            }
            Patterns::new(&chosen)
        };
        let drop = patterns(Action::Drop)?;
        let keep = patterns(Action::Keep)?;
        let blind = rules.iter().all(|r| blind_to_escapes(&r.pattern));
        Ok(Self {
            compiled: Some(Compiled {
                drop,
                keep,
                groups,
                blind,
            }),
            rules,
        })
    }

    /// The rules of the three settings: `DROP_MESSAGES` (a rule named
    /// `drop_messages` for every log group), `KEEP_MESSAGES`
    /// (`keep_messages`), then `EVENT_FILTERS`, a JSON array of
    /// `{"name":…,"log_groups":…,"drop":…}` or `{…,"keep":…}` (`name`
    /// defaults to `rule<N>`, `log_groups` to every group).
    pub fn from_settings(
        drop: Option<&str>,
        keep: Option<&str>,
        event_filters: Option<&str>,
    ) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Listed {
            name: Option<String>,
            log_groups: Option<String>,
            drop: Option<String>,
            keep: Option<String>,
        }
        let mut rules = Vec::new();
        for (name, action, pattern) in [
            ("drop_messages", Action::Drop, drop),
            ("keep_messages", Action::Keep, keep),
        ] {
            if let Some(pattern) = pattern {
                rules.push(Rule {
                    name: name.to_string(),
                    action,
                    pattern: pattern.to_string(),
                    log_groups: None,
                });
            }
        }
        if let Some(json) = event_filters {
            let listed: Vec<Listed> = serde_json::from_str(json)
                .map_err(|e| format!("EVENT_FILTERS is not a list of rules: {e}"))?;
            for (i, rule) in listed.into_iter().enumerate() {
                let name = rule.name.unwrap_or_else(|| format!("rule{}", i + 1));
                let (action, pattern) = match (rule.drop, rule.keep) {
                    (Some(p), None) => (Action::Drop, p),
                    (None, Some(p)) => (Action::Keep, p),
                    _ => {
                        return Err(format!(
                            "EVENT_FILTERS rule {name:?}: exactly one of drop and keep"
                        ))
                    }
                };
                rules.push(Rule {
                    name,
                    action,
                    pattern,
                    log_groups: rule.log_groups,
                });
            }
        }
        Self::new(rules)
    }

    /// Whether there is no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, in order (their indexes are the per-rule counts').
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rules that apply to `group`: asked once per record.
    pub(crate) fn active(&self, group: &str) -> Active {
        let Some(c) = &self.compiled else {
            return Active::default();
        };
        let applies = |rule: usize| {
            c.groups
                .get(rule)
                .and_then(Option::as_ref)
                .is_none_or(|g| g.is_match(group))
        };
        let bits = |rules: &[usize]| {
            rules
                .iter()
                .enumerate()
                .filter(|&(_, &rule)| applies(rule))
                .fold(0u64, |bits, (i, _)| bits | 1 << i)
        };
        Active {
            drop: bits(&c.drop.rules),
            keep: bits(&c.keep.rules),
        }
    }

    /// The rule that drops an event whose message (as the line would show
    /// it) is `message`, or `None` to keep it. A keep rule's drop is put down
    /// to the first keep rule that applies.
    pub(crate) fn drops(&self, active: Active, message: &[u8]) -> Option<usize> {
        let c = self.compiled.as_ref()?;
        // `is_match` first: it neither allocates nor looks for every match,
        // and most messages match no drop pattern.
        if active.drop != 0 {
            if let Some(rule) = c.drop.first_match(active.drop, message) {
                return Some(rule);
            }
        }
        if active.keep == 0 {
            return None;
        }
        let all = active.keep.count_ones() as usize == c.keep.rules.len();
        let kept = if all {
            c.keep.is_match(message)
        } else {
            c.keep.first_match(active.keep, message).is_some()
        };
        if kept {
            None
        } else {
            c.keep.first_rule(active.keep)
        }
    }
}

/// Whether `pattern` can be tried on a message's JSON string body as
/// [`crate::json::push_str`] writes it (`"`, `\` and controls escaped,
/// nothing else), before decoding it: where it finds no match in the body,
/// there is none in the text. True when the pattern can match none of those
/// characters and looks at nothing but the text's two ends (no `\b`, no
/// multi-line anchors): what it can match in the text is then copied into
/// the body unchanged, at the same ends. The converse does not hold (the `n`
/// of `\n` is matchable in the body), so a match in the body is confirmed
/// on the text.
fn blind_to_escapes(pattern: &str) -> bool {
    use regex_syntax::hir::{Class, Hir, HirKind, Look};
    // `"`, `\`, or a control character.
    let special =
        |lo: u32, hi: u32| lo < 0x20 || (lo..=hi).contains(&0x22) || (lo..=hi).contains(&0x5C);
    fn walk(h: &Hir, special: &dyn Fn(u32, u32) -> bool) -> bool {
        match h.kind() {
            HirKind::Empty => true,
            HirKind::Literal(l) => !l.0.iter().any(|&b| special(u32::from(b), u32::from(b))),
            HirKind::Class(Class::Unicode(c)) => !c
                .ranges()
                .iter()
                .any(|r| special(u32::from(r.start()), u32::from(r.end()))),
            HirKind::Class(Class::Bytes(c)) => !c
                .ranges()
                .iter()
                .any(|r| special(u32::from(r.start()), u32::from(r.end()))),
            HirKind::Look(l) => matches!(l, Look::Start | Look::End),
            HirKind::Repetition(r) => walk(&r.sub, special),
            HirKind::Capture(c) => walk(&c.sub, special),
            HirKind::Concat(v) | HirKind::Alternation(v) => v.iter().all(|h| walk(h, special)),
        }
    }
    regex_syntax::Parser::new()
        .parse(pattern)
        .is_ok_and(|h| walk(&h, &special))
}

/// What the filters did in one record.
#[derive(Debug, Default)]
pub(crate) struct Filtering {
    /// The rules.
    pub filters: EventFilters,
    /// Those that apply to the current record.
    pub active: Active,
    /// Events dropped in the current record, in all and by rule.
    pub dropped: usize,
    pub by_rule: Vec<usize>,
}

impl Filtering {
    /// For `filters`; `None` when there is no rule (the writer then does no
    /// filtering work at all).
    pub(crate) fn new(filters: EventFilters) -> Option<Box<Self>> {
        (!filters.is_empty()).then(|| {
            Box::new(Self {
                by_rule: vec![0; filters.rules().len()],
                filters,
                active: Active::default(),
                dropped: 0,
            })
        })
    }

    /// A new record of `group`.
    pub(crate) fn start_record(&mut self, group: &str) {
        self.active = self.filters.active(group);
        self.dropped = 0;
        self.by_rule.iter_mut().for_each(|n| *n = 0);
    }

    /// Whether the event with this message is dropped (and counts it).
    #[inline]
    pub(crate) fn drops(&mut self, message: &[u8]) -> bool {
        if !self.active.any() {
            return false;
        }
        let rule = self.filters.drops(self.active, message);
        self.count(rule)
    }

    /// [`Self::drops`] for a message known by its body alone, when the body
    /// decides: the body as [`crate::json::push_str`] writes it, and every
    /// pattern [`blind_to_escapes`]. `None` when the text must decide (a
    /// pattern matched the body); the usual message, which matches no
    /// pattern, is then decided without being decoded.
    pub(crate) fn drops_by_body(&mut self, body: &[u8]) -> Option<bool> {
        let c = self.filters.compiled.as_ref()?;
        if !c.blind {
            return None;
        }
        let active = self.active;
        if (active.drop != 0 && c.drop.is_match(body))
            || (active.keep != 0 && c.keep.is_match(body))
        {
            return None;
        }
        // No pattern matches the body, so none matches the text: no drop rule
        // drops it, and a keep rule that applies drops it.
        let rule = (active.keep != 0)
            .then(|| c.keep.first_rule(active.keep))
            .flatten();
        Some(self.count(rule))
    }

    /// Counts a drop by `rule` (none: kept); whether the event is dropped.
    fn count(&mut self, rule: Option<usize>) -> bool {
        match rule {
            Some(rule) => {
                self.dropped += 1;
                if let Some(n) = self.by_rule.get_mut(rule) {
                    *n += 1;
                }
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, action: Action, pattern: &str, groups: Option<&str>) -> Rule {
        Rule {
            name: name.to_string(),
            action,
            pattern: pattern.to_string(),
            log_groups: groups.map(str::to_string),
        }
    }

    #[test]
    fn drop_and_keep_rules_by_log_group() {
        let filters = EventFilters::new(vec![
            rule("health", Action::Drop, "GET /health", None),
            rule(
                "platform",
                Action::Drop,
                "^(START|END|REPORT) RequestId",
                Some("^/aws/lambda/"),
            ),
            rule(
                "api_errors",
                Action::Keep,
                "level=(warn|error)",
                Some("^/ecs/api$"),
            ),
        ])
        .unwrap();
        let mut f = Filtering::new(filters).unwrap();
        f.start_record("/aws/lambda/fn");
        assert!(f.drops(b"GET /health 200"));
        assert!(f.drops(b"START RequestId: 1 Version: $LATEST"));
        assert!(!f.drops(b"level=info hello"));
        assert_eq!((f.dropped, f.by_rule.clone()), (2, vec![1, 1, 0]));
        f.start_record("/ecs/api");
        assert!(!f.drops(b"START RequestId: 1 level=error"));
        assert!(f.drops(b"level=info"));
        assert!(f.drops(b"GET /health level=error"));
        assert_eq!((f.dropped, f.by_rule.clone()), (2, vec![1, 0, 1]));
        f.start_record("/other");
        assert!(!f.drops(b"START RequestId: 1"));
    }

    #[test]
    fn the_three_settings_make_one_list() {
        let f = EventFilters::from_settings(
            Some("^DEBUG"),
            None,
            Some(r#"[{"log_groups":"^/aws/lambda/","drop":"^REPORT "},{"name":"api","keep":"x"}]"#),
        )
        .unwrap();
        let names: Vec<&str> = f.rules().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["drop_messages", "rule1", "api"]);
        assert_eq!(f.rules()[2].action, Action::Keep);
        assert_eq!(f.rules()[1].log_groups.as_deref(), Some("^/aws/lambda/"));
        for (json, words) in [
            ("{}", "not a list"),
            (r#"[{"drop":"a","keep":"b"}]"#, "exactly one"),
            (r#"[{"name":"n"}]"#, "exactly one"),
            (r#"[{"drop":"a","group":"b"}]"#, "unknown field"),
            (r#"[{"drop":"a("}]"#, "rule \"rule1\": pattern"),
        ] {
            let e = EventFilters::from_settings(None, None, Some(json)).unwrap_err();
            assert!(e.contains(words), "{json}: {e}");
        }
        assert!(EventFilters::from_settings(None, None, None)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bad_rules_are_named() {
        for (rules, words) in [
            (
                vec![rule("a", Action::Drop, "(", None)],
                "rule \"a\": pattern \"(\"",
            ),
            (
                vec![rule("b", Action::Keep, "x", Some("[z"))],
                "rule \"b\": log group pattern",
            ),
            (
                vec![rule("a b", Action::Drop, "x", None)],
                "rule name \"a b\"",
            ),
            (
                vec![
                    rule("a", Action::Drop, "x", None),
                    rule("a", Action::Keep, "y", None),
                ],
                "named twice",
            ),
            (
                vec![rule("big", Action::Drop, "\\w{1000}{1000}", None)],
                "rule \"big\"",
            ),
        ] {
            let e = EventFilters::new(rules).unwrap_err();
            assert!(e.contains(words), "{e}");
        }
        let many = (0..=MAX_RULES)
            .map(|i| rule(&format!("r{i}"), Action::Drop, "x", None))
            .collect();
        assert!(EventFilters::new(many).is_err());
        assert!(Filtering::new(EventFilters::new(vec![]).unwrap()).is_none());
    }

    #[test]
    fn which_patterns_are_blind_to_escapes() {
        for blind in [
            "^DEBUG",
            "GET /health|kube-probe",
            "^(START|END) RequestId",
            "(?i)heart[a-z]+$",
            "x{2,5}",
        ] {
            assert!(blind_to_escapes(blind), "{blind}");
        }
        // `.` and negated classes match `"` and `\`; `\s` a newline; `\b` and
        // multi-line anchors look at the neighbours an escape changes.
        for seeing in [
            "a.b", "[^x]", "\\s", "\\bfoo", "(?m)^foo", "\"id\"", "\\\\", "\\n",
        ] {
            assert!(!blind_to_escapes(seeing), "{seeing}");
        }
    }

    /// The reference the sets are checked against: each rule's patterns on
    /// their own, in the order configured.
    fn reference(rules: &[Rule], group: &str, message: &[u8]) -> Option<usize> {
        let applies = |r: &Rule| {
            r.log_groups
                .as_ref()
                .is_none_or(|g| Regex::new(g).unwrap().is_match(group))
        };
        let hit = |r: &Rule| {
            regex::bytes::Regex::new(&r.pattern)
                .unwrap()
                .is_match(message)
        };
        let first_drop = rules
            .iter()
            .position(|r| r.action == Action::Drop && applies(r) && hit(r));
        if first_drop.is_some() {
            return first_drop;
        }
        let keeps: Vec<usize> = (0..rules.len())
            .filter(|&i| rules[i].action == Action::Keep && applies(&rules[i]))
            .collect();
        match keeps.first() {
            Some(&first) if !keeps.iter().any(|&i| hit(&rules[i])) => Some(first),
            _ => None,
        }
    }

    #[test]
    fn anchored_patterns_are_told_apart() {
        for anchored in ["^DEBUG", "^(START|END) RequestId", "^a|^b", "\\Afoo"] {
            assert!(anchored_at_start(anchored), "{anchored}");
        }
        for floating in ["DEBUG", "^a|b", "(?m)^a", "a^", "(", "x*^y"] {
            assert!(!anchored_at_start(floating), "{floating}");
        }
    }

    #[test]
    fn the_words_before_the_sets() {
        let words = |patterns: &[&str]| {
            let listed: Vec<(usize, &str)> = patterns.iter().map(|p| (0, *p)).collect();
            let refs: Vec<&(usize, &str)> = listed.iter().collect();
            prefixes(&refs)
        };
        assert_eq!(
            words(&["^DEBUG", "^(START|END) RequestId"]),
            Some(vec![
                b"DEBUG".to_vec(),
                b"START RequestId".to_vec(),
                b"END RequestId".to_vec()
            ])
        );
        assert_eq!(
            words(&["GET /health|kube-probe", "heartbeat"]).map(|w| w.len()),
            Some(3)
        );
        // An empty match, a wide class: every message goes to the set.
        for says_too_little in [&["^$"][..], &["x*"], &["heartbeat", "\\s"], &["\\w+=1"]] {
            assert_eq!(words(says_too_little), None, "{says_too_little:?}");
        }
    }

    #[test]
    fn both_word_searchers_agree() {
        let words = vec![
            b"GET /health".to_vec(),
            b"kube-probe".to_vec(),
            b"heartbeat".to_vec(),
        ];
        let packed = Words::new(words.clone()).unwrap();
        let automaton = Words::Automaton(AhoCorasick::new(&words).unwrap());
        for message in [
            &b""[..],
            b"GET /health",
            b"x",
            b"{\"path\":\"/api\",\"agent\":\"kube-probe/1.29\"}",
            b"a long message without any of the words, longer than a vector or two of bytes",
            b"a long message that ends with the word the search looks for: heartbeat",
            b"GET /healt",
        ] {
            assert_eq!(packed.is_match(message), automaton.is_match(message));
        }
    }

    proptest::proptest! {
        /// The anchored and floating sets, with the rules that apply to a
        /// group, decide and count as each rule alone, in order, would.
        #[test]
        fn the_sets_decide_as_each_rule_would(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "DEBUG", "GET /health", "START RequestId", "END", "heartbeat", "TRACE ",
                "level=warn", " ", "x", "\n",
            ]), 0..8),
            rules in proptest::collection::vec((proptest::sample::select(vec![
                "^DEBUG", "GET /health|kube-probe", "^(START|END) RequestId", "heartbeat",
                "^TRACE ", "level=(warn|error)", "x$", "^x|END", "(?m)^END", "(?i)^debug",
                "(?i)HEART", "^$", "^(DEBUG)?", "[a-z]+=warn", "\\s",
            ]), proptest::bool::ANY, proptest::option::of(proptest::sample::select(vec![
                "^/aws/lambda/", "^/ecs/",
            ]))), 1..6),
            group in proptest::sample::select(vec!["/aws/lambda/f", "/ecs/api", "/other"]),
        ) {
            let message = parts.concat();
            let rules: Vec<Rule> = rules
                .iter()
                .enumerate()
                .map(|(i, (p, keep, groups))| {
                    let action = if *keep { Action::Keep } else { Action::Drop };
                    rule(&format!("r{i}"), action, p, *groups)
                })
                .collect();
            let expected = reference(&rules, group, message.as_bytes());
            let filters = EventFilters::new(rules).unwrap();
            proptest::prop_assert_eq!(
                filters.drops(filters.active(group), message.as_bytes()),
                expected
            );
        }
    }

    proptest::proptest! {
        /// Deciding from the body first gives the text's answer and counts,
        /// whatever the message and the rules.
        #[test]
        fn the_body_decides_as_the_text_would(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "DEBUG", "GET /health", "n", "foo", " ", "\"", "\\", "\n", "\t", "\u{1}", "é",
                "heartbeat", "level=warn", "START RequestId", "x",
            ]), 0..10),
            rules in proptest::collection::vec((proptest::sample::select(vec![
                "^DEBUG", "GET /health|kube-probe", "nfoo", "foo$", "^n", "heartbeat|keepalive",
                "level=(warn|error)", "^(START|END) RequestId", "x+", "^$",
            ]), proptest::bool::ANY), 1..4),
        ) {
            let text = parts.concat();
            let rules: Vec<Rule> = rules
                .iter()
                .enumerate()
                .map(|(i, (p, keep))| {
                    let action = if *keep { Action::Keep } else { Action::Drop };
                    rule(&format!("r{i}"), action, p, None)
                })
                .collect();
            let filters = EventFilters::new(rules).unwrap();
            let mut by_text = Filtering::new(filters.clone()).unwrap();
            let mut by_body = Filtering::new(filters).unwrap();
            by_text.start_record("/g");
            by_body.start_record("/g");
            let mut body = Vec::new();
            crate::json::push_str(&mut body, &text);
            let body = &body[1..body.len() - 1];
            let expected = by_text.drops(text.as_bytes());
            let got = by_body
                .drops_by_body(body)
                .unwrap_or_else(|| by_body.drops(text.as_bytes()));
            proptest::prop_assert_eq!(got, expected);
            proptest::prop_assert_eq!(&by_body.by_rule, &by_text.by_rule);
        }
    }
}
