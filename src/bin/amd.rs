//! `amd`: the detector on audio files, for operators tuning it and for scoring it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use mod_rust_amd::analyzer::analyze::{analyze_stream, Outcome};
use mod_rust_amd::analyzer::eval::{mistake, read_labels, render, report, summary_row, Scored, SUMMARY_HEADER};
use mod_rust_amd::module::config::{load_beep_model, load_model, ModuleConfig};
use mod_rust_amd::settings_from_xml;
use mod_rust_amd::tools::{bench, plot, train, train_beep, tune};
use mod_rust_amd::analyzer::wav::WavStream;
use mod_rust_amd::detector::Models;
use mod_rust_amd::Params;

#[derive(Parser)]
#[command(name = "amd", version, about = "Answering machine detection on WAV files (mod_rust_amd's detector)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the decision for each WAV file (files or folders of .wav).
    Analyze {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object per line instead of plain text.
        #[arg(long)]
        json: bool,
        /// The channel of a stereo (or wider) recording to analyze, from 0: a FreeSWITCH
        /// recording of both directions has the far end's on one channel.
        #[arg(long, default_value_t = 0)]
        channel: u16,
        #[command(flatten)]
        settings: Settings,
    },
    /// Score the detector on DIR/labels.csv (the corpus format). With several folders (e.g. draws
    /// of several seeds): one summary row per folder, then the figures over all of them.
    Eval {
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// The figures as one JSON object (with several folders: `folders` and `total`).
        #[arg(long)]
        json: bool,
        /// Also list every call whose status is not the expected one, and every beep missed.
        #[arg(long)]
        errors: bool,
        #[command(flatten)]
        settings: Settings,
    },
    /// Learn the decision model from labelled folders (the corpus format) and write it as JSON;
    /// prints its figures on the calls it held back, against the rules'.
    Train {
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// The model file to write.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Percent of the voices held back for the final figures (0 to 50).
        #[arg(long, value_name = "PERCENT", default_value_t = train::DEFAULT_HOLDOUT_PERCENT)]
        holdout: u32,
        /// Which voices are held back: the same seed and data give the same model.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Trees in the ensemble.
        #[arg(long, default_value_t = train::BoostSettings::default().trees)]
        trees: usize,
        /// Depth of each tree.
        #[arg(long, default_value_t = train::BoostSettings::default().depth)]
        depth: usize,
        /// Also write every point of every call's timeline as CSV.
        #[arg(long, value_name = "CSV")]
        dump_features: Option<PathBuf>,
        /// Choose the policy (the threshold) on these labelled folders' calls rather than on a
        /// share of the training folders' voices: more calls, a steadier choice.
        #[arg(long, value_name = "DIR", num_args = 1..)]
        policy_on: Vec<PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Learn the beep model (is a tone the beep that ends a greeting?) from labelled folders (the
    /// corpus format, with beep_ms) and write it as JSON; prints its figures on the training
    /// calls and on the calls that chose its thresholds.
    TrainBeep {
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// The model file to write.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Choose the thresholds on these labelled folders' calls (not the training ones).
        #[arg(long, value_name = "DIR", num_args = 1.., required = true)]
        policy_on: Vec<PathBuf>,
        /// Trees in the ensemble.
        #[arg(long, default_value_t = train_beep::DEFAULT_TREES)]
        trees: usize,
        /// Depth of each tree.
        #[arg(long, default_value_t = train_beep::DEFAULT_DEPTH)]
        depth: usize,
        /// Also write every tone judged on the policy calls, with its features and probability, as CSV.
        #[arg(long, value_name = "CSV")]
        dump_candidates: Option<PathBuf>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Measure the detector's cost per 20 ms frame at 8, 16 and 48 kHz over whole calls, one thread.
    Bench {
        /// A folder of WAV calls (default: the project's tests/data).
        dir: Option<PathBuf>,
        /// Timing runs per rate (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Draw what the detector saw in one call: level against silent_threshold, talk, decision.
    Plot {
        file: PathBuf,
        /// The image to write: .svg or .png.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// The channel of a stereo (or wider) recording to draw, from 0.
        #[arg(long, default_value_t = 0)]
        channel: u16,
        /// Draw from this ms of the call (default: its start).
        #[arg(long, value_name = "MS")]
        from: Option<u64>,
        /// Draw to this ms of the call (default: the end of a recording up to 20 s, else 3 s after
        /// the detector's last event).
        #[arg(long, value_name = "MS")]
        to: Option<u64>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Search the parameters on DIR/labels.csv: fewest humans called machine, then fewest
    /// machines called human, then the shortest decisions; writes the amd.conf.xml found (the
    /// start, and exits 1, where the found settings do worse on the calls held out).
    Tune {
        dir: PathBuf,
        /// The amd.conf.xml to write.
        #[arg(short, long, value_name = "OUT")]
        output: PathBuf,
        /// Passes over all parameters at most.
        #[arg(long, default_value_t = tune::DEFAULT_PASSES)]
        passes: usize,
        /// Percent of each kind of call kept out of the search and used to check its result
        /// (0 to 50; 0 searches on all of them).
        #[arg(long, value_name = "PERCENT", default_value_t = tune::DEFAULT_HOLDOUT_PERCENT)]
        holdout: u32,
        /// Tune on fewer than 20 labelled calls of a kind (person, machine) all the same.
        #[arg(long)]
        force: bool,
        /// The starting point (and max_channels, kept as it is).
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Args)]
struct Settings {
    /// An amd.conf.xml to read the parameters from.
    #[arg(long, value_name = "FILE")]
    conf: Option<PathBuf>,
    /// Override a parameter, as in voice_start's data (repeatable; `k=v,k=v` also works).
    #[arg(long = "set", value_name = "K=V")]
    set: Vec<String>,
    /// Decide with this model (a file `amd train` wrote) instead of the built-in one, as
    /// amd.conf.xml's decision_model does.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Judge beeps with this model (a file `amd train-beep` wrote) instead of the built-in one,
    /// as amd.conf.xml's beep_model does.
    #[arg(long, value_name = "FILE")]
    beep_model: Option<PathBuf>,
}

/// What --conf and --set came to, and whether all of it was taken: a bad entry is reported and
/// skipped, as in the module, and the run goes on but its exit code says so.
struct Configured {
    config: ModuleConfig,
    clean: bool,
}

impl Settings {
    fn config(&self) -> Result<Configured, String> {
        let mut config = ModuleConfig::default();
        let mut clean = true;
        if let Some(path) = &self.conf {
            let xml = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let settings = settings_from_xml(&xml).map_err(|e| format!("{}: {e}", path.display()))?;
            let (read, problems) = ModuleConfig::from_settings(&settings);
            for problem in &problems {
                eprintln!("amd: {}: {problem}", path.display());
            }
            clean &= problems.is_empty();
            config = read;
        }
        for data in &self.set {
            for e in config.params.apply_configuration_pairs(data) {
                eprintln!("amd: --set: {e}");
                clean = false;
            }
        }
        if let Some(path) = &self.model {
            let model = load_model(&path.display().to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
            config.model = Arc::new(model);
            config.model_file = Some(path.display().to_string());
        }
        if let Some(path) = &self.beep_model {
            let model = load_beep_model(&path.display().to_string()).map_err(|e| format!("{}: {e}", path.display()))?;
            config.beep_model = Arc::new(model);
            config.beep_model_file = Some(path.display().to_string());
        }
        Ok(Configured { config, clean })
    }
}

fn main() -> ExitCode {
    // A reader that goes away (`amd analyze DIR | head`) ends the run quietly, as other
    // command-line tools do, instead of a panic on the broken pipe.
    // SAFETY: restoring the default disposition of a signal before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // Ok(false): the run went on past a problem it reported (a file it could not read, a bad
    // setting), and exits 1.
    let result = match cli.command {
        Command::Analyze { paths, json, channel, settings } => {
            settings.config().map(|c| run_analyze(&paths, json, channel, &c.config) && c.clean)
        }
        Command::Eval { dirs, json, errors, settings } => {
            settings.config().and_then(|c| Ok(run_eval(&dirs, json, errors, &c.config)? && c.clean))
        }
        Command::Plot { file, output, channel, from, to, settings } => settings.config().and_then(|c| {
            println!("{}", plot::run(&file, channel, &output, &c.config.params, &c.config.models(), (from, to))?);
            Ok(c.clean)
        }),
        Command::Tune { dir, output, passes, holdout, force, settings } => settings.config().and_then(|c| {
            let outcome = tune::run(&dir, &c.config, &output, passes, holdout, force)?;
            outcome.lines.iter().for_each(|l| println!("{l}"));
            println!("wrote {}", output.display());
            // Kept the start: the search gave nothing to use, which a script must be able to see.
            Ok(c.clean && !outcome.kept_start)
        }),
        Command::Train { dirs, output, holdout, seed, trees, depth, dump_features, policy_on, settings } => settings.config().and_then(|c| {
            let boost = train::BoostSettings { trees, depth, ..train::BoostSettings::default() };
            let options = train::Options { holdout_percent: holdout, seed, boost, dump: dump_features, policy_on };
            train::run(&dirs, &c.config.params, &options, &output)?.iter().for_each(|l| println!("{l}"));
            println!("wrote {}", output.display());
            Ok(c.clean)
        }),
        Command::TrainBeep { dirs, output, policy_on, trees, depth, dump_candidates, settings } => settings.config().and_then(|c| {
            let defaults = train_beep::Options::default();
            let options = train_beep::Options { boost: train::BoostSettings { trees, depth, ..defaults.boost }, policy_on, dump: dump_candidates };
            train_beep::run(&dirs, &c.config.params, &options, &output)?.iter().for_each(|l| println!("{l}"));
            println!("wrote {}", output.display());
            Ok(c.clean)
        }),
        Command::Bench { dir, runs } => bench::run(dir.as_deref(), runs, &mut |line| println!("{line}")).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("amd: {e}");
            ExitCode::from(2)
        }
    }
}

/// The .wav files named, with each folder's own .wav files listed (sorted; sub-folders are not
/// searched). A folder with none is an error: a typo in a path must not pass for a clean run.
fn wav_files(paths: &[PathBuf]) -> (Vec<PathBuf>, bool) {
    let mut files = Vec::new();
    let mut ok = true;
    for path in paths {
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
                        .collect();
                    found.sort();
                    if found.is_empty() {
                        eprintln!("amd: {}: no .wav files in this folder", path.display());
                        ok = false;
                    }
                    files.extend(found);
                }
                Err(e) => {
                    eprintln!("amd: {}: {e}", path.display());
                    ok = false;
                }
            }
        } else {
            files.push(path.clone());
        }
    }
    (files, ok)
}

/// Reads the file as it goes (a long recording only as far as the detector needs it).
fn analyze_file(path: &Path, channel: u16, params: &Params, models: &Models) -> Result<Outcome, String> {
    let mut stream = WavStream::open(path, channel).map_err(|e| e.to_string())?;
    analyze_stream(&mut stream, params, models)
}

fn run_analyze(paths: &[PathBuf], json: bool, channel: u16, config: &ModuleConfig) -> bool {
    let (files, mut ok) = wav_files(paths);
    for file in files {
        match analyze_file(&file, channel, &config.params, &config.models()) {
            Ok(outcome) => println!("{}", describe(&file, &outcome, json)),
            Err(e) => {
                eprintln!("amd: {}: {e}", file.display());
                ok = false;
            }
        }
    }
    ok
}

fn describe(file: &Path, outcome: &Outcome, json: bool) -> String {
    let (status, result, at) = match outcome.decision {
        Some(d) => (d.status.as_str(), d.cause.as_str(), Some(d.at_ms)),
        None => ("none", "no-decision", None),
    };
    let message_end = outcome.message_end.map(|m| m.kind.as_str());
    let message_end_ms = outcome.message_end.map(|m| m.at_ms);
    let beep_ms = outcome.message_end.and_then(|m| m.beep).map(|b| b.start_ms);
    if json {
        serde_json::json!({
            "file": file.display().to_string(),
            "status": status,
            "result": result,
            "decision_ms": at,
            "message_end": message_end,
            "message_end_ms": message_end_ms,
            "beep_ms": beep_ms,
            "beep_end_ms": outcome.beep_end_ms,
            "answered_by": outcome.answered_by,
            "confidence": outcome.confidence,
            "late_status": outcome.late.map(|_| "machine"),
            "late_result": outcome.late.map(|l| l.kind.as_str()),
            "late_ms": outcome.late.map(|l| l.at_ms),
            "amd_cause": outcome.app_amd_cause,
            "sit": outcome.sit,
            "duration_ms": outcome.duration_ms,
        })
        .to_string()
    } else {
        let at = at.map_or("-".to_string(), |a| a.to_string());
        let mut line = format!("{}\t{status}\t{result}\t{at}\tanswered_by={}", file.display(), outcome.answered_by);
        if let (Some(kind), Some(ms)) = (message_end, message_end_ms) {
            line.push_str(&format!("\tmessage_end={kind}@{ms}"));
        }
        if let Some(code) = outcome.sit {
            line.push_str(&format!("\tsit={code}"));
        }
        if let Some(cause) = &outcome.app_amd_cause {
            line.push_str(&format!("\tamd_cause={cause}"));
        }
        line
    }
}

fn run_eval(dirs: &[PathBuf], json: bool, errors: bool, config: &ModuleConfig) -> Result<bool, String> {
    // The end of the greeting is looked for only after the decision, so turning it on for the
    // beep figures leaves every decision as it is.
    let params = &Params { detect_message_end: true, ..config.params.clone() };
    let models = config.models();
    let mut folders = Vec::with_capacity(dirs.len());
    for dir in dirs {
        folders.push((dir, read_labels(&dir.join("labels.csv"))?));
    }
    let total: usize = folders.iter().map(|(_, labels)| labels.len()).sum();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").expect("static template is valid"),
    );
    let mut ok = true;
    let mut scored_by_folder = Vec::with_capacity(folders.len());
    for (dir, labels) in folders {
        let mut scored = Vec::with_capacity(labels.len());
        for label in labels {
            bar.set_message(label.file.clone());
            match analyze_file(&dir.join(&label.file), 0, params, &models) {
                Ok(outcome) => {
                    scored.push(Scored { label, decision: outcome.decision, message_end: outcome.message_end, sit: outcome.sit, late: outcome.late })
                }
                Err(e) => {
                    bar.suspend(|| eprintln!("amd: {}: {e}", dir.join(&label.file).display()));
                    ok = false;
                }
            }
            bar.inc(1);
        }
        scored_by_folder.push((dir.display().to_string(), scored));
    }
    bar.finish_and_clear();
    let all: Vec<Scored> = scored_by_folder.iter().flat_map(|(_, s)| s.iter().cloned()).collect();
    let r = report(&all);
    if json {
        let value = if scored_by_folder.len() == 1 {
            serde_json::to_value(&r)
        } else {
            let per: serde_json::Map<String, serde_json::Value> = scored_by_folder
                .iter()
                .map(|(name, s)| Ok((name.clone(), serde_json::to_value(report(s))?)))
                .collect::<Result<_, serde_json::Error>>()
                .map_err(|e| e.to_string())?;
            serde_json::to_value(&r).map(|total| serde_json::json!({ "folders": per, "total": total }))
        };
        println!("{}", serde_json::to_string_pretty(&value.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?);
    } else {
        if scored_by_folder.len() > 1 {
            println!("{SUMMARY_HEADER}");
            for (name, s) in &scored_by_folder {
                println!("{}", summary_row(name, &report(s)));
            }
            println!("{}\n\nover all {} folders:", summary_row("all", &r), scored_by_folder.len());
        }
        print!("{}", render(&r));
    }
    if errors {
        for (name, s) in &scored_by_folder {
            for line in s.iter().filter_map(mistake) {
                println!("{name}/{line}");
            }
        }
    }
    Ok(ok)
}
