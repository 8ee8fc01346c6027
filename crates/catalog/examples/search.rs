//! Measures the search index and tries queries:
//! `cargo run --release -p catalog --example search -- catalog/ 孩子出生 gjj`.
//!
//! Prints the time to load the segmenter's dictionary, to build the index of the folder's
//! catalog and of the generated 5,000-item catalog (`catalog::synthetic(5000)`), the time per
//! query, and the top results of each query given.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use catalog::{Catalog, SearchIndex};

/// The fastest of `runs` builds, so a cold cache or a busy neighbour does not count.
fn build_time(c: &Catalog, runs: usize) -> (SearchIndex, Duration) {
    let mut best = Duration::MAX;
    let mut index = None;
    for _ in 0..runs {
        let t = Instant::now();
        let i = SearchIndex::build(c);
        best = best.min(t.elapsed());
        index = Some(i);
    }
    (index.expect("at least one run"), best)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: search DIR [QUERY…]");
        return ExitCode::from(2);
    };
    let queries: Vec<String> = args.collect();
    let c = match Catalog::load_dir(&dir) {
        Ok(c) => c,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            return ExitCode::FAILURE;
        }
    };

    let t = Instant::now();
    catalog::search::warm_up();
    println!("segmenter dictionary loaded in {:?}", t.elapsed());

    let (index, took) = build_time(&c, 5);
    println!(
        "{}: {} items + {} bundles indexed in {took:?} ({index:?})",
        dir.display(),
        c.items().len(),
        c.bundles().len()
    );

    let t = Instant::now();
    let big = Catalog::load_files(catalog::synthetic(5000)).expect("the synthetic catalog loads");
    let load = t.elapsed();
    let (big_index, took) = build_time(&big, 3);
    println!(
        "synthetic(5000): {} items + {} bundles loaded in {load:?}, indexed in {took:?}",
        big.items().len(),
        big.bundles().len()
    );

    let sample = [
        "孩子出生",
        "提取公积金",
        "gjj",
        "zhufanggongjijintiqu",
        "第4321号事项",
    ];
    for (name, idx) in [("catalog", &index), ("synthetic", &big_index)] {
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..20 {
            for q in sample {
                n += idx.search(q, 10).len();
            }
        }
        let per = t.elapsed() / (20 * sample.len() as u32);
        println!("{name}: {per:?} per query ({n} results)");
    }

    for q in &queries {
        let t = Instant::now();
        let hits = index.search(q, 5);
        println!("== {q} ({:?})", t.elapsed());
        for h in hits {
            println!(
                "  {:>8.2} {:<6} {:<20} {} {:?}",
                h.score, h.kind, h.code, h.name, h.matched
            );
        }
    }
    ExitCode::SUCCESS
}
