//! Chinese full-text search over the catalog's items and bundles.
//!
//! A small in-memory index, built from one catalog version in one pass and never changed
//! (the service swaps it together with its catalog, see [`crate::service::Snapshot`]):
//!
//! - **Fields.** Each item or bundle is a document with the fields name, aliases, keywords,
//!   life events (their names), department (its name; items only), description (bundles only)
//!   and English name, each with its weight ([`FIELD_NAMES`] and `BOOST`).
//! - **Terms.** Text is cut into runs of Chinese characters and runs of Latin letters and
//!   digits; everything else (punctuation, emoji, other scripts) separates runs. A Chinese run
//!   is segmented with jieba in search mode (`cut_for_search`, so 住房公积金 also yields 住房,
//!   公积金), stop words dropped, and its character bigrams are indexed too, so a part of a
//!   word still matches. A Latin run is one lower-case word.
//! - **Pinyin.** Every indexed Chinese word is also entered in a pinyin dictionary under its
//!   full pinyin without tones (`gongjijin`) and its initials (`gjj`); a character has its
//!   commonest reading, or, for a few dozen characters read two ways in everyday words, both
//!   (银行 is `yinhang` as well as `yinxing`). A Latin query is cut into dictionary keys with
//!   the fewest pieces (`zhufanggongjijintiqu` → 住房 公积金 提取, `zfgjjtq` likewise; the
//!   last piece may be typed in part) and each piece searched as the words it may stand for,
//!   the words used more in the catalog weighing more, as an input method ranks its
//!   candidates. Names, aliases, keywords
//!   and life events are also matched as whole phrases against the query's letters (full
//!   pinyin, initials or a mix), which gives the same bonuses as Chinese text. A Latin word is
//!   also itself, so English names and numbers (12345) match.
//! - **Ranking.** BM25 per field, weighted by the field's boost, summed over the query's
//!   terms (for a pinyin piece, the best of its words, with the idf of all of them together);
//!   plus a bonus when the whole query (without stop words such as 我要, 怎么办) equals, starts
//!   or is contained in the name, an alias or a keyword (less for a life event or the
//!   department; a little more for each further alias or keyword saying it), scaled by the
//!   query's weight. An exact alias thus beats a name that merely contains the words.
//! - **Bundles.** A bundle that ties with one of its items goes just above it: when it scores
//!   at least [`BUNDLE_TIE`] of the item's score, or when it matches the whole query as
//!   strongly as the item does (both have it as an exact keyword, say), at least two of its
//!   items do too, and it scores at least [`BUNDLE_PHRASE_TIE`] of the item's score. Someone
//!   typing 孩子出生 or 去世 wants the bundle; someone typing 健康证 wants the health-certificate
//!   item, although the restaurant bundle has 健康证 among its keywords.
//!
//! Building is linear in the catalog's text, with jieba called once per distinct string; a
//! query touches only the postings of its terms, plus one scan over the phrases for the
//! bonuses. Any input is safe: the query is cut to [`MAX_QUERY_CHARS`] characters, and a
//! query without a usable character finds nothing.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use jieba_rs::Jieba;
use pinyin::ToPinyinMulti;
use serde::Serialize;
use utoipa::ToSchema;

use crate::Catalog;

/// The segmenter with its default dictionary, loaded once per process (about 0.15 s in a
/// release build) and shared by every index.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Loads the segmenter's dictionary now instead of at the first index build or query.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// Longer queries are cut to this many characters (the HTTP API refuses over 100).
pub const MAX_QUERY_CHARS: usize = 200;

/// A bundle scoring at least this share of a member item's score is ranked just above that
/// item.
pub const BUNDLE_TIE: f32 = 0.8;
/// The same, when the bundle and at least two of its items match the whole query at least as
/// strongly as that item (say all have it as a keyword): the query is about what the items
/// share, so about the bundle. A bundle that has the query only as one keyword among many
/// scores far less than the item it names (居住证: a quarter of the residence-permit item).
pub const BUNDLE_PHRASE_TIE: f32 = 0.4;

/// The names of the fields, as reported in [`Hit::matched`]. `pinyin` is added when the match
/// came through pinyin.
pub const FIELD_NAMES: [&str; FIELDS] = [
    "name",
    "aliases",
    "keywords",
    "life_events",
    "department",
    "description",
    "name_en",
];

/// Fields by index, in the order of [`FIELD_NAMES`].
const FIELDS: usize = 7;
const DESCRIPTION: usize = 5;
const NAME_EN: usize = 6;
const PINYIN_BIT: u16 = 1 << FIELDS;

/// BM25 weight of a match in each field.
const BOOST: [f32; FIELDS] = [3.0, 2.0, 1.5, 1.0, 0.6, 0.4, 1.5];

/// Bonus, in units of the query's weight, when the whole query is equal to / the start of /
/// contained in a phrase of the field (the name, one alias, one keyword, …).
const PHRASE_BONUS: [[f32; 3]; FIELDS] = [
    [6.0, 2.0, 1.5], // name
    [5.0, 1.2, 0.8], // aliases
    [3.0, 0.8, 0.5], // keywords
    [1.0, 0.3, 0.2], // life events
    [0.6, 0.3, 0.2], // department
    [0.0, 0.0, 0.0], // description: terms only
    [3.0, 1.5, 1.0], // English name
];

/// Weight of each further matching phrase of a field against the best one.
const MORE_PHRASES: f32 = 0.25;

/// Phrase matches through pinyin are less certain than through characters.
const PINYIN_PHRASE_SCALE: f32 = 0.9;

const K1: f32 = 1.2;
/// BM25 length normalization per field. Light on names (a qualifier in brackets should not
/// sink a name) and on lists (more aliases saying the same thing mean a more central match,
/// not a diluted one); none on life events.
const B: [f32; FIELDS] = [0.5, 0.0, 0.0, 0.0, 0.5, 0.75, 0.5];

/// Weight of a character bigram against a whole word.
const BIGRAM_WEIGHT: f32 = 0.4;
/// Weight of a pinyin piece by how it matched a word.
const FULL_WEIGHT: f32 = 1.0;
const INITIALS_WEIGHT: f32 = 0.8;
const PARTIAL_WEIGHT: f32 = 0.6;
/// At most this many words may stand for one pinyin piece.
const MAX_ALTERNATIVES: usize = 64;
/// Pinyin keys longer than this are not entered in the dictionary, nor keys of one letter
/// (啊 a, 1+X x), so that a string of stray letters does not pass for a patchwork of them.
const MAX_KEY: usize = 32;
/// Results scoring under this share of the best one are left out as noise.
const MIN_RELATIVE_SCORE: f32 = 0.05;

/// Words that carry no meaning in a query (我要…, 怎么办…) or in a name.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "在", "是", "我", "我要", "要", "想",
    "想要", "我想", "怎么", "怎么办", "怎样", "如何", "哪里", "在哪", "在哪里", "哪儿", "什么", "吗",
    "呢", "啊", "吧", "呀", "一下", "请问", "可以", "能", "能否", "需要", "应该", "把",
    "被", "之", "等", "以及", "有关", "关于",
];

#[rustfmt::skip]
const EN_STOP_WORDS: &[&str] = &[
    "a", "an", "the", "of", "for", "and", "or", "to", "in", "on", "at", "by", "with", "from",
    "as", "is", "are", "be", "my", "i", "how", "do", "does", "what", "where",
];

#[rustfmt::skip]
const ASCII_READINGS: [&str; 36] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f", "g", "h",
    "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
];

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Hit {
    /// `item` or `bundle`.
    pub kind: &'static str,
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    /// The providing department's code; items only.
    pub department: Option<String>,
    /// The providing department's name; items only.
    pub department_name: Option<String>,
    /// Relevance; only the order means anything.
    pub score: f64,
    /// The fields that matched (`name`, `aliases`, `keywords`, `life_events`, `department`,
    /// `description`, `name_en`), and `pinyin` when the match came through pinyin.
    pub matched: Vec<&'static str>,
}

/// The search index of one catalog version. Immutable; build a new one for a new version.
pub struct SearchIndex {
    /// The digest of the catalog version it indexes.
    digest: String,
    docs: Vec<Doc>,
    /// Namespaced term (`w` word, `b` bigram, then the text) → term id.
    terms: HashMap<String, u32>,
    postings: Vec<Vec<Posting>>,
    df: Vec<u32>,
    avg_len: [f32; FIELDS],
    /// Pinyin (full or initials) or Latin word → the word terms it may stand for.
    keys: BTreeMap<String, Vec<(u32, KeyKind)>>,
    /// Pinyin readings of each character met, by reading-set id.
    readings: Vec<Vec<&'static str>>,
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    field: u8,
    tf: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Literal,
    Full,
    Initials,
}

struct Doc {
    bundle: bool,
    code: String,
    name: String,
    name_en: Option<String>,
    department: Option<(String, String)>,
    len: [u16; FIELDS],
    phrases: Vec<Phrase>,
    /// Bundles: the documents of their member items, own and through `includes`.
    members: Vec<u32>,
}

/// A whole value of a field, for the exact/prefix/contains bonuses.
struct Phrase {
    field: u8,
    /// Chinese characters, letters and digits only, lower case (English: words kept apart by
    /// single spaces).
    norm: String,
    /// Reading-set ids of the characters, for matching pinyin; empty for English.
    pinyin: Vec<u32>,
}

/// How a whole phrase matches the query; the stronger first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Exact = 0,
    Prefix = 1,
    Contains = 2,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("digest", &self.digest)
            .field("documents", &self.docs.len())
            .field("terms", &self.terms.len())
            .field("pinyin_keys", &self.keys.len())
            .finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Text

fn is_han(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{3007}')
}

/// Full-width forms to ASCII, upper to lower case.
fn fold(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    c.to_ascii_lowercase()
}

#[derive(Debug, PartialEq, Eq)]
enum Run {
    Han(String),
    Latin(String),
}

/// Runs of Chinese characters and runs of ASCII letters and digits; anything else separates.
fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut han = false;
    for c in text.chars().map(fold) {
        let kind = if is_han(c) {
            Some(true)
        } else if c.is_ascii_alphanumeric() {
            Some(false)
        } else {
            None
        };
        if kind != Some(han) && !cur.is_empty() {
            let run = std::mem::take(&mut cur);
            out.push(if han { Run::Han(run) } else { Run::Latin(run) });
        }
        if let Some(k) = kind {
            han = k;
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(if han { Run::Han(cur) } else { Run::Latin(cur) });
    }
    out
}

/// Chinese characters, letters and digits of `text`, lower case: the form phrases and queries
/// are compared in.
fn normalize(text: &str) -> String {
    text.chars()
        .map(fold)
        .filter(|&c| is_han(c) || c.is_ascii_alphanumeric())
        .collect()
}

/// The query as compared with whole phrases: normalized, without stop words (我要开公司 →
/// 开公司, 怎么办护照 → 护照), or all of it when that leaves nothing.
fn phrase_query(q: &str) -> String {
    let mut out = String::new();
    for run in runs(q) {
        match run {
            Run::Han(run) => {
                for t in JIEBA.cut(&run, true) {
                    if !STOP_WORDS.contains(&t.word) {
                        out.push_str(t.word);
                    }
                }
            }
            Run::Latin(word) => out.push_str(&word),
        }
    }
    if out.is_empty() { normalize(q) } else { out }
}

/// English words, lower case, joined by single spaces.
fn normalize_words(text: &str) -> String {
    let words: Vec<String> = runs(text)
        .into_iter()
        .filter_map(|r| match r {
            Run::Latin(w) => Some(w),
            Run::Han(_) => None,
        })
        .collect();
    words.join(" ")
}

/// The terms of a text, namespaced: `w` + word, `b` + character bigram.
fn terms_of(text: &str, mut emit: impl FnMut(&str)) {
    let mut key = String::new();
    for run in runs(text) {
        match run {
            Run::Han(run) => {
                for t in JIEBA.cut_for_search(&run, true) {
                    if STOP_WORDS.contains(&t.word) {
                        continue;
                    }
                    key.clear();
                    key.push('w');
                    key.push_str(t.word);
                    emit(&key);
                }
                let chars: Vec<char> = run.chars().collect();
                for pair in chars.windows(2) {
                    key.clear();
                    key.push('b');
                    key.push(pair[0]);
                    key.push(pair[1]);
                    emit(&key);
                }
            }
            Run::Latin(word) => {
                if EN_STOP_WORDS.contains(&word.as_str()) {
                    continue;
                }
                key.clear();
                key.push('w');
                key.push_str(&word);
                emit(&key);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pinyin

/// Characters read more than one way in everyday words, with the readings people type (银行
/// yinhang, 还贷 huandai, 会计 kuaiji, 长期 changqi). Every other character has only the
/// first reading the `pinyin` crate gives, as its further readings are mostly rare or archaic
/// (儿 ren, 童 zhong) and would make initials match the wrong words.
const COMMON_READINGS: &[(char, &[&str])] = &[
    ('行', &["xing", "hang"]),
    ('还', &["huan", "hai"]),
    ('重', &["zhong", "chong"]),
    ('长', &["chang", "zhang"]),
    ('了', &["le", "liao"]),
    ('的', &["de", "di"]),
    ('都', &["du", "dou"]),
    ('差', &["cha", "chai"]),
    ('调', &["diao", "tiao"]),
    ('会', &["hui", "kuai"]),
    ('乐', &["le", "yue"]),
    ('传', &["chuan", "zhuan"]),
    ('藏', &["cang", "zang"]),
    ('降', &["jiang", "xiang"]),
    ('率', &["lv", "shuai"]),
    ('给', &["gei", "ji"]),
    ('省', &["sheng", "xing"]),
    ('便', &["bian", "pian"]),
    ('系', &["xi", "ji"]),
    ('血', &["xue", "xie"]),
    ('数', &["shu", "shuo"]),
    ('强', &["qiang", "jiang"]),
    ('没', &["mei", "mo"]),
    ('地', &["di", "de"]),
    ('得', &["de", "dei"]),
    ('着', &["zhe", "zhao", "zhuo"]),
    ('落', &["luo", "la", "lao"]),
    ('参', &["can", "shen", "cen"]),
    ('大', &["da", "dai"]),
    ('校', &["xiao", "jiao"]),
    ('模', &["mo", "mu"]),
    ('弹', &["dan", "tan"]),
    ('曾', &["ceng", "zeng"]),
    ('和', &["he", "huo"]),
    ('觉', &["jue", "jiao"]),
    ('角', &["jiao", "jue"]),
    ('露', &["lu", "lou"]),
    ('薄', &["bao", "bo"]),
    ('朝', &["chao", "zhao"]),
    ('仔', &["zai", "zi"]),
    ('单', &["dan", "shan"]),
    ('提', &["ti", "di"]),
    ('奇', &["qi", "ji"]),
    ('属', &["shu", "zhu"]),
    ('似', &["si", "shi"]),
    ('宿', &["su", "xiu"]),
    ('盛', &["sheng", "cheng"]),
    ('恶', &["e", "wu"]),
    ('壳', &["ke", "qiao"]),
    ('区', &["qu", "ou"]),
    ('什', &["shen", "shi"]),
    ('称', &["cheng", "chen"]),
    ('卡', &["ka", "qia"]),
    ('石', &["shi", "dan"]),
    ('扎', &["zha", "za"]),
];

/// A syllable as typed on a keyboard: ü as v (女 nv, 绿 lv).
fn ascii_syllable(plain: &'static str) -> &'static str {
    match plain {
        "lü" => "lv",
        "nü" => "nv",
        "lüe" => "lve",
        "nüe" => "nve",
        p if p.is_ascii() => p,
        _ => "",
    }
}

#[derive(Default)]
struct Readings {
    by_char: HashMap<char, u32>,
    sets: Vec<Vec<&'static str>>,
}

impl Readings {
    /// The reading-set id of a character: its pinyin readings without tones for a Chinese
    /// character (the commonest, or those of [`COMMON_READINGS`]), itself for a letter or
    /// digit; `None` for anything else.
    fn id(&mut self, c: char) -> Option<u32> {
        if let Some(&id) = self.by_char.get(&c) {
            return Some(id);
        }
        let set: Vec<&'static str> = if c.is_ascii_digit() {
            vec![ASCII_READINGS[(c as u8 - b'0') as usize]]
        } else if c.is_ascii_lowercase() {
            vec![ASCII_READINGS[(c as u8 - b'a') as usize + 10]]
        } else if let Some(&(_, common)) = COMMON_READINGS.iter().find(|(k, _)| *k == c) {
            common.to_vec()
        } else if is_han(c) {
            // The first reading is the commonest; the others are mostly rare or archaic.
            c.to_pinyin_multi()
                .and_then(|multi| multi.into_iter().next())
                .map(|p| ascii_syllable(p.plain()))
                .filter(|p| !p.is_empty())
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        if set.is_empty() {
            return None;
        }
        let id = self.sets.len() as u32;
        self.sets.push(set);
        self.by_char.insert(c, id);
        Some(id)
    }

    fn sequence(&mut self, norm: &str) -> Vec<u32> {
        norm.chars().filter_map(|c| self.id(c)).collect()
    }
}

/// The pinyin keys of a Chinese word: full and initials, over the readings of its
/// characters (at most 8 of each).
fn word_keys(seq: &[u32], sets: &[Vec<&'static str>]) -> Vec<(String, KeyKind)> {
    const MAX_VARIANTS: usize = 8;
    let mut full = vec![String::new()];
    let mut initials = vec![String::new()];
    for &id in seq {
        let set = &sets[id as usize];
        let mut next_full = Vec::new();
        let mut next_initials = Vec::new();
        for r in set {
            for f in &full {
                if next_full.len() < MAX_VARIANTS {
                    next_full.push(format!("{f}{r}"));
                }
            }
            for i in &initials {
                let mut s = i.clone();
                s.push_str(&r[..1]);
                if next_initials.len() < MAX_VARIANTS && !next_initials.contains(&s) {
                    next_initials.push(s);
                }
            }
        }
        full = next_full;
        initials = next_initials;
    }
    let mut out: Vec<(String, KeyKind)> = full.into_iter().map(|k| (k, KeyKind::Full)).collect();
    if seq.len() >= 2 {
        out.extend(initials.into_iter().map(|k| (k, KeyKind::Initials)));
    }
    out.retain(|(k, _)| (2..=MAX_KEY).contains(&k.len()));
    out
}

/// How the letters `q` match the pinyin of a phrase (reading-set ids `seq`): from its start to
/// its end, from its start, or from a character inside. Each character is matched by one of
/// its readings in full, by its initial (`z`, or `zh`/`ch`/`sh`), or, for the last one
/// matched, by the start of a reading.
fn pinyin_match(q: &[u8], seq: &[u32], sets: &[Vec<&'static str>]) -> Option<Class> {
    let m = q.len();
    if m == 0 || m > 127 || seq.is_empty() {
        return None;
    }
    let done: u128 = 1 << m;
    // Bit p: the first p letters are matched. `from_start` only counts paths that began at the
    // phrase's first character; `any` counts all.
    let mut from_start: u128 = 0;
    let mut any: u128 = 0;
    let mut best: Option<Class> = None;
    for (i, &id) in seq.iter().enumerate() {
        any |= 1;
        if i == 0 {
            from_start |= 1;
        }
        let (mut next_start, mut next_any) = (0u128, 0u128);
        let mut bits = any;
        while bits != 0 {
            let p = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let started = (from_start >> p) & 1 == 1;
            let rest = &q[p..];
            let mut step = |to: u128| {
                next_any |= to;
                if started {
                    next_start |= to;
                }
            };
            for r in &sets[id as usize] {
                let r = r.as_bytes();
                if rest.starts_with(r) {
                    step(1 << (p + r.len()));
                } else if r.starts_with(rest) {
                    step(done);
                }
                if rest[0] == r[0] {
                    step(1 << (p + 1));
                }
                if r.len() > 2
                    && matches!(&r[..2], b"zh" | b"ch" | b"sh")
                    && rest.starts_with(&r[..2])
                {
                    step(1 << (p + 2));
                }
            }
        }
        if next_any & done != 0 {
            let class = if next_start & done == 0 {
                Class::Contains
            } else if i + 1 == seq.len() {
                Class::Exact
            } else {
                Class::Prefix
            };
            if class == Class::Exact {
                return Some(class);
            }
            best = Some(best.map_or(class, |b| b.min(class)));
        }
        from_start = next_start & !done;
        any = next_any & !done;
    }
    best
}

// ---------------------------------------------------------------------------------------------
// Building

struct Builder {
    terms: HashMap<String, u32>,
    postings: Vec<Vec<Posting>>,
    df: Vec<u32>,
    /// Distinct text → its term ids, so each string is segmented once.
    cache: HashMap<String, Vec<u32>>,
    readings: Readings,
}

impl Builder {
    fn term_ids(&mut self, text: &str) -> &[u32] {
        if !self.cache.contains_key(text) {
            let mut ids = Vec::new();
            let terms = &mut self.terms;
            let postings = &mut self.postings;
            let df = &mut self.df;
            terms_of(text, |key| {
                let id = match terms.get(key) {
                    Some(&id) => id,
                    None => {
                        let id = postings.len() as u32;
                        terms.insert(key.to_string(), id);
                        postings.push(Vec::new());
                        df.push(0);
                        id
                    }
                };
                ids.push(id);
            });
            self.cache.insert(text.to_string(), ids);
        }
        &self.cache[text]
    }
}

/// A document being built: its field values before indexing.
struct Source<'a> {
    fields: [Vec<&'a str>; FIELDS],
}

impl SearchIndex {
    /// Indexes the items and bundles of a catalog.
    pub fn build(c: &Catalog) -> SearchIndex {
        let mut b = Builder {
            terms: HashMap::new(),
            postings: Vec::new(),
            df: Vec::new(),
            cache: HashMap::new(),
            readings: Readings::default(),
        };
        let life_event = |code: &String| c.life_event(code).map(|e| e.name.as_str());
        let item_doc: HashMap<&str, u32> = c
            .items()
            .iter()
            .enumerate()
            .map(|(i, item)| (item.code.as_str(), i as u32))
            .collect();

        let mut docs = Vec::with_capacity(c.items().len() + c.bundles().len());
        let mut sources = Vec::with_capacity(docs.capacity());
        for item in c.items() {
            let dept = c.department(&item.department);
            docs.push(Doc {
                bundle: false,
                code: item.code.clone(),
                name: item.name.clone(),
                name_en: item.name_en.clone(),
                department: Some((
                    item.department.clone(),
                    dept.map(|d| d.name.clone()).unwrap_or_default(),
                )),
                len: [0; FIELDS],
                phrases: Vec::new(),
                members: Vec::new(),
            });
            sources.push(Source {
                fields: [
                    vec![item.name.as_str()],
                    item.aliases.iter().map(String::as_str).collect(),
                    item.keywords.iter().map(String::as_str).collect(),
                    item.life_events.iter().filter_map(life_event).collect(),
                    dept.map(|d| vec![d.name.as_str()]).unwrap_or_default(),
                    Vec::new(),
                    item.name_en.as_deref().into_iter().collect(),
                ],
            });
        }
        for bundle in c.bundles() {
            docs.push(Doc {
                bundle: true,
                code: bundle.code.clone(),
                name: bundle.name.clone(),
                name_en: bundle.name_en.clone(),
                department: None,
                len: [0; FIELDS],
                phrases: Vec::new(),
                members: members_of(c, &bundle.code)
                    .iter()
                    .filter_map(|code| item_doc.get(code.as_str()).copied())
                    .collect(),
            });
            sources.push(Source {
                fields: [
                    vec![bundle.name.as_str()],
                    bundle.aliases.iter().map(String::as_str).collect(),
                    bundle.keywords.iter().map(String::as_str).collect(),
                    bundle.life_events.iter().filter_map(life_event).collect(),
                    Vec::new(),
                    bundle.description.as_deref().into_iter().collect(),
                    bundle.name_en.as_deref().into_iter().collect(),
                ],
            });
        }

        let mut occurrences: Vec<(u32, u8)> = Vec::new();
        let mut total_len = [0u64; FIELDS];
        for (d, source) in sources.iter().enumerate() {
            occurrences.clear();
            let doc = &mut docs[d];
            for (field, values) in source.fields.iter().enumerate() {
                for value in values {
                    let ids = b.term_ids(value);
                    occurrences.extend(ids.iter().map(|&id| (id, field as u8)));
                    doc.len[field] = doc.len[field].saturating_add(ids.len() as u16);
                    if field == DESCRIPTION {
                        continue;
                    }
                    let phrase = if field == NAME_EN {
                        Phrase {
                            field: field as u8,
                            norm: normalize_words(value),
                            pinyin: Vec::new(),
                        }
                    } else {
                        let norm = normalize(value);
                        let pinyin = b.readings.sequence(&norm);
                        Phrase {
                            field: field as u8,
                            norm,
                            pinyin,
                        }
                    };
                    if !phrase.norm.is_empty() {
                        doc.phrases.push(phrase);
                    }
                }
                total_len[field] += u64::from(doc.len[field]);
            }
            occurrences.sort_unstable();
            let mut k = 0;
            while k < occurrences.len() {
                let (term, field) = occurrences[k];
                let mut tf = 0u16;
                while k < occurrences.len() && occurrences[k] == (term, field) {
                    tf = tf.saturating_add(1);
                    k += 1;
                }
                let list = &mut b.postings[term as usize];
                if list.last().is_none_or(|p| p.doc != d as u32) {
                    b.df[term as usize] += 1;
                }
                list.push(Posting {
                    doc: d as u32,
                    field,
                    tf,
                });
            }
        }

        let n = docs.len().max(1) as f32;
        let avg_len = std::array::from_fn(|f| (total_len[f] as f32 / n).max(1.0));

        // The pinyin dictionary: every word term under its pinyin, every Latin word as itself.
        let mut keys: BTreeMap<String, Vec<(u32, KeyKind)>> = BTreeMap::new();
        for (term, &id) in &b.terms {
            let Some(word) = term.strip_prefix('w') else {
                continue;
            };
            let mut add = |key: String, kind: KeyKind| {
                let list = keys.entry(key).or_default();
                if !list.iter().any(|&(t, _)| t == id) {
                    list.push((id, kind));
                }
            };
            if word.chars().all(|c| c.is_ascii_alphanumeric()) {
                if (2..=MAX_KEY).contains(&word.len()) {
                    add(word.to_string(), KeyKind::Literal);
                }
            } else {
                let seq = b.readings.sequence(word);
                if seq.len() == word.chars().count() {
                    for (key, kind) in word_keys(&seq, &b.readings.sets) {
                        add(key, kind);
                    }
                }
            }
        }
        // Deterministic order of alternatives, whatever the hash map's.
        for list in keys.values_mut() {
            list.sort_unstable_by_key(|&(t, kind)| (kind as u8, t));
        }

        SearchIndex {
            digest: c.digest().to_string(),
            docs,
            terms: b.terms,
            postings: b.postings,
            df: b.df,
            avg_len,
            keys,
            readings: b.readings.sets,
        }
    }

    /// The digest of the catalog version this index was built from ([`Catalog::digest`]).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The number of indexed documents (items and bundles).
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

/// The items of a bundle, its own and those of the bundles it includes, each once.
fn members_of(c: &Catalog, bundle: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut stack = vec![bundle.to_string()];
    while let Some(code) = stack.pop() {
        if !seen.insert(code.clone()) {
            continue;
        }
        if let Some(b) = c.bundle(&code) {
            for bi in &b.items {
                if !out.contains(&bi.item) {
                    out.push(bi.item.clone());
                }
            }
            stack.extend(b.includes.iter().cloned());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Searching

/// One term of a query: the best of its alternatives counts (a pinyin piece may stand for
/// several words; a Chinese word or a bigram stands for itself).
struct Clause {
    alternatives: Vec<(u32, f32)>,
    pinyin: bool,
}

impl SearchIndex {
    /// The `limit` best items and bundles for a query in Chinese, pinyin (full, initials or a
    /// mix), English or a mix of them; best first. Empty when nothing matches.
    pub fn search(&self, q: &str, limit: usize) -> Vec<Hit> {
        if limit == 0 || self.docs.is_empty() {
            return Vec::new();
        }
        let q: String = q.chars().take(MAX_QUERY_CHARS).collect();
        if normalize(&q).is_empty() {
            return Vec::new();
        }
        // Compared with whole phrases: the query without its stop words (我要开公司 → 开公司).
        let norm = phrase_query(&q);
        let clauses = self.clauses(&q);

        let n = self.docs.len();
        let mut score = vec![0f32; n];
        let mut matched = vec![0u16; n];
        let mut mass = 0f32;
        let mut clause_score = vec![0f32; n];
        let mut touched: Vec<u32> = Vec::new();
        for clause in &clauses {
            let mut best_weight = 0f32;
            for &(term, weight) in &clause.alternatives {
                best_weight = best_weight.max(weight);
                // The alternative's score in each document, summed over fields, before idf.
                let mut last_doc = u32::MAX;
                let mut alt_score = 0f32;
                let postings = &self.postings[term as usize];
                for (k, p) in postings.iter().enumerate() {
                    let f = p.field as usize;
                    let len = f32::from(self.docs[p.doc as usize].len[f]);
                    let tf = f32::from(p.tf);
                    let norm_tf =
                        tf * (K1 + 1.0) / (tf + K1 * (1.0 - B[f] + B[f] * len / self.avg_len[f]));
                    if p.doc != last_doc {
                        alt_score = 0.0;
                        last_doc = p.doc;
                    }
                    alt_score += weight * BOOST[f] * norm_tf;
                    matched[p.doc as usize] |= 1 << f;
                    if clause.pinyin {
                        matched[p.doc as usize] |= PINYIN_BIT;
                    }
                    let end = postings.get(k + 1).is_none_or(|next| next.doc != p.doc);
                    if end {
                        let d = p.doc as usize;
                        if clause_score[d] == 0.0 {
                            touched.push(p.doc);
                        }
                        clause_score[d] = clause_score[d].max(alt_score);
                    }
                }
            }
            // The clause's idf counts the documents matching any of its alternatives, so that
            // of the words a pinyin piece may stand for, a rare one does not outweigh a common
            // one (zf: 住房 rather than 租房).
            let idf = self.idf_of(touched.len());
            mass += best_weight * idf;
            for d in touched.drain(..) {
                score[d as usize] += idf * clause_score[d as usize];
                clause_score[d as usize] = 0.0;
            }
        }

        // Whole-phrase bonuses.
        let unit = mass.max(1.0);
        let letters: Option<Vec<u8>> = {
            let l: Vec<u8> = norm.bytes().collect();
            (l.iter().all(u8::is_ascii_lowercase) && l.len() <= 127).then_some(l)
        };
        let words = normalize_words(&q);
        // Per document, the strongest whole-phrase match of the name, an alias or a keyword, as
        // class × 3 + field (0 = the exact name); lower is stronger.
        let mut strength = vec![u8::MAX; n];
        for (d, doc) in self.docs.iter().enumerate() {
            // Per field: the best phrase's bonus, the sum of all, the best class.
            let mut best = [0f32; FIELDS];
            let mut sum = [0f32; FIELDS];
            for ph in &doc.phrases {
                let f = ph.field as usize;
                let literal = if f == NAME_EN {
                    english_class(&words, &ph.norm)
                } else {
                    text_class(&norm, &ph.norm)
                };
                let mut found = literal.map(|c| (c, false));
                if found.is_none_or(|(c, _)| c != Class::Exact)
                    && let Some(letters) = &letters
                    && let Some(c) = pinyin_match(letters, &ph.pinyin, &self.readings)
                    && (c != Class::Contains || letters.len() >= 2)
                    && found.is_none_or(|(lc, _)| c < lc)
                {
                    found = Some((c, true));
                }
                let Some((class, pinyin)) = found else {
                    continue;
                };
                if f < 3 {
                    strength[d] = strength[d].min(class as u8 * 3 + f as u8);
                }
                let mut bonus = PHRASE_BONUS[f][class as usize];
                if pinyin {
                    bonus *= PINYIN_PHRASE_SCALE;
                    matched[d] |= PINYIN_BIT;
                }
                if bonus > 0.0 {
                    best[f] = best[f].max(bonus);
                    sum[f] += bonus;
                    matched[d] |= 1 << f;
                }
            }
            // More phrases of a field saying the query (several aliases) are more evidence,
            // with diminishing weight.
            for f in 0..FIELDS {
                score[d] += (best[f] + MORE_PHRASES * (sum[f] - best[f])) * unit;
            }
        }

        // A bundle that ties with a member item goes just above it: it matches the whole
        // query at least as strongly (an exact keyword against an exact keyword), or scores
        // nearly as well.
        for (d, doc) in self.docs.iter().enumerate() {
            if !doc.bundle || score[d] <= 0.0 {
                continue;
            }
            // Several members say the query as strongly as the bundle: it is about what they
            // share, not about one of them.
            let shared = strength[d] != u8::MAX
                && doc
                    .members
                    .iter()
                    .filter(|&&m| strength[m as usize] <= strength[d])
                    .count()
                    >= 2;
            let tied = doc
                .members
                .iter()
                .map(|&m| m as usize)
                .filter(|&m| {
                    score[m] > score[d]
                        && (score[d] >= BUNDLE_TIE * score[m]
                            || (shared
                                && strength[d] <= strength[m]
                                && score[d] >= BUNDLE_PHRASE_TIE * score[m]))
                })
                .map(|m| score[m])
                .fold(0f32, f32::max);
            if tied > 0.0 {
                score[d] = tied * 1.001;
            }
        }

        let mut ranked: Vec<usize> = (0..n).filter(|&d| score[d] > 0.0).collect();
        ranked.sort_by(|&a, &b| {
            score[b]
                .total_cmp(&score[a])
                .then(self.docs[b].bundle.cmp(&self.docs[a].bundle))
                .then(a.cmp(&b))
        });
        let top = ranked.first().map_or(0.0, |&d| score[d]);
        ranked
            .into_iter()
            .take_while(|&d| score[d] >= top * MIN_RELATIVE_SCORE)
            .take(limit)
            .map(|d| self.hit(d, score[d], matched[d]))
            .collect()
    }

    /// BM25 idf of a term found in `df` documents.
    fn idf_of(&self, df: usize) -> f32 {
        let n = self.docs.len() as f32;
        let df = df as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    fn term(&self, ns: char, text: &str) -> Option<u32> {
        let mut key = String::with_capacity(text.len() + 1);
        key.push(ns);
        key.push_str(text);
        self.terms.get(&key).copied()
    }

    /// The clauses of a query: Chinese words and bigrams, pinyin pieces, Latin words.
    fn clauses(&self, q: &str) -> Vec<Clause> {
        let mut out: Vec<Clause> = Vec::new();
        let mut seen: HashSet<u32> = HashSet::new();
        let mut single = |out: &mut Vec<Clause>, term: Option<u32>, weight: f32| {
            if let Some(t) = term
                && seen.insert(t)
            {
                out.push(Clause {
                    alternatives: vec![(t, weight)],
                    pinyin: false,
                });
            }
        };
        for run in runs(q) {
            match run {
                Run::Han(run) => {
                    for t in JIEBA.cut_for_search(&run, true) {
                        if !STOP_WORDS.contains(&t.word) {
                            single(&mut out, self.term('w', t.word), 1.0);
                        }
                    }
                    let chars: Vec<char> = run.chars().collect();
                    for pair in chars.windows(2) {
                        let bigram: String = pair.iter().collect();
                        single(&mut out, self.term('b', &bigram), BIGRAM_WEIGHT);
                    }
                }
                Run::Latin(word) => {
                    if EN_STOP_WORDS.contains(&word.as_str()) {
                        continue;
                    }
                    out.extend(self.pinyin_clauses(&word));
                }
            }
        }
        out
    }

    /// Cuts a Latin word into dictionary keys, with the fewest pieces (a piece of full pinyin
    /// or a Latin word before one of initials), the last piece possibly typed in part.
    fn pinyin_clauses(&self, word: &str) -> Vec<Clause> {
        let q = word.as_bytes();
        let m = q.len();
        if m == 0 || m > 100 {
            return Vec::new();
        }
        // best[i]: (cost, start of the last piece, whether that piece is partial).
        let mut best: Vec<Option<(f32, usize, bool)>> = vec![None; m + 1];
        best[0] = Some((0.0, 0, false));
        for i in 0..m {
            let Some((cost, _, _)) = best[i] else {
                continue;
            };
            for j in i + 1..=m.min(i + MAX_KEY) {
                let Some(targets) = self.keys.get(&word[i..j]) else {
                    continue;
                };
                let whole = i == 0 && j == m;
                let mut usable = targets.iter().filter(|&&(_, k)| usable(k, whole));
                let piece = match usable.clone().next() {
                    None => continue,
                    Some(_) if usable.any(|&(_, k)| k != KeyKind::Initials) => 1.0,
                    Some(_) => 1.1,
                };
                let c = cost + piece;
                if best[j].is_none_or(|(bc, _, _)| c < bc) {
                    best[j] = Some((c, i, false));
                }
            }
            if m - i >= 2 && m - i <= MAX_KEY {
                let c = cost + 1.5;
                if best[m].is_none_or(|(bc, _, _)| c < bc)
                    && self
                        .keys_with_prefix(&word[i..])
                        .any(|(_, ts)| ts.iter().any(|&(_, k)| usable(k, i == 0)))
                {
                    best[m] = Some((c, i, true));
                }
            }
        }
        let mut pieces = Vec::new();
        let mut j = m;
        while j > 0 {
            let Some((_, i, partial)) = best[j] else {
                return Vec::new();
            };
            pieces.push((i, j, partial));
            j = i;
        }
        pieces.reverse();
        pieces
            .into_iter()
            .map(|(i, j, partial)| {
                let key = &word[i..j];
                let whole = i == 0 && j == m;
                let mut alternatives: Vec<(u32, f32)> = Vec::new();
                let mut pinyin = false;
                let mut add = |alternatives: &mut Vec<(u32, f32)>, t: u32, kind: KeyKind| {
                    let w = match kind {
                        _ if partial => PARTIAL_WEIGHT,
                        KeyKind::Literal => 1.0,
                        KeyKind::Full => FULL_WEIGHT,
                        KeyKind::Initials => INITIALS_WEIGHT,
                    };
                    if kind != KeyKind::Literal {
                        pinyin = true;
                    }
                    match alternatives.iter_mut().find(|(a, _)| *a == t) {
                        Some(a) => a.1 = a.1.max(w),
                        None => alternatives.push((t, w)),
                    }
                };
                if partial {
                    for (_, targets) in self.keys_with_prefix(key) {
                        for &(t, kind) in targets {
                            if usable(kind, whole) {
                                add(&mut alternatives, t, kind);
                            }
                        }
                        if alternatives.len() >= MAX_ALTERNATIVES {
                            break;
                        }
                    }
                } else if let Some(targets) = self.keys.get(key) {
                    for &(t, kind) in targets {
                        if usable(kind, whole) {
                            add(&mut alternatives, t, kind);
                        }
                    }
                }
                // Like an input method ranking its candidates, the words used more often in the
                // catalog are the likelier reading of an ambiguous piece (zf: 住房 before 租房).
                let most = alternatives
                    .iter()
                    .map(|&(t, _)| self.df[t as usize])
                    .max()
                    .unwrap_or(1)
                    .max(1) as f32;
                for (t, w) in &mut alternatives {
                    *w *= (self.df[*t as usize] as f32 / most).sqrt();
                }
                if alternatives.len() > MAX_ALTERNATIVES {
                    // Keep the most weighty, the commonest first among equals.
                    alternatives.sort_by(|a, b| {
                        b.1.total_cmp(&a.1)
                            .then(self.df[b.0 as usize].cmp(&self.df[a.0 as usize]))
                    });
                    alternatives.truncate(MAX_ALTERNATIVES);
                }
                Clause {
                    alternatives,
                    pinyin,
                }
            })
            .collect()
    }

    fn keys_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Vec<(u32, KeyKind)>)> + 'a {
        self.keys
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |(k, _)| k.starts_with(prefix))
    }

    fn hit(&self, d: usize, score: f32, matched: u16) -> Hit {
        let doc = &self.docs[d];
        let mut fields: Vec<&'static str> = (0..FIELDS)
            .filter(|f| matched & (1 << f) != 0)
            .map(|f| FIELD_NAMES[f])
            .collect();
        if matched & PINYIN_BIT != 0 {
            fields.push("pinyin");
        }
        Hit {
            kind: if doc.bundle { "bundle" } else { "item" },
            code: doc.code.clone(),
            name: doc.name.clone(),
            name_en: doc.name_en.clone(),
            department: doc.department.as_ref().map(|(c, _)| c.clone()),
            department_name: doc.department.as_ref().map(|(_, n)| n.clone()),
            score: (f64::from(score) * 1000.0).round() / 1000.0,
            matched: fields,
        }
    }
}

/// Whether a dictionary key's target may stand for a piece of a query word: a Latin word
/// (English, a number) only for the whole query word, so `drop` is no patchwork of 动人 (dr)
/// and `op`(ening).
fn usable(kind: KeyKind, whole: bool) -> bool {
    whole || kind != KeyKind::Literal
}

/// How a normalized query matches a normalized phrase, character for character.
fn text_class(q: &str, phrase: &str) -> Option<Class> {
    if q == phrase {
        Some(Class::Exact)
    } else if phrase.starts_with(q) {
        Some(Class::Prefix)
    } else if phrase.contains(q) {
        Some(Class::Contains)
    } else {
        None
    }
}

/// How English query words match an English phrase, by whole words (the last may be typed in
/// part).
fn english_class(q: &str, phrase: &str) -> Option<Class> {
    if q.is_empty() {
        return None;
    }
    if q == phrase {
        Some(Class::Exact)
    } else if phrase.starts_with(q) {
        Some(Class::Prefix)
    } else if q.len() >= 3 && phrase.contains(&format!(" {q}")) {
        Some(Class::Contains)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_scripts_and_fold_full_width() {
        assert_eq!(
            runs("办ＧＪＪ 公积金，70岁🙂abc"),
            vec![
                Run::Han("办".into()),
                Run::Latin("gjj".into()),
                Run::Han("公积金".into()),
                Run::Latin("70".into()),
                Run::Han("岁".into()),
                Run::Latin("abc".into()),
            ]
        );
        assert_eq!(normalize(" 企业开办“1+X”一件事 "), "企业开办1x一件事");
        assert_eq!(
            normalize_words("Marriage  registration (online)"),
            "marriage registration online"
        );
    }

    fn seq(r: &mut Readings, s: &str) -> Vec<u32> {
        r.sequence(&normalize(s))
    }

    #[test]
    fn pinyin_matches_full_initials_mixed_and_polyphones() {
        let mut r = Readings::default();
        let gjj = seq(&mut r, "公积金");
        let tq = seq(&mut r, "住房公积金提取");
        let bank = seq(&mut r, "银行开户");
        let m = |q: &str, s: &[u32], r: &Readings| pinyin_match(q.as_bytes(), s, &r.sets);
        assert_eq!(m("gongjijin", &gjj, &r), Some(Class::Exact));
        assert_eq!(m("gjj", &gjj, &r), Some(Class::Exact));
        assert_eq!(m("gongjj", &gjj, &r), Some(Class::Exact));
        assert_eq!(m("gongji", &gjj, &r), Some(Class::Prefix));
        assert_eq!(m("zhufanggongjijintiqu", &tq, &r), Some(Class::Exact));
        assert_eq!(m("zfgjjtq", &tq, &r), Some(Class::Exact));
        assert_eq!(m("gjj", &tq, &r), Some(Class::Contains));
        assert_eq!(m("gongjijin", &tq, &r), Some(Class::Contains));
        assert_eq!(m("yinhang", &bank, &r), Some(Class::Prefix));
        assert_eq!(m("yinxing", &bank, &r), Some(Class::Prefix));
        assert_eq!(m("xyz", &gjj, &r), None);
        assert_eq!(m("", &gjj, &r), None);
        let long = "a".repeat(200);
        assert_eq!(m(&long, &gjj, &r), None);
    }

    #[test]
    fn word_keys_have_full_and_initials() {
        let mut r = Readings::default();
        let s = seq(&mut r, "公积金");
        let keys = word_keys(&s, &r.sets);
        assert!(keys.contains(&("gongjijin".to_string(), KeyKind::Full)));
        assert!(keys.contains(&("gjj".to_string(), KeyKind::Initials)));
        let s = seq(&mut r, "房");
        let keys = word_keys(&s, &r.sets);
        assert!(keys.contains(&("fang".to_string(), KeyKind::Full)));
        assert!(!keys.iter().any(|(_, k)| *k == KeyKind::Initials));
    }
}
