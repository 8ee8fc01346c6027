//! Search: the relevance table against the demo catalog, and the rules of the index on the
//! small fixture catalog (segmentation, pinyin, ranking, bundles, hostile input), and the
//! service keeping the index in step with the live catalog.

use std::path::Path;
use std::time::{Duration, Instant};

use catalog::{Catalog, CatalogService, Hit, SearchIndex};

fn fixture_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/good"))
}

fn demo_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"))
}

/// Items and a bundle added to the fixture for ranking tests.
const EXTRA: &str = r#"
items:
  - code: 410100-MZ-0101
    name: 残疾人辅助器具适配
    department: 410100-MZ
    kind: 公共服务
    applicant: person
    form: {pages: [{title: 申请人, fields: [{element: person.name}]}]}
    online_depth: 4
    visits: 0
  - code: 410100-MZ-0102
    name: 困难家庭临时救助
    keywords: [辅助器具适配补贴]
    department: 410100-MZ
    kind: 行政给付
    applicant: person
    form: {pages: [{title: 申请人, fields: [{element: person.name}]}]}
    online_depth: 4
    visits: 0
  - code: 410100-MZ-0103
    name: 养老服务补贴申领
    keywords: [养老]
    department: 410100-MZ
    kind: 行政给付
    applicant: person
    form: {pages: [{title: 申请人, fields: [{element: person.name}]}]}
    online_depth: 4
    visits: 0
  - code: 410100-MZ-0104
    name: 老年人优待证办理
    keywords: [养老]
    department: 410100-MZ
    kind: 公共服务
    applicant: person
    form: {pages: [{title: 申请人, fields: [{element: person.name}]}]}
    online_depth: 4
    visits: 0
  - code: 410100-GA-0101
    name: 住房公积金提取
    aliases: [提取公积金]
    keywords: [公积金]
    department: 410100-GA
    kind: 行政给付
    applicant: person
    form: {pages: [{title: 申请人, fields: [{element: person.name}]}]}
    online_depth: 4
    visits: 0
bundles:
  - code: elderly_care
    name: 养老服务补贴申领
    keywords: [养老]
    items:
      - item: 410100-MZ-0103
      - item: 410100-MZ-0104
"#;

fn fixture() -> Catalog {
    let mut files = Catalog::load_dir(fixture_dir())
        .expect("the good fixture loads")
        .files()
        .to_vec();
    files.push(("items/search.yaml".to_string(), EXTRA.to_string()));
    Catalog::load_files(files).expect("the fixture with the search items loads")
}

fn index() -> SearchIndex {
    SearchIndex::build(&fixture())
}

fn codes(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.code.as_str()).collect()
}

fn top(index: &SearchIndex, q: &str) -> String {
    index
        .search(q, 10)
        .first()
        .map(|h| h.code.clone())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The relevance table

struct Row {
    line: usize,
    query: String,
    kind: String,
    code: String,
}

fn relevance_table() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/relevance.tsv");
    let text = std::fs::read_to_string(path).expect("tests/relevance.tsv");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(
                cols.len() >= 3,
                "relevance.tsv:{}: want query, kind, code separated by tabs",
                i + 1
            );
            Row {
                line: i + 1,
                query: cols[0].to_string(),
                kind: cols[1].trim().to_string(),
                code: cols[2].trim().to_string(),
            }
        })
        .collect()
}

#[test]
fn relevance_table_top_results() {
    let c = Catalog::load_dir(demo_dir()).expect("the demo catalog loads");
    let index = SearchIndex::build(&c);
    let rows = relevance_table();
    assert!(
        rows.len() >= 30,
        "the table has {} queries, want at least 30",
        rows.len()
    );
    let mut misses = Vec::new();
    for row in &rows {
        let known = match row.kind.as_str() {
            "item" => c.item(&row.code).is_some(),
            "bundle" => c.bundle(&row.code).is_some(),
            _ => false,
        };
        if !known {
            misses.push(format!(
                "relevance.tsv:{}: {:?}: the catalog has no {} {:?}",
                row.line, row.query, row.kind, row.code
            ));
            continue;
        }
        let hits = index.search(&row.query, 10);
        let ok = hits
            .first()
            .is_some_and(|h| h.kind == row.kind && h.code == row.code);
        if !ok {
            let got: Vec<String> = hits
                .iter()
                .take(3)
                .map(|h| format!("{} {} {} ({})", h.kind, h.code, h.name, h.score))
                .collect();
            let rank = hits
                .iter()
                .position(|h| h.code == row.code)
                .map_or("not in the top 10".to_string(), |p| format!("at {}", p + 1));
            misses.push(format!(
                "relevance.tsv:{}: {:?}: want {} {} on top, it is {rank}; got {got:?}",
                row.line, row.query, row.kind, row.code
            ));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} queries miss:\n{}",
        misses.len(),
        rows.len(),
        misses.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Segmentation and pinyin

#[test]
fn chinese_words_and_parts_of_words_match() {
    let index = index();
    assert_eq!(top(&index, "结婚"), "410100-MZ-0001");
    assert_eq!(top(&index, "领结婚证"), "410100-MZ-0001");
    // A part of a word, through character bigrams: 婚登 is no word of 结婚登记.
    assert_eq!(top(&index, "婚登"), "410100-MZ-0001");
    assert_eq!(top(&index, "出生户口"), "410100-GA-0003");
    // Full-width letters, spaces and punctuation do not matter.
    assert_eq!(top(&index, "  结婚，登记！ "), "410100-MZ-0001");
}

#[test]
fn pinyin_full_initials_and_mixed_match() {
    let index = index();
    for q in [
        "gongjijin",
        "gjj",
        "GJJ",
        "ＧＪＪ",
        "zhufanggongjijintiqu",
        "zfgjjtq",
        "tiqugongjijin",
        "gongjijintiq",
        "公积金tiqu",
        "zhufang gongjijin",
    ] {
        assert_eq!(top(&index, q), "410100-GA-0101", "{q}");
    }
    assert_eq!(top(&index, "jiehun"), "410100-MZ-0001");
    assert_eq!(top(&index, "jhdj"), "410100-MZ-0001");
    let hit = &index.search("gjj", 1)[0];
    assert!(hit.matched.contains(&"pinyin"), "{:?}", hit.matched);
    assert!(hit.matched.contains(&"keywords"), "{:?}", hit.matched);
    let hit = &index.search("公积金", 1)[0];
    assert!(!hit.matched.contains(&"pinyin"), "{:?}", hit.matched);
}

#[test]
fn english_names_match() {
    let index = index();
    assert_eq!(top(&index, "marriage registration"), "410100-MZ-0001");
    assert_eq!(top(&index, "Marriage"), "410100-MZ-0001");
    assert_eq!(top(&index, "vaccination"), "410105001001-0001");
}

// ---------------------------------------------------------------------------------------------
// Ranking

#[test]
fn name_beats_keyword() {
    let index = index();
    let hits = index.search("辅助器具", 10);
    assert_eq!(
        &codes(&hits)[..2],
        ["410100-MZ-0101", "410100-MZ-0102"],
        "{hits:#?}"
    );
    assert!(hits[0].matched.contains(&"name"));
    assert!(hits[1].matched.contains(&"keywords"));
    assert!(!hits[1].matched.contains(&"name"));
}

#[test]
fn exact_name_or_alias_beats_partial() {
    let index = index();
    // 出生医学证明首次签发 contains 出生 too, but 出生户口登记 is the whole query.
    assert_eq!(top(&index, "出生户口登记"), "410100-GA-0003");
    assert_eq!(top(&index, "登记结婚"), "410100-MZ-0001");
}

#[test]
fn a_bundle_goes_first_when_it_ties_with_its_item() {
    let index = index();
    // The bundle and its item have the same name and keyword: the bundle first.
    let hits = index.search("养老服务补贴申领", 10);
    assert_eq!(
        &codes(&hits)[..2],
        ["elderly_care", "410100-MZ-0103"],
        "{hits:#?}"
    );
    assert_eq!(hits[0].kind, "bundle");
    assert_eq!(hits[0].department, None);
    assert_eq!(hits[1].kind, "item");
    assert_eq!(hits[1].department.as_deref(), Some("410100-MZ"));
    assert_eq!(hits[1].department_name.as_deref(), Some("郑州市民政局"));
    // Both items have the keyword 养老, as the bundle does: it is what they share.
    assert_eq!(top(&index, "养老"), "elderly_care");
    // The fixture's newborn bundle has 孩子出生 as a keyword and 出生 in its name.
    assert_eq!(top(&index, "孩子出生"), "newborn");
}

#[test]
fn a_bundle_does_not_go_above_an_item_that_matches_better() {
    let index = index();
    let hits = index.search("老年人优待证办理", 10);
    assert_eq!(hits[0].code, "410100-MZ-0104", "{hits:#?}");
}

#[test]
fn results_are_ordered_limited_and_deterministic() {
    let again = index();
    let index = index();
    for q in ["出生", "chusheng", "登记", "gjj", "补贴"] {
        let hits = index.search(q, 10);
        assert!(!hits.is_empty(), "{q}");
        assert!(
            hits.windows(2).all(|w| w[0].score >= w[1].score),
            "{q}: {hits:#?}"
        );
        assert_eq!(hits, again.search(q, 10), "{q}");
        assert_eq!(index.search(q, 1).len(), 1);
        assert_eq!(index.search(q, 1)[0], hits[0]);
        assert!(index.search(q, 0).is_empty());
    }
}

#[test]
fn no_hits_is_an_empty_list() {
    let index = index();
    for q in [
        "",
        "   ",
        "\t\n",
        "？？！",
        "…",
        "🙂🙂",
        "区块链",
        "qwrtpsdfgh",
        "xyzzy",
        "9999999",
    ] {
        assert_eq!(index.search(q, 10), Vec::<Hit>::new(), "{q:?}");
    }
}

#[test]
fn hostile_input_never_panics() {
    let index = index();
    let long_han = "出生".repeat(50_000);
    let long_latin = "gongjijin".repeat(10_000);
    let long_mixed = "办gjj🙂 DROP TABLE;\u{0}".repeat(5_000);
    let initials = "gjjzfgjjtqcjrz".repeat(10);
    let inputs: Vec<&str> = vec![
        &long_han,
        &long_latin,
        &long_mixed,
        &initials,
        "'; DROP TABLE items; --",
        "1 OR 1=1",
        "<script>alert(1)</script>",
        "%00%27%22",
        "\u{0}\u{1}\u{7f}",
        "\u{202e}公积金\u{202c}",
        "公\u{200d}积\u{200b}金",
        "e\u{301}\u{301}\u{301}",
        "Привет世界gjj",
        "こんにちは公積金",
        "𠀀𠀁𪚥",
        "😀👨‍👩‍👧‍👦🇨🇳",
        "ａｂｃ１２３",
        "zh",
        "z",
        "a",
        "v",
        "ü",
        "0",
        "-",
        "zhzhzhzhzhzhzhzhzhzhzhzhzhzhzhzhzhzhzh",
    ];
    for q in inputs {
        let t = Instant::now();
        let hits = index.search(q, 50);
        assert!(hits.len() <= 50);
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{:?}… took {:?}",
            q.chars().take(20).collect::<String>(),
            t.elapsed()
        );
        for h in &hits {
            assert!(h.score.is_finite() && h.score > 0.0, "{h:?}");
            assert!(h.kind == "item" || h.kind == "bundle");
        }
    }
    // Queries are cut to their first characters, so a long repetition still finds.
    assert!(!index.search(&long_han, 5).is_empty());
    assert!(!index.search(&long_latin, 5).is_empty() || long_latin.len() > 100);
}

#[test]
fn an_empty_catalog_finds_nothing() {
    let c = Catalog::load_files(Vec::new()).expect("an empty catalog loads");
    let index = SearchIndex::build(&c);
    assert!(index.is_empty());
    assert!(index.search("公积金", 10).is_empty());
    assert!(index.search("gjj", 10).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Building

#[test]
fn building_the_synthetic_5000_item_catalog_is_fast() {
    let c = Catalog::load_files(catalog::synthetic(5000)).expect("the synthetic catalog loads");
    catalog::search::warm_up();
    let t = Instant::now();
    let index = SearchIndex::build(&c);
    let took = t.elapsed();
    eprintln!(
        "synthetic(5000): {} documents indexed in {took:?} ({index:?})",
        index.len()
    );
    assert_eq!(index.len(), c.items().len() + c.bundles().len());
    assert_eq!(index.digest(), c.digest());
    // Generous for a debug build on a busy machine; a release build takes about a tenth.
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(top(&index, "第4321号事项"), "410100-B021-0087");
}

// ---------------------------------------------------------------------------------------------
// The service

#[tokio::test]
async fn the_service_swaps_the_index_with_the_catalog() {
    let (db, _) = kernel::scratch::fresh(kernel::Engine::Sqlite)
        .await
        .expect("scratch database");
    db.migrate(&[&catalog::MIGRATIONS]).await.expect("migrate");
    let service = CatalogService::open(db, fixture_dir())
        .await
        .expect("the service opens");

    let snap = service.snapshot();
    assert_eq!(snap.index.digest(), snap.catalog.digest());
    assert_eq!(service.current_index().digest(), service.current().digest());
    assert!(service.current_index().search("gjj", 10).is_empty());
    let before = service.current_index();

    service
        .publish_added(
            vec![("items/search.yaml".to_string(), EXTRA.to_string())],
            "test",
        )
        .await
        .expect("published");
    let snap = service.snapshot();
    assert_eq!(snap.index.digest(), snap.catalog.digest());
    assert_eq!(
        snap.index.len(),
        snap.catalog.items().len() + snap.catalog.bundles().len()
    );
    assert_eq!(top(&service.current_index(), "gjj"), "410100-GA-0101");
    // A reader holding the earlier index keeps it whole.
    assert!(before.search("gjj", 10).is_empty());
    assert_eq!(
        before.digest(),
        Catalog::load_dir(fixture_dir()).unwrap().digest()
    );
}
