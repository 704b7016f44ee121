//! A small SVG renderer for both pictures, used when Graphviz is not
//! installed. The part outside clusters (the incident, the levels with
//! their rules, the procedures; or the whole question diagram) is drawn as
//! rows of nodes ranked by the longest path from its first nodes; each
//! cluster (a route) likewise, and the clusters are packed in rows below it,
//! the row width chosen so that the page is as close to A3's proportions as
//! it can be (the picture is meant to be printed on one page). Edges are
//! straight. Graphviz draws better charts; this one is readable and needs
//! nothing installed.

use std::fmt::Write;

use super::dot::{
    FONT, FONT_HEAD, FONT_TITLE, Flowchart, Item, Shape, WRAP, WRAP_CLUSTER, WRAP_TITLE, box_lines,
    wrap,
};

/// Line height, as a multiple of the font size.
const LEADING: f64 = 1.2;
/// The width of an average character, as a multiple of the font size
/// (generous for Helvetica, so text stays inside its box).
const EM: f64 = 0.52;
const ROW_GAP: f64 = 18.0;
const COL_GAP: f64 = 14.0;
const MARGIN: f64 = 20.0;
const PAD: f64 = 4.0;
/// Characters per line in a column. Narrower than Graphviz's columns
/// ([`super::dot::WRAP_ITEM`]): this renderer sets the columns in one row
/// however wide they are, where Graphviz can tuck them over the routes.
const COLUMN_WRAP: usize = 52;
/// A3 in points, long side and short side.
const A3: (f64, f64) = (1191.0, 842.0);

#[derive(Clone, Copy, Default)]
struct Place {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// A column's lines: text, size, bold, italic, grey, fill (the heading's
/// or an entry's), and the entry it belongs to.
struct Line {
    text: String,
    size: f64,
    bold: bool,
    italic: bool,
    grey: bool,
    /// Starts a new cell (a gap and, for a filled one, a band).
    cell: Option<Option<&'static str>>,
}

fn column_lines(label: &str, fill: &'static str, items: &[Item]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut head = label.split('\n');
    for (k, l) in wrap(head.next().unwrap_or_default(), COLUMN_WRAP * 10 / 12)
        .into_iter()
        .enumerate()
    {
        lines.push(Line {
            text: l,
            size: FONT_HEAD,
            bold: true,
            italic: false,
            grey: false,
            cell: (k == 0).then_some(Some(fill)),
        });
    }
    for rest in head {
        for l in wrap(rest, COLUMN_WRAP) {
            lines.push(plain_line(l, false));
        }
    }
    for item in items {
        match item {
            Item::Heading(text) => {
                for (k, l) in wrap(text, COLUMN_WRAP).into_iter().enumerate() {
                    lines.push(Line {
                        italic: true,
                        cell: (k == 0).then_some(None),
                        ..plain_line(l, false)
                    });
                }
            }
            Item::Entry { text, detail, fill } => {
                for (k, l) in wrap(text, COLUMN_WRAP).into_iter().enumerate() {
                    lines.push(Line {
                        cell: (k == 0).then_some(*fill),
                        ..plain_line(l, false)
                    });
                }
                if !detail.is_empty() {
                    for l in wrap(detail, COLUMN_WRAP + 4) {
                        lines.push(plain_line(l, true));
                    }
                }
            }
        }
    }
    lines
}

fn plain_line(text: String, grey: bool) -> Line {
    Line {
        text,
        size: FONT,
        bold: false,
        italic: false,
        grey,
        cell: None,
    }
}

const CELL_GAP: f64 = 4.0;

fn column_size(lines: &[Line]) -> (f64, f64) {
    let w = lines
        .iter()
        .map(|l| l.text.chars().count() as f64 * l.size * EM * if l.bold { 1.08 } else { 1.0 })
        .fold(0.0, f64::max);
    let h: f64 = lines
        .iter()
        .map(|l| l.size * LEADING + if l.cell.is_some() { CELL_GAP } else { 0.0 })
        .sum();
    (w + 2.0 * PAD, h + 2.0 * PAD)
}

/// The picture as an SVG document.
pub fn render(chart: &Flowchart) -> String {
    let n = chart.nodes.len();
    let labels: Vec<Vec<String>> = chart.nodes.iter().map(|c| box_lines(&c.label)).collect();
    let columns: Vec<Option<Vec<Line>>> = chart
        .nodes
        .iter()
        .map(|c| {
            matches!(c.shape, Shape::Column { .. })
                .then(|| column_lines(&c.label, c.fill, &c.items))
        })
        .collect();
    let mut place = vec![Place::default(); n];
    for (i, lines) in labels.iter().enumerate() {
        if let Some(col) = &columns[i] {
            (place[i].w, place[i].h) = column_size(col);
            continue;
        }
        let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
        let (w, h) = (
            chars * FONT * EM + 2.0 * PAD + 4.0,
            lines.len() as f64 * FONT * LEADING + 2.0 * PAD,
        );
        let (w, h) = match chart.nodes[i].shape {
            Shape::Question => (w * 1.5, h * 1.6),
            _ => (w.max(60.0), h),
        };
        place[i].w = w;
        place[i].h = h;
    }

    let title = wrap(&chart.title, WRAP_TITLE);
    let title_h = FONT_TITLE * LEADING + (title.len() as f64 - 1.0) * FONT_HEAD * LEADING;
    let top_y = MARGIN + title_h + 10.0;
    let top: Vec<usize> = (0..n)
        .filter(|i| chart.nodes[*i].cluster.is_none())
        .collect();
    let (tw, th) = layout(chart, &top, &mut place, MARGIN, top_y);

    // Each cluster laid out on its own at the origin, then packed.
    let mut frames: Vec<(usize, Vec<usize>, f64, f64)> = Vec::new();
    for ci in 0..chart.clusters.len() {
        let members: Vec<usize> = (0..n)
            .filter(|i| chart.nodes[*i].cluster == Some(ci))
            .collect();
        if members.is_empty() {
            continue;
        }
        let title_lines = wrap(&chart.clusters[ci], WRAP_CLUSTER).len() as f64;
        let head = title_lines * FONT_HEAD * LEADING + 12.0;
        let (w, h) = layout(chart, &members, &mut place, 12.0, head);
        frames.push((ci, members, (w + 24.0).max(120.0), h + head + 12.0));
    }
    let below = top_y + th + if top.is_empty() { 0.0 } else { ROW_GAP };
    let (rows, width, height) = pack(&frames, tw, below);
    let mut boxes: Vec<(usize, f64, f64, f64, f64)> = Vec::new();
    for (k, (fx, fy)) in rows.iter().enumerate() {
        let (ci, members, fw, fh) = &frames[k];
        for &i in members {
            place[i].x += fx;
            place[i].y += fy;
        }
        boxes.push((*ci, *fx, *fy, *fw, *fh));
    }
    // Centre the top part over what is below it.
    let shift = ((width - 2.0 * MARGIN - tw) / 2.0).max(0.0);
    for &i in &top {
        place[i].x += shift;
    }

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}pt" height="{height:.0}pt" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif">"#
    );
    svg.push_str(concat!(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">"#,
        r##"<path d="M 0 0 L 10 5 L 0 10 z" fill="#555555"/></marker></defs>"##,
        "\n"
    ));
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for (k, line) in title.iter().enumerate() {
        let (size, y) = if k == 0 {
            (FONT_TITLE, MARGIN + FONT_TITLE)
        } else {
            (
                FONT_HEAD,
                MARGIN + FONT_TITLE * LEADING + k as f64 * FONT_HEAD * LEADING,
            )
        };
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{y:.1}" text-anchor="middle" font-size="{size}">{}</text>"#,
            width / 2.0,
            xml(line)
        );
    }
    for (ci, fx, fy, fw, fh) in &boxes {
        let _ = writeln!(
            svg,
            r##"<rect x="{fx:.1}" y="{fy:.1}" width="{fw:.1}" height="{fh:.1}" rx="8" fill="none" stroke="#999999"/>"##
        );
        for (k, line) in wrap(&chart.clusters[*ci], WRAP_CLUSTER).iter().enumerate() {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="{FONT_HEAD}">{}</text>"#,
                fx + fw / 2.0,
                fy + 4.0 + (k as f64 + 1.0) * FONT_HEAD * LEADING,
                xml(line)
            );
        }
    }
    for e in &chart.edges {
        let (a, b) = (place[e.from], place[e.to]);
        let (x1, y1) = (a.x + a.w / 2.0, a.y + a.h);
        let (x2, y2) = if b.y > a.y {
            (b.x + b.w / 2.0, b.y)
        } else {
            // Upwards or sideways: into the target's side.
            (b.x + if b.x > a.x { 0.0 } else { b.w }, b.y + b.h / 2.0)
        };
        let dash = if e.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#555555"{dash} marker-end="url(#arrow)"/>"##
        );
        if !e.label.is_empty() {
            // A branch's answer by the decision; other labels midway.
            let t = if e.at_tail { 0.2 } else { 0.5 };
            let (mx, my) = (x1 + (x2 - x1) * t, y1 + (y2 - y1) * t + FONT);
            for (k, line) in wrap(&e.label, WRAP).iter().enumerate() {
                let _ = writeln!(
                    svg,
                    r#"<text x="{mx:.1}" y="{:.1}" text-anchor="middle" font-size="{FONT}" stroke="white" stroke-width="3" paint-order="stroke">{}</text>"#,
                    my + k as f64 * FONT * LEADING,
                    xml(line)
                );
            }
        }
    }
    for (i, node) in chart.nodes.iter().enumerate() {
        let p = place[i];
        let _ = write!(svg, "<g>");
        if !node.tooltip.is_empty() {
            let _ = write!(svg, "<title>{}</title>", xml(&node.tooltip));
        }
        if let Some(lines) = &columns[i] {
            draw_column(&mut svg, p, lines, node.shape);
            svg.push_str("</g>\n");
            continue;
        }
        let style = format!(r##"fill="{}" stroke="#333333""##, node.fill);
        let (cx, cy) = (p.x + p.w / 2.0, p.y + p.h / 2.0);
        let _ = match node.shape {
            Shape::Start => write!(
                svg,
                r#"<ellipse cx="{cx:.1}" cy="{cy:.1}" rx="{:.1}" ry="{:.1}" {style}/>"#,
                p.w / 2.0,
                p.h / 2.0
            ),
            Shape::Question => write!(
                svg,
                r#"<polygon points="{cx:.1},{:.1} {:.1},{cy:.1} {cx:.1},{:.1} {:.1},{cy:.1}" {style}/>"#,
                p.y,
                p.x + p.w,
                p.y + p.h,
                p.x
            ),
            Shape::Level | Shape::Decision => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8" {style} stroke-width="2"/>"#,
                p.x, p.y, p.w, p.h
            ),
            Shape::Judgement => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="8" {style} stroke-width="2" stroke-dasharray="6 4"/>"#,
                p.x, p.y, p.w, p.h
            ),
            Shape::Outcome => {
                let c = 8.0;
                write!(
                    svg,
                    r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" {style}/>"#,
                    p.x + c,
                    p.y,
                    p.x + p.w - c,
                    p.y,
                    p.x + p.w,
                    p.y + c,
                    p.x + p.w,
                    p.y + p.h - c,
                    p.x + p.w - c,
                    p.y + p.h,
                    p.x + c,
                    p.y + p.h,
                    p.x,
                    p.y + p.h - c,
                    p.x,
                    p.y + c
                )
            }
            Shape::Step | Shape::Note | Shape::Column { .. } => write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {style}/>"#,
                p.x, p.y, p.w, p.h
            ),
        };
        let lines = &labels[i];
        let step = FONT * LEADING;
        let first = cy - (lines.len() as f64 - 1.0) * step / 2.0 + FONT * 0.35;
        for (k, line) in lines.iter().enumerate() {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="{FONT}">{}</text>"#,
                first + k as f64 * step,
                xml(line)
            );
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// A column: its outline, a band for the heading and each filled entry,
/// its lines left-aligned.
fn draw_column(svg: &mut String, p: Place, lines: &[Line], shape: Shape) {
    let dash = match shape {
        Shape::Column { dashed: true } => r#" stroke-dasharray="6 4""#,
        _ => "",
    };
    // The bands: each cell from its first line to the next cell.
    let mut y = p.y + PAD;
    let mut cells: Vec<(f64, Option<&'static str>)> = Vec::new();
    let mut tops: Vec<f64> = Vec::new();
    for l in lines {
        if let Some(fill) = l.cell {
            if !cells.is_empty() {
                y += CELL_GAP;
            }
            cells.push((y - PAD / 2.0, fill));
        }
        tops.push(y);
        y += l.size * LEADING;
    }
    let bottom = p.y + p.h;
    let _ = write!(
        svg,
        r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="white" stroke="#333333"{dash}/>"##,
        p.x, p.y, p.w, p.h
    );
    for (k, (top, fill)) in cells.iter().enumerate() {
        let Some(fill) = fill else { continue };
        let end = cells.get(k + 1).map_or(bottom, |c| c.0);
        let top = if k == 0 { p.y } else { *top };
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
            p.x + 0.5,
            p.w - 1.0,
            end - top
        );
    }
    for (l, top) in lines.iter().zip(&tops) {
        let mut attrs = format!(r#"font-size="{}""#, l.size);
        if l.bold {
            attrs.push_str(r#" font-weight="bold""#);
        }
        if l.italic {
            attrs.push_str(r#" font-style="italic""#);
        }
        if l.grey {
            attrs.push_str(r##" fill="#444444""##);
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" {attrs}>{}</text>"#,
            p.x + PAD,
            top + l.size,
            xml(&l.text)
        );
    }
}

/// Where each frame goes: rows of frames, left to right, each row as wide
/// as the widest that keeps the whole page closest to A3's proportions
/// (tried for every width that starts a new row at a frame). Returns each
/// frame's corner, and the page's width and height.
fn pack(
    frames: &[(usize, Vec<usize>, f64, f64)],
    top_w: f64,
    top: f64,
) -> (Vec<(f64, f64)>, f64, f64) {
    let place_rows = |limit: f64| -> (Vec<(f64, f64)>, f64, f64) {
        let mut at = Vec::with_capacity(frames.len());
        let (mut x, mut y, mut row_h, mut width) = (MARGIN, top, 0.0_f64, MARGIN + top_w);
        for (_, _, w, h) in frames {
            if x > MARGIN && x + w > MARGIN + limit {
                x = MARGIN;
                y += row_h + COL_GAP;
                row_h = 0.0;
            }
            at.push((x, y));
            x += w + COL_GAP;
            row_h = row_h.max(*h);
            width = width.max(x - COL_GAP);
        }
        (at, width + MARGIN, y + row_h + MARGIN)
    };
    let scale = |w: f64, h: f64| {
        let portrait = (A3.1 / w).min(A3.0 / h);
        let landscape = (A3.0 / w).min(A3.1 / h);
        portrait.max(landscape)
    };
    let mut limits: Vec<f64> = vec![top_w];
    let mut sum = 0.0;
    for (_, _, w, _) in frames {
        sum += w + COL_GAP;
        limits.push(sum - COL_GAP);
        limits.push(*w);
    }
    let mut best = place_rows(f64::MAX);
    for limit in limits {
        let candidate = place_rows(limit);
        if scale(candidate.1, candidate.2) > scale(best.1, best.2) {
            best = candidate;
        }
    }
    best
}

/// Place `members` in rows from (`x`, `y`); returns the width and height.
fn layout(chart: &Flowchart, members: &[usize], place: &mut [Place], x: f64, y: f64) -> (f64, f64) {
    let inside = |i: usize| members.binary_search(&i).is_ok();
    let edges: Vec<(usize, usize)> = chart
        .edges
        .iter()
        .filter(|e| inside(e.from) && inside(e.to) && e.from != e.to)
        .map(|e| (e.from, e.to))
        .collect();
    // Rank: longest path, ignoring edges that close a cycle (found by a
    // depth-first search from the nodes in order).
    let mut state = vec![0u8; chart.nodes.len()];
    let mut forward: Vec<(usize, usize)> = Vec::new();
    let mut post: Vec<usize> = Vec::new();
    for &s in members {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some((v, k)) = stack.pop() {
            let out: Vec<usize> = edges.iter().filter(|e| e.0 == v).map(|e| e.1).collect();
            if k < out.len() {
                stack.push((v, k + 1));
                let w = out[k];
                match state[w] {
                    0 => {
                        forward.push((v, w));
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => {}
                    _ => forward.push((v, w)),
                }
            } else {
                state[v] = 2;
                post.push(v);
            }
        }
    }
    let mut rank = vec![0usize; chart.nodes.len()];
    for &v in post.iter().rev() {
        for &(a, b) in forward.iter().filter(|e| e.0 == v) {
            rank[b] = rank[b].max(rank[a] + 1);
        }
    }
    // A column nothing leads to (the settings without a route) sits with
    // the other columns, not above them.
    let is_column = |i: usize| matches!(chart.nodes[i].shape, Shape::Column { .. });
    let row_of_columns = members
        .iter()
        .filter(|i| is_column(**i) && rank[**i] > 0)
        .map(|i| rank[*i])
        .min();
    if let Some(r) = row_of_columns {
        for &i in members {
            if is_column(i) && rank[i] == 0 {
                rank[i] = r;
            }
        }
    }
    let rows = members.iter().map(|i| rank[*i]).max().map_or(0, |r| r + 1);
    let mut width: f64 = 0.0;
    let mut top = y;
    let mut row_x: Vec<f64> = Vec::new();
    for r in 0..rows {
        let mut row: Vec<usize> = members.iter().copied().filter(|i| rank[*i] == r).collect();
        // Order by where the nodes above that lead here are.
        let centre = |i: usize, place: &[Place]| {
            let from: Vec<f64> = edges
                .iter()
                .filter(|e| e.1 == i && rank[e.0] < r)
                .map(|e| place[e.0].x + place[e.0].w / 2.0)
                .collect();
            if from.is_empty() {
                f64::MAX
            } else {
                from.iter().sum::<f64>() / from.len() as f64
            }
        };
        row.sort_by(|a, b| {
            centre(*a, place)
                .total_cmp(&centre(*b, place))
                .then(a.cmp(b))
        });
        let h = row.iter().map(|i| place[*i].h).fold(0.0, f64::max);
        let mut cx = x;
        for &i in &row {
            place[i].x = cx;
            // Columns hang from the top of their row, as lists do; other
            // nodes are centred in it.
            place[i].y = if is_column(i) {
                top
            } else {
                top + (h - place[i].h) / 2.0
            };
            cx += place[i].w + COL_GAP;
        }
        row_x.push(cx - COL_GAP - x);
        width = width.max(cx - COL_GAP - x);
        top += h + ROW_GAP;
    }
    // Centre each row.
    for (r, row_width) in row_x.iter().enumerate() {
        let shift = (width - row_width) / 2.0;
        for &i in members.iter().filter(|i| rank[**i] == r) {
            place[i].x += shift;
        }
    }
    (width, (top - ROW_GAP - y).max(0.0))
}

/// Text for SVG: the five XML specials escaped, control characters dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
