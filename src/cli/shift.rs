//! `faceemo shift`: the domain-shift report of a release (and of two selections), as text,
//! JSON or CSV tables.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use faceemo_jobs::{CancelToken, JobContext};
use faceemo_shift::{
    RowLookup, ShiftData, ShiftReport, ShiftSettings, compare_selections, shift_report,
};

use super::progress::TerminalProgress;
use super::release_args::ReleaseArgs;
use faceemo::output::{write_atomically, write_csv_atomically};

/// Arguments of `faceemo shift`.
#[derive(Debug, clap::Args)]
pub struct ShiftArgs {
    #[command(flatten)]
    release: ReleaseArgs,
    /// Seed of every sample and permutation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Most rows per dataset (or selection) for MMD, the domain classifier, the neighbourhood
    /// shares and the silhouettes.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    sample: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the tables as CSV files and the report as report.json into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A selection file as the window exports it (`split,row,…`): compared against --b.
    #[arg(long, value_name = "SEL.csv", requires = "b")]
    a: Option<PathBuf>,
    /// The second selection file.
    #[arg(long, value_name = "SEL.csv", requires = "a")]
    b: Option<PathBuf>,
}

/// Runs `faceemo shift`.
pub fn run(args: &ShiftArgs) -> anyhow::Result<ExitCode> {
    let release = args.release.load(args.json)?;
    let data = ShiftData::from_release(&release)?;
    let settings = ShiftSettings {
        seed: args.seed,
        sample: usize::try_from(args.sample).unwrap_or(usize::MAX),
        ..ShiftSettings::default()
    };
    // Selections are read before the long work, so a bad file fails at once.
    let selections = match (&args.a, &args.b) {
        (Some(a), Some(b)) => {
            let lookup = RowLookup::new(&data);
            Some((lookup.read_selection(a)?, lookup.read_selection(b)?))
        }
        _ => None,
    };
    let progress = TerminalProgress::count(args.json);
    let cancel = CancelToken::new();
    let job = JobContext::new(&progress, &cancel);
    let mut report = shift_report(&data, &settings, job)?;
    if let Some((a, b)) = &selections {
        let (comparison, sampling) = compare_selections(&data, a, b, &settings, job)?;
        report.comparison = Some(comparison);
        report.sampling.extend(sampling);
    }
    progress.finish();
    if release.is_synthetic() {
        report
            .notes
            .insert(0, faceemo_data::SYNTHETIC_NOTICE.to_owned());
    }
    if let Some(folder) = &args.out {
        write_tables(folder, &report)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
        if let Some(folder) = &args.out {
            println!("wrote the tables and report.json to {}", folder.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_tables(folder: &Path, report: &ShiftReport) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create the output folder {folder:?}"))?;
    for table in report.tables() {
        let path = folder.join(format!("{}.csv", table.name));
        write_csv_atomically(&path, &table.header, &table.rows)?;
    }
    write_atomically(&folder.join("report.json"), |out| {
        serde_json::to_writer_pretty(&mut *out, report)?;
        writeln!(out)?;
        Ok(())
    })
}

fn figure(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.4}"))
}

fn print_text(report: &ShiftReport) {
    for note in &report.notes {
        println!("note: {note}");
    }
    println!("\nPer dataset (all splits)      rows  accuracy  macro-F1       ECE");
    for (dataset, m) in &report.per_dataset {
        println!(
            "  {dataset:<24} {:>8} {:>9} {:>9} {:>9}",
            m.rows,
            figure(m.accuracy),
            figure(m.macro_f1),
            figure(m.ece)
        );
    }
    println!("\nPer split × dataset");
    for (split, by) in &report.per_split {
        for (dataset, m) in by {
            println!(
                "  {:<30} {:>8} {:>9} {:>9} {:>9}",
                format!("{split} / {dataset}"),
                m.rows,
                figure(m.accuracy),
                figure(m.macro_f1),
                figure(m.ece)
            );
        }
    }
    println!("\nBetween datasets     centroid cos  Fréchet      MMD²   p  domain AUC");
    for (a, by) in &report.pairwise {
        for (b, m) in by.iter().filter(|(b, _)| a < *b) {
            println!(
                "  {:<28} {:>9.4} {:>9} {:>9} {:>6} {:>9}",
                format!("{a} – {b}"),
                m.centroid_cosine,
                figure(m.frechet),
                figure(m.mmd2),
                m.mmd_p
                    .map_or_else(|| "—".to_owned(), |p| format!("{p:.3}")),
                figure(m.domain_auc)
            );
        }
    }
    println!("\nLinear probe: trained on (train split) → tested on (rows outside it)");
    for (a, by) in &report.probe {
        let cells: Vec<String> = by.iter().map(|(b, acc)| format!("{b} {acc:.4}")).collect();
        println!("  {a:<20} {}", cells.join("  "));
    }
    println!("\nNeighbourhood (10 nearest, cosine)   same emotion  same dataset");
    for (dataset, share) in &report.neighbourhood {
        println!(
            "  {dataset:<34} {:>12} {:>13}",
            figure(share.same_emotion),
            figure(share.same_dataset)
        );
    }
    println!(
        "\nSilhouette (cosine): by dataset {}, by emotion {}",
        figure(report.silhouette.by_dataset),
        figure(report.silhouette.by_emotion)
    );
    if let Some(c) = &report.comparison {
        println!(
            "\nSelection A ({} rows, accuracy {}) vs B ({} rows, accuracy {}): centroid cos {:.4}, \
             Fréchet {}, MMD² {} (p {}), domain AUC {}",
            c.a.rows,
            figure(c.a.accuracy),
            c.b.rows,
            figure(c.b.accuracy),
            c.pair.centroid_cosine,
            figure(c.pair.frechet),
            figure(c.pair.mmd2),
            figure(c.pair.mmd_p),
            figure(c.pair.domain_auc)
        );
    }
    let sampled: Vec<String> = report
        .sampling
        .iter()
        .filter(|s| s.rows < s.of)
        .map(|s| format!("{} {} of {} (seed {})", s.group, s.rows, s.of, s.seed))
        .collect();
    if !sampled.is_empty() {
        println!("sampled: {}", sampled.join(", "));
    }
    println!("{:.2} s", report.seconds);
}
