//! The commissioner's dashboard: what people are telling them, quarter by quarter.
//!
//! Four charts, drawn on the server as SVG by `plotters` (no hand-drawn chart code), each with
//! a text alternative: a one-sentence summary the SVG carries as its accessible name, and the
//! same figures as a table beneath it. Every figure comes from the API as the commissioner sees
//! it (`youSaidWeDid` per quarter and `complaintPatterns`), so counts of 1 to 4 (and any count
//! that would give one away) arrive already suppressed: a chart leaves a gap there and the
//! table says "not shown".

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::ToSpan;
use jiff::civil::Date;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::{UNDECODABLE, Undecodable, ask};
use crate::extract::{Commissioners, SignedInAs};
use crate::forms::{self, Errors};
use crate::kit::{Connection, figures_table, plain};
use crate::layout::page;

/// How many quarters the dashboard shows, the current one last.
const QUARTERS: usize = 4;
/// How many themes the volume chart follows: the most often raised over the whole period.
const THEMES: usize = 5;

/// One reporting quarter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Quarter {
    pub from: Date,
    pub to: Date,
    /// Plain words: "Jan to Mar 2026".
    pub label: String,
}

/// The `count` quarters ending with the one `today` is in, oldest first. The current quarter
/// ends today: nothing later can have been said yet.
pub(crate) fn quarters(today: Date, count: usize) -> Vec<Quarter> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let first_month = (today.month() - 1) / 3 * 3 + 1;
    let current = Date::new(today.year(), first_month, 1).expect("the first day of a quarter is a date");
    (0..count)
        .rev()
        .filter_map(|back| {
            let from = current.checked_sub((3 * back as i64).months()).ok()?;
            let end = from.checked_add(3.months()).ok()?.yesterday().ok()?;
            let to = end.min(today);
            let month = usize::try_from(from.month() - 1).ok()?;
            let label = format!("{} to {} {}", MONTHS[month], MONTHS[month + 2], from.year());
            Some(Quarter { from, to, label })
        })
        .collect()
}

/// A quarter's loop figures. `None` is "not known": suppressed, or nothing to measure.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct LoopFigures {
    pub shared: Option<i64>,
    pub closed: Option<i64>,
    /// 0 to 1.
    pub closure_rate: Option<f64>,
    pub median_days: Option<f64>,
}

/// How often one theme came up, per quarter. `None` is a suppressed count.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ThemeSeries {
    pub name: String,
    pub counts: Vec<Option<i64>>,
}

/// Complaints under one article of the charter. `None` is a suppressed count.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ArticleCount {
    pub article: String,
    pub label: String,
    pub count: Option<i64>,
}

/// Everything the dashboard draws.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Figures {
    pub quarters: Vec<Quarter>,
    pub whole: LoopFigures,
    pub by_quarter: Vec<LoopFigures>,
    pub themes: Vec<ThemeSeries>,
    pub articles: Vec<ArticleCount>,
}

/// What the dashboard's query answers: the whole period, each quarter under its alias
/// (`q0`, `q1`, …), the complaints by article and the hubs to choose from.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct DashboardAnswer {
    whole: Option<Report>,
    complaint_patterns: Vec<RollupRow>,
    hubs: Connection<Hub>,
    /// The quarters' reports by alias; a quarter GraphQL gave nothing for is absent or null.
    #[serde(flatten)]
    quarters: HashMap<String, Option<Report>>,
}

/// One period's `youSaidWeDid`, as far as the dashboard reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Report {
    shared_items: Option<i64>,
    closed_items: Option<i64>,
    loop_closure_rate: Option<f64>,
    median_working_days_to_first_response: Option<f64>,
    said: Vec<ThemeCount>,
}

#[derive(Debug, Deserialize)]
struct ThemeCount {
    theme: String,
    name: String,
    /// `None` is 1 to 4 (suppressed).
    count: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RollupRow {
    keys: Vec<RollupKey>,
    count: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct RollupKey {
    value: String,
    label: String,
}

#[derive(Debug, Deserialize)]
struct Hub {
    id: String,
    name: String,
}

fn loop_figures(report: Option<&Report>) -> LoopFigures {
    report.map_or_else(LoopFigures::default, |report| LoopFigures {
        shared: report.shared_items,
        closed: report.closed_items,
        closure_rate: report.loop_closure_rate,
        median_days: report.median_working_days_to_first_response,
    })
}

/// One quarter's count for a theme: absent from the report is none at all; `null` is 1 to 4.
fn theme_count(report: Option<&Report>, theme: &str) -> Option<i64> {
    match report?.said.iter().find(|row| row.theme == theme) {
        None => Some(0),
        Some(row) => row.count,
    }
}

/// Reads the GraphQL answer (`whole`, `q0`…, `complaintPatterns`) into figures.
pub(crate) fn figures(data: &DashboardAnswer, quarters: Vec<Quarter>) -> Figures {
    let whole = data.whole.as_ref();
    let reports: Vec<Option<&Report>> =
        (0..quarters.len()).map(|i| data.quarters.get(&format!("q{i}")).and_then(Option::as_ref)).collect();
    let themes = whole
        .map(|whole| {
            whole
                .said
                .iter()
                .filter(|row| row.count.is_some())
                .take(THEMES)
                .map(|row| ThemeSeries {
                    name: row.name.clone(),
                    counts: reports.iter().map(|report| theme_count(*report, &row.theme)).collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut articles: Vec<ArticleCount> = data
        .complaint_patterns
        .iter()
        .map(|row| {
            let key = row.keys.first();
            ArticleCount {
                article: key.map(|k| k.value.clone()).unwrap_or_default(),
                label: key.map(|k| k.label.clone()).unwrap_or_default(),
                count: row.count,
            }
        })
        .collect();
    articles.sort_by_key(|row| (row.article.parse::<u32>().unwrap_or(u32::MAX), row.article.clone()));
    Figures {
        whole: loop_figures(whole),
        by_quarter: reports.iter().map(|report| loop_figures(*report)).collect(),
        themes,
        articles,
        quarters,
    }
}

/// A count in words, saying plainly when it is not shown (1 to 4, or one that would give such
/// a count away: so not always fewer than 5).
fn count_words(count: Option<i64>) -> String {
    match count {
        Some(count) => count.to_string(),
        None => NOT_SHOWN.to_owned(),
    }
}

const NOT_SHOWN: &str = "not shown";

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "not known yet".to_owned(), |rate| format!("{:.0}%", rate * 100.0))
}

fn days(median: Option<f64>) -> String {
    match median {
        None => "no responses yet".to_owned(),
        Some(days) if (days - 1.0).abs() < f64::EPSILON => "1 working day".to_owned(),
        Some(days) => format!("{days:.1} working days").replace(".0 ", " "),
    }
}

/// The charts, drawn by plotters as SVG text, each in two sizes: wide for a screen, and a
/// narrower, taller one for a phone, where a wide chart scaled down to fit would shrink its
/// text below 12 px. The page shows one or the other by the width of the screen.
mod charts {
    use plotters::chart::MeshStyle;
    use plotters::coord::Shift;
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};

    use super::Figures;

    /// The size a chart is drawn at.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Size {
        pub width: u32,
        pub height: u32,
        /// Drawn for a phone: quarters labelled on two lines, the legend under the chart.
        pub phone: bool,
    }

    /// For a screen: shown up to 640 px wide.
    pub const WIDE: Size = Size { width: 640, height: 360, phone: false };
    /// For a phone: about as wide as a phone's page, so its text is drawn at close to its
    /// own size (16 px at 340 px wide is still 13.5 px on a 320 px screen).
    pub const PHONE: Size = Size { width: 340, height: 440, phone: true };

    /// Line and bar colours: each at least 3:1 against white (WCAG 1.4.11), told apart by
    /// marker shape as well as colour.
    const PALETTE: [RGBColor; 5] = [
        RGBColor(0x1f, 0x4e, 0x9c),
        RGBColor(0xa6, 0x36, 0x1c),
        RGBColor(0x0b, 0x6e, 0x4f),
        RGBColor(0x6b, 0x3f, 0xa0),
        RGBColor(0x7a, 0x55, 0x00),
    ];
    const INK: RGBColor = RGBColor(0x1d, 0x2b, 0x33);
    const FONT: &str = "sans-serif";
    /// Every text on every chart, as plotters sizes it (its SVG says `font-size` 16.1: plotters
    /// divides by 1.24).
    pub const TEXT_PX: u32 = 20;

    type Result<T> = std::result::Result<T, String>;
    type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

    fn canvas(svg: &mut String, size: Size, draw: impl FnOnce(&Area<'_>) -> Result<()>) -> Result<()> {
        let root = SVGBackend::with_string(svg, (size.width, size.height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())
    }

    fn text() -> TextStyle<'static> {
        (FONT, TEXT_PX).into_font().color(&INK)
    }

    /// What every chart's grid looks like: faint lines, labelled in the charts' text.
    fn plain_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
        mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
    ) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
        mesh.light_line_style(WHITE).bold_line_style(INK.mix(0.15)).label_style(text()).axis_desc_style(text())
    }

    /// The quarters' labels, and how many there are.
    fn quarter_labels(figures: &Figures) -> Result<(Vec<String>, i32)> {
        let labels: Vec<String> = figures.quarters.iter().map(|q| q.label.clone()).collect();
        let n = i32::try_from(labels.len()).map_err(|e| e.to_string())?;
        Ok((labels, n))
    }

    /// Quarter labels under the x axis (on a phone they are drawn separately, on two lines).
    fn quarter_label(labels: &[String], value: &SegmentValue<i32>) -> String {
        match value {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                usize::try_from(*i).ok().and_then(|i| labels.get(i)).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        }
    }

    /// "Jan to Mar 2026" on a phone: "Jan–Mar" over "2026".
    fn two_lines(label: &str) -> (String, String) {
        let mut words: Vec<&str> = label.split(' ').collect();
        let year = if words.len() > 1 { words.pop().unwrap_or_default() } else { "" };
        (words.join(" ").replace(" to ", "–"), year.to_owned())
    }

    /// A phone's quarter labels, on two lines under each quarter's centre.
    fn phone_quarter_labels<Y: Copy>(
        root: &Area<'_>,
        labels: &[String],
        at: impl Fn(i32) -> (i32, i32),
        _y: std::marker::PhantomData<Y>,
    ) -> Result<()> {
        let centred = text().pos(Pos::new(HPos::Center, VPos::Top));
        for (i, label) in labels.iter().enumerate() {
            let (x, y) = at(i as i32);
            let (first, second) = two_lines(label);
            root.draw(&Text::new(first, (x, y + 6), centred.clone())).map_err(|e| e.to_string())?;
            root.draw(&Text::new(second, (x, y + 6 + TEXT_PX as i32 + 2), centred.clone()))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Cuts a name to fit a phone's legend.
    fn fitted(name: &str, size: Size) -> String {
        let most = if size.phone { 30 } else { 60 };
        if name.chars().count() <= most {
            name.to_owned()
        } else {
            format!("{}…", name.chars().take(most - 1).collect::<String>().trim_end())
        }
    }

    fn marker<'a>(k: usize, at: (i32, i32), colour: RGBColor) -> DynElement<'a, SVGBackend<'a>, (i32, i32)> {
        match k % 4 {
            0 => Circle::new(at, 5, colour.filled()).into_dyn(),
            1 => TriangleMarker::new(at, 7, colour.filled()).into_dyn(),
            2 => Cross::new(at, 6, colour.stroke_width(3)).into_dyn(),
            _ => Circle::new(at, 6, colour.stroke_width(3)).into_dyn(),
        }
    }

    /// Feedback volume by theme: one line per theme, a gap where a count was suppressed.
    pub fn themes(figures: &Figures, size: Size) -> Result<String> {
        let (labels, n) = quarter_labels(figures)?;
        let top = figures.themes.iter().flat_map(|t| t.counts.iter().flatten()).copied().max().unwrap_or(0);
        let legend_rows = if size.phone { figures.themes.len() as u32 } else { 0 };
        let mut svg = String::new();
        canvas(&mut svg, size, |root| {
            let legend_height = legend_rows * (TEXT_PX + 10) + if size.phone { 12 } else { 0 };
            let (plot, legend) = root.split_vertically(size.height - legend_height);
            let mut chart = ChartBuilder::on(&plot)
                .margin(12)
                .x_label_area_size(if size.phone { 56 } else { 40 })
                .y_label_area_size(60)
                .build_cartesian_2d((0..n - 1).into_segmented(), 0i64..(top + top / 4 + 2))
                .map_err(|e| e.to_string())?;
            plain_mesh(chart.configure_mesh().disable_x_mesh())
                .y_desc("Items shared with you")
                .x_label_formatter(&|v| if size.phone { String::new() } else { quarter_label(&labels, v) })
                .draw()
                .map_err(|e| e.to_string())?;
            for (k, theme) in figures.themes.iter().enumerate() {
                let colour = PALETTE[k % PALETTE.len()];
                let line = colour.stroke_width(3);
                // Known counts joined up; a suppressed count breaks the line.
                let mut run = Vec::new();
                for (i, count) in theme.counts.iter().enumerate().chain([(usize::MAX, &None)]) {
                    match count {
                        Some(count) => run.push((SegmentValue::CenterOf(i as i32), *count)),
                        None => {
                            if run.len() > 1 {
                                chart
                                    .draw_series(LineSeries::new(std::mem::take(&mut run), line))
                                    .map_err(|e| e.to_string())?;
                            }
                            run.clear();
                        }
                    }
                }
                let points: Vec<(SegmentValue<i32>, i64)> = theme
                    .counts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| c.map(|c| (SegmentValue::CenterOf(i as i32), c)))
                    .collect();
                let name = fitted(&theme.name, size);
                let series = match k % 4 {
                    0 => chart
                        .draw_series(points.into_iter().map(|p| Circle::new(p, 5, colour.filled())))
                        .map_err(|e| e.to_string())?
                        .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled())),
                    1 => chart
                        .draw_series(points.into_iter().map(|p| TriangleMarker::new(p, 7, colour.filled())))
                        .map_err(|e| e.to_string())?
                        .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 7, colour.filled())),
                    2 => chart
                        .draw_series(points.into_iter().map(|p| Cross::new(p, 6, colour.stroke_width(3))))
                        .map_err(|e| e.to_string())?
                        .legend(move |(x, y)| Cross::new((x + 10, y), 6, colour.stroke_width(3))),
                    _ => chart
                        .draw_series(points.into_iter().map(|p| Circle::new(p, 6, colour.stroke_width(3))))
                        .map_err(|e| e.to_string())?
                        .legend(move |(x, y)| Circle::new((x + 10, y), 6, colour.stroke_width(3))),
                };
                series.label(name);
            }
            if size.phone {
                let at = |i: i32| chart.backend_coord(&(SegmentValue::CenterOf(i), 0));
                phone_quarter_labels::<i64>(root, &labels, at, std::marker::PhantomData)?;
                let left = text().pos(Pos::new(HPos::Left, VPos::Center));
                for (k, theme) in figures.themes.iter().enumerate() {
                    let y = 12 + (k as i32) * (TEXT_PX as i32 + 10) + TEXT_PX as i32 / 2;
                    legend.draw(&marker(k, (22, y), PALETTE[k % PALETTE.len()])).map_err(|e| e.to_string())?;
                    legend
                        .draw(&Text::new(fitted(&theme.name, size), (40, y), left.clone()))
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            } else {
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperLeft)
                    .background_style(WHITE.mix(0.9))
                    .border_style(INK.mix(0.4))
                    .label_font(text())
                    .draw()
                    .map_err(|e| e.to_string())
            }
        })?;
        Ok(svg)
    }

    /// Bars per quarter, one value each, with the value written above its bar. The axis is
    /// labelled in whole numbers, each once.
    fn quarter_bars(
        figures: &Figures,
        size: Size,
        values: &[Option<f64>],
        axis: &str,
        top: f64,
        colour: RGBColor,
        label: impl Fn(f64) -> String,
    ) -> Result<String> {
        let (labels, n) = quarter_labels(figures)?;
        let top = top.ceil().max(1.0);
        // One label per whole number up to 10; beyond that plotters picks round steps.
        let y_labels = (top as usize + 1).min(11);
        let mut svg = String::new();
        canvas(&mut svg, size, |root| {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .x_label_area_size(if size.phone { 56 } else { 40 })
                .y_label_area_size(64)
                .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..top)
                .map_err(|e| e.to_string())?;
            plain_mesh(chart.configure_mesh().disable_x_mesh())
                .y_desc(axis)
                .y_labels(y_labels)
                .y_label_formatter(&|v| format!("{v:.0}"))
                .x_label_formatter(&|v| if size.phone { String::new() } else { quarter_label(&labels, v) })
                .draw()
                .map_err(|e| e.to_string())?;
            let known: Vec<(i32, f64)> =
                values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i as i32, v))).collect();
            let gap = if size.phone { 10 } else { 24 };
            chart
                .draw_series(Histogram::vertical(&chart).style(colour.filled()).margin(gap).data(known.iter().copied()))
                .map_err(|e| e.to_string())?;
            let above = text().pos(Pos::new(HPos::Center, VPos::Bottom));
            chart
                .draw_series(
                    known.iter().map(|(i, v)| Text::new(label(*v), (SegmentValue::CenterOf(*i), *v), above.clone())),
                )
                .map_err(|e| e.to_string())?;
            if size.phone {
                let at = |i: i32| chart.backend_coord(&(SegmentValue::CenterOf(i), 0.0));
                phone_quarter_labels::<f64>(root, &labels, at, std::marker::PhantomData)?;
            }
            Ok(())
        })?;
        Ok(svg)
    }

    /// The share of shared items whose loop closed, per quarter, in percent.
    pub fn closure(figures: &Figures, size: Size) -> Result<String> {
        let values: Vec<Option<f64>> = figures.by_quarter.iter().map(|q| q.closure_rate.map(|r| r * 100.0)).collect();
        quarter_bars(figures, size, &values, "Loops closed (%)", 100.0, PALETTE[2], |v| format!("{v:.0}%"))
    }

    /// The median working days from sharing to a first response, per quarter.
    pub fn response(figures: &Figures, size: Size) -> Result<String> {
        let values: Vec<Option<f64>> = figures.by_quarter.iter().map(|q| q.median_days).collect();
        let top = values.iter().flatten().copied().fold(0.0, f64::max);
        let top = (top * 1.25).max(5.0);
        quarter_bars(figures, size, &values, "Median working days", top, PALETTE[0], |v| format!("{v:.1}"))
    }

    /// Complaints by the article of the charter they were made under: horizontal bars.
    pub fn complaints(figures: &Figures, size: Size) -> Result<String> {
        let articles = &figures.articles;
        if articles.is_empty() {
            return Err("no complaints to chart".to_owned());
        }
        let n = i32::try_from(articles.len()).map_err(|e| e.to_string())?;
        let top = articles.iter().filter_map(|a| a.count).max().unwrap_or(0);
        let names: Vec<String> = articles.iter().map(|a| format!("Article {}", a.article)).collect();
        let mut svg = String::new();
        canvas(&mut svg, size, |root| {
            let mut chart = ChartBuilder::on(root)
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(110)
                .build_cartesian_2d(0i64..(top + top / 4 + 2), (0..n - 1).into_segmented())
                .map_err(|e| e.to_string())?;
            plain_mesh(chart.configure_mesh().disable_y_mesh())
                .x_desc("Complaints")
                .x_labels(if size.phone { 5 } else { 10 })
                .y_label_formatter(&|v| quarter_label(&names, v))
                .y_labels(names.len().max(1))
                .draw()
                .map_err(|e| e.to_string())?;
            let known: Vec<(i32, i64)> =
                articles.iter().enumerate().filter_map(|(i, a)| a.count.map(|c| (i as i32, c))).collect();
            chart
                .draw_series(Histogram::horizontal(&chart).style(PALETTE[3].filled()).margin(6).data(known))
                .map_err(|e| e.to_string())?;
            Ok(())
        })?;
        Ok(svg)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_quarter_is_written_on_two_lines_on_a_phone() {
            assert_eq!(two_lines("Jan to Mar 2026"), ("Jan–Mar".to_owned(), "2026".to_owned()));
        }

        #[test]
        fn a_long_theme_name_is_cut_to_fit_a_phones_legend() {
            let long = "Aftercare and falling off a cliff after treatment ends";
            assert!(fitted(long, PHONE).chars().count() <= 30 && fitted(long, PHONE).ends_with('…'));
            assert_eq!(fitted(long, WIDE), long);
        }
    }
}

/// A chart's SVG as an image with an accessible name: `role="img"`, and a `<title>` carrying
/// the summary, which screen readers announce instead of the drawing's loose text.
pub(crate) fn accessible_svg(svg: &str, id: &str, summary: &str, class: &str) -> Markup {
    let title = maud::html! { title id={ (id) "-summary" } { (summary) } }.into_string();
    let opened = svg.replacen(
        "<svg ",
        &format!(r#"<svg role="img" aria-labelledby="{id}-summary" focusable="false" class="{class}" "#),
        1,
    );
    let body = match opened.find('>') {
        Some(end) => format!("{}{}{}", &opened[..=end], title, &opened[end + 1..]),
        None => opened,
    };
    PreEscaped(body)
}

/// A chart drawn wide and for a phone (`Err` when there is nothing it could draw).
type Drawn = Result<(String, String), String>;

fn both(draw: impl Fn(charts::Size) -> Result<String, String>) -> Drawn {
    Ok((draw(charts::WIDE)?, draw(charts::PHONE)?))
}

/// One chart with its caption, its summary and its figures. A chart with nothing to draw says
/// why instead (`empty`), rather than drawing bare axes.
fn figure(id: &str, caption: &str, summary: &str, empty: Option<&str>, drawn: Drawn, table: Markup) -> Markup {
    html! {
        figure class="chart-figure" aria-labelledby={ (id) "-caption" } {
            figcaption id={ (id) "-caption" } { h2 { (caption) } }
            p class="chart-summary" { (summary) }
            @match (empty, drawn) {
                (Some(why), _) => p class="chart-empty" { (why) },
                (None, Ok((wide, phone))) => {
                    (accessible_svg(&wide, id, summary, "chart chart--wide"))
                    (accessible_svg(&phone, &format!("{id}-phone"), summary, "chart chart--phone"))
                }
                (None, Err(_)) => p class="chart-empty" { "There is no chart to show for this yet." },
            }
            div class="table-scroll" role="region" aria-label={ (caption) ": the figures" } tabindex="0" { (table) }
        }
    }
}

/// Why nothing is drawn, in words, when there is nothing to draw: nothing was shared, or every
/// figure is too small to show.
fn empty_because(figures: &Figures, drawable: bool, too_few: &'static str) -> Option<&'static str> {
    if drawable {
        None
    } else if figures.whole.shared == Some(0) {
        Some("Nothing was shared in this period.")
    } else {
        Some(too_few)
    }
}

fn themes_empty(figures: &Figures) -> Option<&'static str> {
    let drawable = figures.themes.iter().any(|theme| theme.counts.iter().any(Option::is_some));
    empty_because(
        figures,
        drawable,
        "No theme was raised often enough to show without risking that someone could be recognised.",
    )
}

fn closure_empty(figures: &Figures) -> Option<&'static str> {
    let drawable = figures.by_quarter.iter().any(|q| q.closure_rate.is_some());
    empty_because(
        figures,
        drawable,
        "Each quarter had too few items to show this without risking that someone could be recognised.",
    )
}

fn response_empty(figures: &Figures) -> Option<&'static str> {
    let drawable = figures.by_quarter.iter().any(|q| q.median_days.is_some());
    empty_because(figures, drawable, "Too few items had a first response in any quarter to show this.")
}

fn complaints_empty(figures: &Figures) -> Option<&'static str> {
    if figures.articles.is_empty() {
        Some("No complaints were made in this period.")
    } else if figures.articles.iter().all(|article| article.count.is_none()) {
        Some(
            "Too few complaints were made under any one right to show without risking that someone could be recognised.",
        )
    } else {
        None
    }
}

fn themes_summary(figures: &Figures) -> String {
    match figures.themes.first() {
        None => "No theme was raised often enough to show in this period.".to_owned(),
        Some(top) => {
            let last = figures.quarters.last().map(|q| q.label.as_str()).unwrap_or_default();
            match top.counts.last().copied().flatten() {
                Some(1) => format!("{} came up most over the year. In {last} it came up once.", top.name),
                Some(n) => format!("{} came up most over the year. In {last} it came up {n} times.", top.name),
                None => {
                    format!("{} came up most over the year. How often it came up in {last} is not shown.", top.name)
                }
            }
        }
    }
}

fn closure_summary(figures: &Figures) -> String {
    format!(
        "Over the year, {} of shared items had their loop closed by a decision or a reasoned answer ({} of {}).",
        percent(figures.whole.closure_rate),
        count_words(figures.whole.closed),
        count_words(figures.whole.shared)
    )
}

fn response_summary(figures: &Figures) -> String {
    format!(
        "Over the year, the median time from an item being shared to a commissioner's first response was {}.",
        days(figures.whole.median_days)
    )
}

fn complaints_summary(figures: &Figures) -> String {
    let known = figures.articles.iter().filter_map(|a| a.count.map(|c| (c, a))).max_by_key(|(c, _)| *c);
    match known {
        None => "No article had enough complaints to show in this period.".to_owned(),
        Some((count, article)) => format!("Most complaints were made under {}: {count}.", article.label),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    hub: Option<String>,
}

fn query_text(quarters: &[Quarter]) -> String {
    let mut query = String::from("query($hub: ID, $from: String!, $to: String!) {\n");
    query.push_str("  whole: youSaidWeDid(scope: {hub: $hub}, period: {from: $from, to: $to}) { ...Figures }\n");
    for (i, quarter) in quarters.iter().enumerate() {
        query.push_str(&format!(
            "  q{i}: youSaidWeDid(scope: {{hub: $hub}}, period: {{from: \"{}\", to: \"{}\"}}) {{ ...Figures }}\n",
            quarter.from, quarter.to
        ));
    }
    query.push_str("  complaintPatterns(by: [ARTICLE], from: $from, to: $to) { keys { value label } count }\n");
    query.push_str("  hubs(first: 100) { edges { node { id name } } }\n}\n");
    query.push_str("fragment Figures on YouSaidWeDid { sharedItems closedItems loopClosureRate medianWorkingDaysToFirstResponse said { theme name count } }");
    query
}

/// `GET /dashboard?hub=`.
pub async fn dashboard<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<Commissioners>,
    Query(query): Query<DashboardQuery>,
) -> Response {
    let hub = query.hub.filter(|hub| !hub.is_empty());
    let quarters = quarters(heard_api::today(), QUARTERS);
    let (Some(first), Some(last)) = (quarters.first(), quarters.last()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let variables = json!({ "hub": hub, "from": first.from.to_string(), "to": last.to.to_string() });
    let answer = ask(&backend, &viewer, &query_text(&quarters), variables).await;
    let mut errors = Errors::default();
    for (_, _, message) in &answer.errors {
        errors.add("hub", plain(message));
    }
    let data = answer.read::<DashboardAnswer>("dashboard").unwrap_or_else(|Undecodable| {
        errors.add("hub", UNDECODABLE.to_owned());
        DashboardAnswer::default()
    });
    let hubs: Vec<(String, String)> = data.hubs.iter().map(|hub| (hub.id.clone(), hub.name.clone())).collect();
    let mut options = vec![(String::new(), "Every hub".to_owned())];
    options.extend(hubs.iter().cloned());
    let scope_name = hub.as_ref().and_then(|id| hubs.iter().find(|(h, _)| h == id).map(|(_, name)| name.clone()));
    let period = format!("{} to {}", first.from.strftime("%-d %B %Y"), last.to.strftime("%-d %B %Y"));
    let figures = figures(&data, quarters.clone());
    let title = if errors.is_empty() { "Dashboard" } else { "Error: Dashboard" };
    let body = html! {
        (forms::summary(&errors))
        h1 { "What people are telling you" }
        p class="lead" {
            @match &scope_name { Some(name) => { "Feedback from " (name) ", " }, None => { "Feedback from every hub, " } }
            "shared with commissioners, from " (period) ". Counts of 1 to 4 are not shown, nor any count that would let one be worked out, so that nobody can be recognised."
        }
        form method="get" action="/dashboard" class="inline-form" {
            (forms::select("hub", "Whose feedback", &options, hub.as_deref().unwrap_or_default(), &errors))
            button class="button button--secondary" type="submit" { "Show" }
        }
        @if errors.is_empty() {
            dl class="headline-figures" {
                div { dt { "Items shared with you" } dd { (count_words(figures.whole.shared)) } }
                div { dt { "Loops closed" } dd { (percent(figures.whole.closure_rate)) } }
                div { dt { "Median time to a first response" } dd { (days(figures.whole.median_days)) } }
            }
            p { a href="/shared" { "Answer the shared feedback still waiting" } }
            div class="charts" {
                (figure("themes", "Feedback by theme over time", &themes_summary(&figures), themes_empty(&figures), both(|size| charts::themes(&figures, size)), themes_table(&figures)))
                (figure("closure", "Loops closed", &closure_summary(&figures), closure_empty(&figures), both(|size| charts::closure(&figures, size)), loop_table(&figures)))
                (figure("response", "Time to a first response", &response_summary(&figures), response_empty(&figures), both(|size| charts::response(&figures, size)), response_table(&figures)))
                (figure("complaints", "Complaints by right", &complaints_summary(&figures), complaints_empty(&figures), both(|size| charts::complaints(&figures, size)), complaints_table(&figures)))
            }
            p { "Complaints are counted across every provider in West Sussex, whichever hub you choose." }
        }
    };
    page(&viewer, title, Some(&csrf), body).into_response()
}

fn themes_table(figures: &Figures) -> Markup {
    let heads: Vec<&str> = ["Theme"].into_iter().chain(figures.quarters.iter().map(|q| q.label.as_str())).collect();
    let rows =
        figures.themes.iter().map(|theme| (theme.name.clone(), theme.counts.iter().map(|c| count_words(*c)).collect()));
    figures_table("figures", "Items shared with you, by theme and quarter", &heads, rows)
}

fn loop_table(figures: &Figures) -> Markup {
    let shown = |count: Option<i64>| count.map_or(NOT_SHOWN.to_owned(), |n| n.to_string());
    let rows =
        figures.quarters.iter().zip(&figures.by_quarter).map(|(quarter, q)| {
            (quarter.label.clone(), vec![shown(q.shared), shown(q.closed), percent(q.closure_rate)])
        });
    figures_table("figures", "The loop, quarter by quarter", &["Quarter", "Shared", "Closed", "Loops closed"], rows)
}

fn response_table(figures: &Figures) -> Markup {
    let rows = figures
        .quarters
        .iter()
        .zip(&figures.by_quarter)
        .map(|(quarter, q)| (quarter.label.clone(), vec![days(q.median_days)]));
    figures_table(
        "figures",
        "Median time from sharing to a first response, quarter by quarter",
        &["Quarter", "Median"],
        rows,
    )
}

fn complaints_table(figures: &Figures) -> Markup {
    let rows = figures.articles.iter().map(|article| (article.label.clone(), vec![count_words(article.count)]));
    figures_table("figures", "Complaints by the article of the Bill of Rights", &["Article", "Complaints"], rows)
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    axum::Router::new().route("/dashboard", axum::routing::get(dashboard::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn the_dashboard_shows_four_quarters_ending_with_the_current_one_cut_at_today() {
        let quarters = quarters(d("2026-11-23"), 4);
        let spans: Vec<(String, String, &str)> =
            quarters.iter().map(|q| (q.from.to_string(), q.to.to_string(), q.label.as_str())).collect();
        assert_eq!(
            spans,
            vec![
                ("2026-01-01".to_owned(), "2026-03-31".to_owned(), "Jan to Mar 2026"),
                ("2026-04-01".to_owned(), "2026-06-30".to_owned(), "Apr to Jun 2026"),
                ("2026-07-01".to_owned(), "2026-09-30".to_owned(), "Jul to Sep 2026"),
                ("2026-10-01".to_owned(), "2026-11-23".to_owned(), "Oct to Dec 2026"),
            ]
        );
    }

    #[test]
    fn quarters_reach_back_across_the_new_year() {
        let quarters = quarters(d("2027-02-01"), 2);
        assert_eq!(quarters[0].from, d("2026-10-01"));
        assert_eq!(quarters[0].to, d("2026-12-31"));
        assert_eq!(quarters[1].label, "Jan to Mar 2027");
    }

    fn answer() -> DashboardAnswer {
        serde_json::from_value(json!({
            "whole": { "sharedItems": 40, "closedItems": 8, "loopClosureRate": 0.2, "medianWorkingDaysToFirstResponse": 3.0,
                "said": [
                    { "theme": "access", "name": "Access and waiting times", "count": 20 },
                    { "theme": "peer", "name": "Peer support", "count": 12 },
                    { "theme": "rare", "name": "Rare", "count": null }
                ] },
            "q0": { "sharedItems": 25, "said": [ { "theme": "access", "name": "Access and waiting times", "count": 15 }, { "theme": "peer", "name": "Peer support", "count": null } ] },
            "q1": { "sharedItems": 15, "said": [ { "theme": "access", "name": "Access and waiting times", "count": 5 }, { "theme": "peer", "name": "Peer support", "count": 8 } ] },
            "complaintPatterns": [
                { "keys": [ { "value": "10", "label": "Article 10: Support in criminal justice" } ], "count": 6 },
                { "keys": [ { "value": "5", "label": "Article 5: Respectful services" } ], "count": null },
                { "keys": [ { "value": "2", "label": "Article 2: The right to know" } ], "count": 9 }
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_suppressed_theme_count_stays_unknown_and_an_absent_theme_counts_as_none() {
        let quarters = quarters(d("2026-06-30"), 2);
        let figures = figures(&answer(), quarters);
        assert_eq!(figures.themes.len(), 2, "a theme suppressed over the whole year is not charted");
        assert_eq!(figures.themes[0].counts, vec![Some(15), Some(5)]);
        assert_eq!(figures.themes[1].counts, vec![None, Some(8)]);
        assert_eq!(figures.whole.closure_rate, Some(0.2));
        assert_eq!(figures.by_quarter[0].shared, Some(25));
    }

    #[test]
    fn articles_are_listed_in_the_charters_order_with_suppressed_ones_kept() {
        let figures = figures(&answer(), quarters(d("2026-06-30"), 2));
        let order: Vec<(&str, Option<i64>)> = figures.articles.iter().map(|a| (a.article.as_str(), a.count)).collect();
        assert_eq!(order, vec![("2", Some(9)), ("5", None), ("10", Some(6))]);
        assert_eq!(complaints_summary(&figures), "Most complaints were made under Article 2: The right to know: 9.");
    }

    /// Each chart of the dashboard, by name, drawn at `size`.
    fn every_chart(figures: &Figures, size: charts::Size) -> [(&'static str, Result<String, String>); 4] {
        [
            ("themes", charts::themes(figures, size)),
            ("closure", charts::closure(figures, size)),
            ("response", charts::response(figures, size)),
            ("complaints", charts::complaints(figures, size)),
        ]
    }

    #[test]
    fn every_chart_is_drawn_as_an_svg_image_whose_name_is_its_summary() {
        let figures = figures(&answer(), quarters(d("2026-06-30"), 2));
        for (name, drawn) in every_chart(&figures, charts::WIDE) {
            let svg = drawn.unwrap_or_else(|e| panic!("{name} is drawn: {e}"));
            let markup = accessible_svg(&svg, name, "A summary <in words>", "chart").into_string();
            assert!(
                markup.starts_with(&format!(r#"<svg role="img" aria-labelledby="{name}-summary""#)),
                "{markup:.120}"
            );
            assert!(markup.contains(&format!(r#"<title id="{name}-summary">A summary &lt;in words&gt;</title>"#)));
            assert!(markup.ends_with("</svg>\n") || markup.ends_with("</svg>"), "{name} is a whole SVG");
        }
        let themes = charts::themes(&figures, charts::WIDE).unwrap();
        assert!(themes.contains("Access and waiting times"), "the legend names the themes");
        let complaints = charts::complaints(&figures, charts::WIDE).unwrap();
        assert!(complaints.contains("Article 10"), "the bars are labelled by article");
    }

    #[test]
    fn a_period_without_complaints_shows_no_chart_rather_than_an_empty_one() {
        let mut figures = figures(&answer(), quarters(d("2026-06-30"), 2));
        figures.articles.clear();
        assert!(charts::complaints(&figures, charts::WIDE).is_err());
        assert_eq!(complaints_summary(&figures), "No article had enough complaints to show in this period.");
        assert_eq!(complaints_empty(&figures), Some("No complaints were made in this period."));
    }

    /// What each `<text>` of an SVG says.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|rest| Some(rest.split_once('>')?.1.split("</text>").next()?.trim().to_owned()))
            .collect()
    }

    /// The font sizes a chart's SVG gives its text.
    fn text_sizes(svg: &str) -> Vec<f64> {
        svg.split("font-size=\"").skip(1).filter_map(|rest| rest.split('"').next()?.parse().ok()).collect()
    }

    #[test]
    fn every_chart_has_a_phone_sized_version_whose_text_is_not_shrunk_below_12_px_on_a_phone() {
        let figures = figures(&answer(), quarters(d("2026-06-30"), 2));
        for (name, phone) in every_chart(&figures, charts::PHONE) {
            let svg = phone.unwrap_or_else(|e| panic!("{name} is drawn for a phone: {e}"));
            assert!(
                svg.contains(&format!("viewBox=\"0 0 {} {}\"", charts::PHONE.width, charts::PHONE.height)),
                "{name}"
            );
            let sizes = text_sizes(&svg);
            assert!(!sizes.is_empty(), "{name} has text");
            // A 320 px screen leaves 286 px for the chart: the smallest text is scaled by that.
            let scale = 286.0 / f64::from(charts::PHONE.width);
            for size in sizes {
                assert!(size * scale >= 12.0, "{name}: {size} px text would show at {:.1} px", size * scale);
            }
        }
        let phone = charts::themes(&figures, charts::PHONE).unwrap();
        let written = texts(&phone);
        assert!(
            written.iter().any(|t| t == "Jan–Mar") && written.iter().any(|t| t == "2026"),
            "two lines: {written:?}"
        );
        assert!(phone.contains("Access and waiting times"), "the legend under the chart");
    }

    #[test]
    fn an_empty_chart_says_why_instead_of_drawing_bare_axes() {
        let mut nothing = figures(&answer(), quarters(d("2026-06-30"), 2));
        nothing.whole.shared = Some(0);
        nothing.themes.clear();
        nothing.by_quarter.iter_mut().for_each(|q| *q = LoopFigures::default());
        assert_eq!(themes_empty(&nothing), Some("Nothing was shared in this period."));
        assert_eq!(closure_empty(&nothing), Some("Nothing was shared in this period."));
        assert_eq!(response_empty(&nothing), Some("Nothing was shared in this period."));
        nothing.whole.shared = None;
        assert!(themes_empty(&nothing).is_some_and(|why| why.contains("recognised")), "too few, said so");
        let markup =
            figure("themes", "Feedback", "Summary", themes_empty(&nothing), Err("x".into()), html! {}).into_string();
        assert!(!markup.contains("<svg") && markup.contains("chart-empty"), "{markup}");
        let drawn = figures(&answer(), quarters(d("2026-06-30"), 2));
        assert_eq!(themes_empty(&drawn), None);
    }

    #[test]
    fn an_axis_of_few_working_days_labels_each_whole_number_once() {
        let mut figures = figures(&answer(), quarters(d("2026-06-30"), 2));
        figures.by_quarter[0].median_days = Some(1.0);
        figures.by_quarter[1].median_days = Some(2.0);
        let svg = charts::response(&figures, charts::WIDE).unwrap();
        let written = texts(&svg);
        for n in 0..=5 {
            assert_eq!(written.iter().filter(|text| **text == n.to_string()).count(), 1, "{n} once: {written:?}");
        }
    }

    #[test]
    fn figures_in_words_say_plainly_when_a_count_is_hidden() {
        assert_eq!(count_words(None), "not shown", "a hidden count may be 5 or more (issue #13)");
        assert_eq!(percent(Some(0.256)), "26%");
        assert_eq!(days(Some(1.0)), "1 working day");
        assert_eq!(days(Some(3.0)), "3 working days");
        assert_eq!(days(Some(2.5)), "2.5 working days");
        assert_eq!(days(None), "no responses yet");
    }
}
