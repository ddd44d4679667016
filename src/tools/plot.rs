//! `amd plot`: one call as the detector saw it, for an operator tuning the parameters: the level
//! of every 10 ms block against silent_threshold and the line's background, the blocks judged
//! sound, the talk segments, and the decision with its cause (and, where the detector reports
//! them, the end of the message and its beep).

use std::path::Path;

use crate::analyzer::analyze::{detector_rate, feed_stream};
use crate::analyzer::wav::WavStream;
use crate::detector::{BlockTrace, Decision, Detector, Event, Evidence, Models, Params};
use crate::tools::svg::{Anchor, Svg};

/// 0 dBFS on the level's scale: a full-scale square wave has mean |x| 32768.
const FULL_SCALE: f64 = 32768.0;
/// The bottom of the level axis; quieter blocks (digital silence) sit on it.
const FLOOR_DBFS: f64 = -90.0;
const BLOCK_MS: u64 = 10;

/// Everything the plot shows about one call.
#[derive(Debug, Clone)]
pub struct Observed {
    pub name: String,
    pub sample_rate: u32,
    pub duration_ms: u64,
    pub params: Params,
    pub trace: Vec<BlockTrace>,
    pub events: Vec<Event>,
    pub decision: Option<(Decision, Evidence)>,
}

/// Runs the detector over the whole recording (past its decision: the plot shows all of it),
/// recording every block. The file is read a frame at a time: a long recording costs the
/// detector's trace (a few bytes per 10 ms), not its samples.
pub fn observe(name: &str, stream: &mut WavStream, params: &Params, models: &Models) -> Result<Observed, String> {
    let rate = detector_rate(stream.sample_rate())?;
    let mut detector = Detector::with_models(params, rate, models).map_err(|e| e.to_string())?;
    detector.keep_trace();
    let mut events = Vec::new();
    feed_stream(stream, &mut detector, &mut |e| events.push(e), |_| false)?;
    Ok(Observed {
        name: name.to_string(),
        sample_rate: rate,
        duration_ms: stream.duration_ms(),
        params: params.clone(),
        trace: detector.take_trace(),
        decision: detector.decision().map(|d| (d, detector.evidence())),
        events,
    })
}

/// What a vertical marker stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkerKind {
    Decision,
    MessageEnd,
    Beep,
    BeepEnd,
    LateMachine,
}

impl MarkerKind {
    fn color(self) -> &'static str {
        match self {
            MarkerKind::Decision => "#7b1fa2",
            MarkerKind::MessageEnd => "#8c564b",
            MarkerKind::Beep | MarkerKind::BeepEnd => "#e6550d",
            MarkerKind::LateMachine => "#d62728",
        }
    }

    fn legend(self) -> &'static str {
        match self {
            MarkerKind::Decision => "decision (status, cause)",
            MarkerKind::MessageEnd => "end of the message",
            MarkerKind::Beep => "beep starts",
            MarkerKind::BeepEnd => "beep ends",
            MarkerKind::LateMachine => "late machine (after person or unsure)",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Marker {
    at_ms: u64,
    kind: MarkerKind,
    text: String,
}

/// The moments marked on the plot, from the detector's events: the decision, and with
/// detect_message_end the end of the greeting, its beep and the beep's end.
fn markers(events: &[Event]) -> Vec<Marker> {
    let mut out = Vec::new();
    for event in events {
        match *event {
            Event::Decided(d) => out.push(Marker {
                at_ms: d.at_ms,
                kind: MarkerKind::Decision,
                text: format!("{}, {} at {} ms", d.status, d.cause, d.at_ms),
            }),
            Event::MessageEnd(m) => {
                if let Some(beep) = m.beep {
                    let pitch = match beep.freq2_hz {
                        Some(f2) => format!("{}+{} Hz", beep.freq_hz, f2),
                        None => format!("{} Hz", beep.freq_hz),
                    };
                    out.push(Marker {
                        at_ms: beep.start_ms,
                        kind: MarkerKind::Beep,
                        text: format!("beep {pitch} at {} ms", beep.start_ms),
                    });
                }
                out.push(Marker {
                    at_ms: m.at_ms,
                    kind: MarkerKind::MessageEnd,
                    text: format!("message end ({}) at {} ms", m.kind, m.at_ms),
                });
            }
            Event::BeepEnd { at_ms } => {
                out.push(Marker { at_ms, kind: MarkerKind::BeepEnd, text: format!("beep ends at {at_ms} ms") })
            }
            Event::LateMachine(l) => {
                if let Some(beep) = l.beep {
                    out.push(Marker { at_ms: beep.start_ms, kind: MarkerKind::Beep, text: format!("beep {} Hz at {} ms", beep.freq_hz, beep.start_ms) });
                }
                out.push(Marker { at_ms: l.at_ms, kind: MarkerKind::LateMachine, text: format!("late machine ({}) at {} ms", l.kind.as_str(), l.at_ms) });
            }
            Event::StartTalking { .. } | Event::StopTalking { .. } => {}
        }
    }
    out
}

/// Talk segments (start, end) in ms from the talking edges; one still open ends with the audio.
fn talk_segments(events: &[Event], end_ms: u64) -> Vec<(u64, u64)> {
    let mut segments = Vec::new();
    let mut open = None;
    for event in events {
        match *event {
            Event::StartTalking { at_ms } => open = Some(at_ms),
            Event::StopTalking { at_ms } => {
                if let Some(start) = open.take() {
                    segments.push((start, at_ms));
                }
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        segments.push((start, end_ms));
    }
    segments
}

/// Runs of blocks judged sound, (start, end) in ms.
fn sound_runs(trace: &[BlockTrace]) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for b in trace.iter().filter(|b| b.sound) {
        let start = b.end_ms.saturating_sub(BLOCK_MS);
        match runs.last_mut() {
            Some(last) if last.1 == start => last.1 = b.end_ms,
            _ => runs.push((start, b.end_ms)),
        }
    }
    runs
}

fn dbfs(level: f64) -> f64 {
    if level <= 0.0 {
        FLOOR_DBFS
    } else {
        (20.0 * (level / FULL_SCALE).log10()).max(FLOOR_DBFS)
    }
}

/// A round tick step giving at most about a dozen ticks over `span_ms`.
fn tick_step(span_ms: u64) -> u64 {
    [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 30_000, 60_000]
        .into_iter()
        .find(|step| span_ms / step <= 12)
        .unwrap_or(120_000)
}

// Geometry, in SVG px.
const WIDTH: f64 = 1200.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 1170.0;
const TOP: f64 = 80.0;
const BOTTOM: f64 = 400.0;
const SOUND_LANE: f64 = 412.0;
const TALK_LANE: f64 = 432.0;
const LANE_HEIGHT: f64 = 14.0;
const LEGEND_TOP: f64 = 515.0;
/// Rough width of one character of 12 px text, to place labels and legend entries.
const CHAR_PX: f64 = 6.8;

const LEVEL_COLOR: &str = "#1f5fa8";
const THRESHOLD_COLOR: &str = "#d62728";
const BACKGROUND_COLOR: &str = "#f39c12";
const SOUND_COLOR: &str = "#2ca02c";
const TALK_COLOR: &str = "#555555";
const GRID_COLOR: &str = "#e3e3e3";

/// A long recording is drawn, unless told otherwise, to this long after the last thing the
/// detector reported (its decision, the greeting's end, a late machine): the rest is the call.
const VIEW_AFTER_LAST_EVENT_MS: u64 = 3000;
/// Recordings up to this long are drawn whole.
const WHOLE_UP_TO_MS: u64 = 20_000;

/// The stretch of the call to draw, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub from_ms: u64,
    pub to_ms: u64,
}

impl View {
    /// `from` and `to` as asked (either may be left out); by default a short recording whole, a
    /// long one to a few seconds after the last event. Refused where it holds no audio.
    pub fn of(o: &Observed, from: Option<u64>, to: Option<u64>) -> Result<View, String> {
        let end = o.duration_ms.max(o.trace.last().map_or(0, |b| b.end_ms)).max(BLOCK_MS);
        let last_event = o
            .events
            .iter()
            .filter_map(|e| match *e {
                Event::Decided(d) => Some(d.at_ms),
                Event::MessageEnd(m) => Some(m.at_ms),
                Event::BeepEnd { at_ms } => Some(at_ms),
                Event::LateMachine(l) => Some(l.at_ms),
                Event::StartTalking { .. } | Event::StopTalking { .. } => None,
            })
            .max();
        let default_to = match last_event {
            Some(at) if end > WHOLE_UP_TO_MS => (at + VIEW_AFTER_LAST_EVENT_MS).min(end),
            _ => end,
        };
        let view = View { from_ms: from.unwrap_or(0), to_ms: to.unwrap_or(default_to).min(end) };
        if view.from_ms + BLOCK_MS > view.to_ms {
            return Err(format!("nothing to draw from {} ms to {} ms (the audio lasts {end} ms)", view.from_ms, view.to_ms));
        }
        Ok(view)
    }
}

/// The plot as an SVG document: the whole call.
pub fn render_svg(o: &Observed) -> String {
    let whole = View { from_ms: 0, to_ms: o.duration_ms.max(o.trace.last().map_or(0, |b| b.end_ms)).max(BLOCK_MS) };
    render_view(o, whole)
}

/// The plot as an SVG document: the stretch `view` of the call.
pub fn render_view(o: &Observed, view: View) -> String {
    let (from, to) = (view.from_ms, view.to_ms.max(view.from_ms + BLOCK_MS));
    let span_ms = to - from;
    let x = |ms: u64| LEFT + (RIGHT - LEFT) * (ms.clamp(from, to) - from) as f64 / span_ms as f64;
    let shown = |ms: u64| (from..=to).contains(&ms);
    let y = |db: f64| TOP + (BOTTOM - TOP) * (db.clamp(FLOOR_DBFS, 0.0) / FLOOR_DBFS);
    let marks: Vec<Marker> = markers(&o.events).into_iter().filter(|m| shown(m.at_ms)).collect();
    let legend_rows = 2.0;
    let height = LEGEND_TOP + legend_rows * 20.0 + 10.0;
    let mut svg = Svg::new(WIDTH as u32, height as u32);
    svg.rect(0.0, 0.0, WIDTH, height, "white", "");

    // Title: the file and the verdict; below it, the figures behind it and the key settings.
    let verdict = match o.decision {
        Some((d, _)) => format!("{}, {} at {} ms", d.status, d.cause, d.at_ms),
        None => "no decision".to_string(),
    };
    svg.text_with(LEFT, 28.0, 16.0, Anchor::Start, "black", r#"font-weight="bold""#, &format!("{}: {verdict}", o.name));
    let evidence = match o.decision {
        Some((_, e)) => format!(
            "; at the decision: {} word{}, greeting {} ms, silence {} ms, longest word {} ms",
            e.words,
            if e.words == 1 { "" } else { "s" },
            e.greeting_ms, e.silence_ms, e.longest_word_ms
        ),
        None => String::new(),
    };
    let p = &o.params;
    svg.text(LEFT, 46.0, 12.0, Anchor::Start, "#333", &format!("{} Hz, {} ms of audio{evidence}", o.sample_rate, o.duration_ms));
    svg.text(
        LEFT,
        62.0,
        12.0,
        Anchor::Start,
        "#333",
        &format!(
            "silent_threshold {}, noise_floor_margin_db {}, foreground_drop_db {}, silent_initial {}, silent_after_intro {}, noise_max_intro {}, noise_max_count {}",
            p.silent_threshold,
            p.noise_floor_margin_db,
            p.foreground_drop_db,
            p.silent_initial,
            p.silent_after_intro,
            p.noise_max_intro,
            p.noise_max_count
        ),
    );

    // Grid and axes.
    for db in (FLOOR_DBFS as i32..=0).step_by(10) {
        let yy = y(f64::from(db));
        svg.line((LEFT, yy), (RIGHT, yy), GRID_COLOR, 1.0, "");
        svg.text(LEFT - 6.0, yy + 4.0, 11.0, Anchor::End, "#333", &db.to_string());
    }
    let step = tick_step(span_ms);
    let mut t = from.div_ceil(step) * step;
    while t <= to {
        let xx = x(t);
        svg.line((xx, TOP), (xx, BOTTOM), GRID_COLOR, 1.0, "");
        svg.line((xx, TALK_LANE + LANE_HEIGHT), (xx, TALK_LANE + LANE_HEIGHT + 5.0), "#333", 1.0, "");
        svg.text(xx, TALK_LANE + LANE_HEIGHT + 18.0, 11.0, Anchor::Middle, "#333", &t.to_string());
        t += step;
    }
    svg.line((LEFT, TOP), (LEFT, BOTTOM), "#333", 1.0, "");
    svg.line((LEFT, BOTTOM), (RIGHT, BOTTOM), "#333", 1.0, "");
    svg.text((LEFT + RIGHT) / 2.0, TALK_LANE + LANE_HEIGHT + 38.0, 13.0, Anchor::Middle, "black", "time (ms)");
    let mid = (TOP + BOTTOM) / 2.0;
    svg.text_with(24.0, mid, 13.0, Anchor::Middle, "black", &format!(r#"transform="rotate(-90 24 {mid})""#), "level (dBFS)");

    // Lanes: blocks judged sound, and talk segments.
    svg.text(LEFT - 6.0, SOUND_LANE + 11.0, 11.0, Anchor::End, "#333", "sound");
    svg.text(LEFT - 6.0, TALK_LANE + 11.0, 11.0, Anchor::End, "#333", "talk");
    svg.rect(LEFT, SOUND_LANE, RIGHT - LEFT, LANE_HEIGHT, "#f4f4f4", "");
    svg.rect(LEFT, TALK_LANE, RIGHT - LEFT, LANE_HEIGHT, "#f4f4f4", "");
    for (start, end) in sound_runs(&o.trace).into_iter().filter(|&(a, b)| b > from && a < to) {
        svg.rect(x(start), SOUND_LANE, (x(end) - x(start)).max(1.0), LANE_HEIGHT, SOUND_COLOR, "");
    }
    for (start, end) in talk_segments(&o.events, o.duration_ms).into_iter().filter(|&(a, b)| b > from && a < to) {
        svg.rect(x(start), TALK_LANE, (x(end) - x(start)).max(1.0), LANE_HEIGHT, TALK_COLOR, "");
    }
    let trace: Vec<&BlockTrace> = o.trace.iter().filter(|b| b.end_ms > from && b.end_ms <= to).collect();

    // The background the detector tracked, raised by the margin a block must clear.
    let margin = f64::from(p.noise_floor_margin_db);
    if margin > 0.0 {
        let full_scale_db = 20.0 * FULL_SCALE.log10();
        let points: Vec<(f64, f64)> =
            trace.iter().map(|b| (x(b.end_ms), y(f64::from(b.floor_db) + margin - full_scale_db))).collect();
        svg.polyline(&points, BACKGROUND_COLOR, 1.5, r#"stroke-dasharray="5 3""#);
    }
    // The level of each block.
    let mut points = Vec::with_capacity(trace.len() + 1);
    points.extend(trace.first().map(|b| (x(b.end_ms - BLOCK_MS), y(dbfs(f64::from(b.level))))));
    points.extend(trace.iter().map(|b| (x(b.end_ms), y(dbfs(f64::from(b.level))))));
    svg.polyline(&points, LEVEL_COLOR, 1.2, "");
    // silent_threshold.
    if p.silent_threshold > 0 {
        let yy = y(dbfs(f64::from(p.silent_threshold)));
        svg.line((LEFT, yy), (RIGHT, yy), THRESHOLD_COLOR, 1.5, r#"stroke-dasharray="8 4""#);
    }

    // Markers: a line through the plot and the lanes (the decision's drawn last, on top, where a
    // message end falls at the same moment), then over all lines each text at the top, one row
    // per marker, kept inside the plot.
    for m in marks.iter().rev() {
        let xx = x(m.at_ms);
        svg.line((xx, TOP), (xx, TALK_LANE + LANE_HEIGHT), m.kind.color(), 2.0, "");
    }
    for (i, m) in marks.iter().enumerate() {
        let xx = x(m.at_ms);
        let text_width = m.text.len() as f64 * CHAR_PX + 8.0;
        let ty = TOP + 16.0 + 20.0 * i as f64;
        let (bx, anchor, tx) = if xx + text_width < RIGHT { (xx + 3.0, Anchor::Start, xx + 7.0) } else { (xx - 3.0 - text_width, Anchor::End, xx - 7.0) };
        svg.rect(bx, ty - 13.0, text_width, 18.0, "white", r#"fill-opacity="0.85""#);
        svg.text_with(tx, ty, 12.0, anchor, m.kind.color(), r#"font-weight="bold""#, &m.text);
    }

    // Legend.
    let mut entries: Vec<(String, &str, &str)> = vec![
        ("level (mean |x| per 10 ms after a 200 Hz high-pass; 0 dBFS = 32768)".into(), LEVEL_COLOR, "line"),
        (format!("silent_threshold = {}", p.silent_threshold), THRESHOLD_COLOR, "dash"),
    ];
    if margin > 0.0 {
        entries.push((format!("background + noise_floor_margin_db ({} dB)", p.noise_floor_margin_db), BACKGROUND_COLOR, "dash"));
    }
    entries.push(("blocks judged sound".into(), SOUND_COLOR, "box"));
    entries.push(("talk segments".into(), TALK_COLOR, "box"));
    let mut kinds: Vec<MarkerKind> = marks.iter().map(|m| m.kind).collect();
    kinds.sort_by_key(|k| *k as u8);
    kinds.dedup();
    for kind in kinds {
        entries.push((kind.legend().into(), kind.color(), "marker"));
    }
    let (mut lx, mut ly) = (LEFT, LEGEND_TOP);
    for (label, color, style) in entries {
        let width = 30.0 + label.len() as f64 * CHAR_PX + 24.0;
        if lx + width > RIGHT && lx > LEFT {
            lx = LEFT;
            ly += 20.0;
        }
        match style {
            "box" => svg.rect(lx, ly - 9.0, 22.0, 10.0, color, ""),
            "marker" => svg.line((lx + 11.0, ly - 11.0), (lx + 11.0, ly + 3.0), color, 2.0, ""),
            "dash" => svg.line((lx, ly - 4.0), (lx + 22.0, ly - 4.0), color, 1.5, r#"stroke-dasharray="6 3""#),
            _ => svg.line((lx, ly - 4.0), (lx + 22.0, ly - 4.0), color, 1.5, ""),
        }
        svg.text(lx + 30.0, ly, 12.0, Anchor::Start, "black", &label);
        lx += width;
    }
    svg.finish()
}

/// The image format, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format, String> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(format!("{}: the output must end in .svg or .png", path.display())),
        }
    }
}

#[cfg(feature = "png")]
fn png(svg: &str) -> Result<Vec<u8>, String> {
    crate::tools::png::svg_to_png(svg, 1.0)
}

#[cfg(not(feature = "png"))]
fn png(_: &str) -> Result<Vec<u8>, String> {
    Err("this amd was built without PNG output (cargo feature png): write .svg".into())
}

/// Plots channel `channel` of `file` into `out` (.svg or .png), deciding with `model`; returns a
/// one-line summary.
pub fn run(file: &Path, channel: u16, out: &Path, params: &Params, models: &Models, window: (Option<u64>, Option<u64>)) -> Result<String, String> {
    let format = Format::from_path(out)?;
    let mut stream = WavStream::open(file, channel).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    let observed = observe(&name, &mut stream, params, models).map_err(|e| format!("{}: {e}", file.display()))?;
    let view = View::of(&observed, window.0, window.1).map_err(|e| format!("{}: {e}", file.display()))?;
    let svg = render_view(&observed, view);
    let bytes = match format {
        Format::Svg => svg.into_bytes(),
        Format::Png => png(&svg)?,
    };
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    let verdict = match observed.decision {
        Some((d, _)) => format!("{}, {} at {} ms", d.status, d.cause, d.at_ms),
        None => "no decision".into(),
    };
    Ok(format!("{}: {name}: {verdict}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Beep, Cause, MessageEnd, MessageEndKind, Status};

    #[test]
    fn talk_segments_pair_the_edges_and_close_at_the_end() {
        let events = [
            Event::StartTalking { at_ms: 100 },
            Event::StopTalking { at_ms: 900 },
            Event::StartTalking { at_ms: 1500 },
        ];
        assert_eq!(talk_segments(&events, 3000), vec![(100, 900), (1500, 3000)]);
    }

    #[test]
    fn sound_runs_join_neighbouring_blocks() {
        let b = |end_ms, sound| BlockTrace { end_ms, level: 0.0, floor_db: 0.0, sound };
        let trace = [b(10, false), b(20, true), b(30, true), b(40, false), b(50, true)];
        assert_eq!(sound_runs(&trace), vec![(10, 30), (40, 50)]);
    }

    #[test]
    fn the_decision_is_marked_with_its_cause() {
        let d = Decision { status: Status::Machine, cause: Cause::MaxIntro, at_ms: 3010 };
        let m = markers(&[Event::StartTalking { at_ms: 300 }, Event::Decided(d)]);
        assert_eq!(m, vec![Marker { at_ms: 3010, kind: MarkerKind::Decision, text: "machine, max-intro at 3010 ms".into() }]);
    }

    #[test]
    fn the_message_end_and_its_beep_are_marked() {
        let end = MessageEnd {
            kind: MessageEndKind::Beep,
            at_ms: 4100,
            beep: Some(Beep { start_ms: 4000, freq_hz: 1000, freq2_hz: None }),
        };
        let m = markers(&[Event::MessageEnd(end), Event::BeepEnd { at_ms: 4300 }]);
        let kinds: Vec<(MarkerKind, u64)> = m.iter().map(|m| (m.kind, m.at_ms)).collect();
        assert_eq!(kinds, vec![(MarkerKind::Beep, 4000), (MarkerKind::MessageEnd, 4100), (MarkerKind::BeepEnd, 4300)]);
        assert_eq!(m[0].text, "beep 1000 Hz at 4000 ms");
        assert_eq!(m[1].text, "message end (beep) at 4100 ms");
    }

    fn observed(duration_ms: u64, decided_at: u64) -> Observed {
        let d = Decision { status: Status::Person, cause: Cause::SilentAfterIntro, at_ms: decided_at };
        Observed {
            name: "x.wav".into(),
            sample_rate: 8000,
            duration_ms,
            params: Params::default(),
            trace: (1..=duration_ms / 10).map(|i| BlockTrace { end_ms: i * 10, level: 100.0, floor_db: 20.0, sound: i % 7 == 0 }).collect(),
            decision: Some((d, Evidence::default())),
            events: vec![Event::StartTalking { at_ms: 500 }, Event::StopTalking { at_ms: 900 }, Event::Decided(d)],
        }
    }

    #[test]
    fn a_long_recording_is_drawn_to_a_few_seconds_after_its_last_event_unless_told() {
        assert_eq!(View::of(&observed(6000, 1700), None, None).unwrap(), View { from_ms: 0, to_ms: 6000 });
        let long = observed(7_200_000, 1700);
        assert_eq!(View::of(&long, None, None).unwrap(), View { from_ms: 0, to_ms: 4700 });
        assert_eq!(View::of(&long, Some(60_000), Some(90_000)).unwrap(), View { from_ms: 60_000, to_ms: 90_000 });
        assert_eq!(View::of(&long, Some(1000), None).unwrap(), View { from_ms: 1000, to_ms: 4700 });
        assert!(View::of(&long, Some(5000), Some(5000)).unwrap_err().contains("nothing to draw"));
        assert!(View::of(&observed(6000, 1700), Some(7000), None).is_err());
        // Only what is in the view is drawn: the ticks start at its start.
        let svg = render_view(&long, View { from_ms: 60_000, to_ms: 90_000 });
        assert!(svg.contains(">60000<") && svg.contains(">90000<") && !svg.contains(">30000<"), "ticks");
        assert!(!svg.contains(">person, silent-after-intro at 1700 ms</text>"), "the decision marker lies outside the view");
        assert!(render_svg(&observed(6000, 1700)).contains(">person, silent-after-intro at 1700 ms</text>"));
    }

    #[test]
    fn levels_in_dbfs() {
        assert!((dbfs(32768.0)).abs() < 1e-9);
        assert!((dbfs(64.0) + 54.19).abs() < 0.01);
        assert_eq!(dbfs(0.0), FLOOR_DBFS);
        assert_eq!(tick_step(6000), 500);
        assert_eq!(tick_step(15_700), 2000);
    }
}
