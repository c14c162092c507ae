//! The state machine as an SVG picture, laid out in Rust (no Graphviz, no JavaScript).
//!
//! A layered ("Sugiyama-style") layout of the graph `workflow graph` builds
//! ([`crate::cmd::graph::Graph`]), done per scope:
//!
//! 1. a depth-first walk from the scope's `StartAt` finds the *back edges* (an edge to a state
//!    still on the walk's stack: a Choice loop, a retry-by-transition) and leaves a DAG;
//! 2. each state's layer is its longest distance from the start in that DAG (the scope's End
//!    marker goes below everything);
//! 3. states in a layer are ordered by first discovery, then by two barycentre sweeps (the mean
//!    position of their predecessors) to reduce crossings;
//! 4. forward edges are curves from the bottom of one state to the top of another; back edges
//!    leave on the right, run up a lane beside the scope and enter the target on its right.
//!
//! Parallel branches and Map item processors are nested boxes inside their state's box, laid out
//! the same way (sizes bottom-up, positions top-down). Every state is one
//! `<g class="state" data-state="NAME" data-status="…">` element, and the colours of the
//! statuses come from the CSS in the picture's `<style>`, so a page can restyle them. The
//! output depends only on the definition and the statuses: no hash order, no floating point
//! in the coordinates (integers throughout), so snapshots are stable.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::cmd::graph::{Graph, Shape, Style};

/// A state's status in an execution, as `data-status` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// The state was never entered.
    NotRun,
    /// The state was entered and exited normally.
    Succeeded,
    /// The state's error was caught by its `Catch` (it exited after a failure).
    Caught,
    /// The state was entered and has not exited; the execution is still running.
    Running,
    /// The execution failed (or was stopped) in this state.
    Failed,
}

impl Status {
    /// The `data-status` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotRun => "not-run",
            Status::Succeeded => "succeeded",
            Status::Caught => "caught",
            Status::Running => "running",
            Status::Failed => "failed",
        }
    }
}

/// State name → status; a state not in the map is drawn `not-run`.
pub type Statuses = HashMap<String, Status>;

/// The CSS of the picture: shapes, and one colour per status.
pub const CSS: &str = "\
.wf-graph{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:12px}\
.wf-graph .state>rect,.wf-graph .state>polygon{fill:#f4f5f7;stroke:#9aa5b1;stroke-width:1.5}\
.wf-graph .state>.name{font-weight:600;fill:#1f2933}\
.wf-graph .state>.type{fill:#52606d;font-size:10px}\
.wf-graph .state{cursor:pointer}\
.wf-graph .state[data-status=succeeded]>rect,.wf-graph .state[data-status=succeeded]>polygon{fill:#dcf2dc;stroke:#2e7d32}\
.wf-graph .state[data-status=failed]>rect,.wf-graph .state[data-status=failed]>polygon{fill:#fbdada;stroke:#c62828}\
.wf-graph .state[data-status=caught]>rect,.wf-graph .state[data-status=caught]>polygon{fill:#ffe8c2;stroke:#e65100}\
.wf-graph .state[data-status=running]>rect,.wf-graph .state[data-status=running]>polygon{fill:#d6e8fb;stroke:#1565c0}\
.wf-graph .state[data-status=not-run]>rect,.wf-graph .state[data-status=not-run]>polygon{stroke-dasharray:4 3}\
.wf-graph .state.selected>rect,.wf-graph .state.selected>polygon{stroke-width:3}\
.wf-graph .scope>rect{fill:none;stroke:#9aa5b1;stroke-dasharray:5 4}\
.wf-graph .scope>text{fill:#52606d;font-size:10px}\
.wf-graph .edge{fill:none;stroke:#7b8794;stroke-width:1.3}\
.wf-graph .edge.dashed{stroke-dasharray:5 4}\
.wf-graph .edge.back{stroke:#8e6bbf}\
.wf-graph .edge-label{fill:#52606d;font-size:10px}\
.wf-graph .marker{fill:#52606d}\
.wf-graph .marker-text{fill:#fff;font-size:9px}";

const FONT_W: i64 = 7;
const NODE_H: i64 = 44;
const MIN_W: i64 = 110;
const MAX_LABEL: usize = 40;
const GAP_X: i64 = 36;
const GAP_Y: i64 = 56;
const PAD: i64 = 14;
const HEADER: i64 = 40;
const MARK: i64 = 24;
const LANE: i64 = 12;

/// Renders the graph with the given statuses.
pub fn render(g: &Graph, statuses: &Statuses) -> String {
    let layouts = layout_all(g);
    let top = &layouts[0];
    let width = top.w + 2 * PAD;
    let height = top.h + 2 * PAD;
    let mut s = String::with_capacity(4096 + 256 * g.edges.len());
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"wf-graph\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<style>{CSS}</style>\n\
         <defs><marker id=\"wf-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0 L10,5 L0,10 z\" fill=\"#7b8794\"/></marker></defs>\n"
    );
    let mut r = Renderer {
        g,
        layouts: &layouts,
        statuses,
        out: s,
    };
    r.scope(0, PAD, PAD);
    let mut s = r.out;
    s.push_str("</svg>\n");
    s
}

/// One item laid out in a scope: a state, or the Start/End marker.
#[derive(Debug, Clone)]
struct Item {
    /// The node id (`sN`, `finN`, or `start`).
    id: String,
    /// The index of the state in its scope's nodes, `None` for a marker.
    node: Option<usize>,
    w: i64,
    h: i64,
    x: i64,
    y: i64,
    /// The bottom of the item's layer (items are aligned to the top of their layer).
    row_bottom: i64,
}

/// An edge inside one scope, by item indices.
#[derive(Debug, Clone)]
struct LocalEdge {
    from: usize,
    to: usize,
    label: Option<String>,
    dashed: bool,
    back: bool,
    /// The lane on the scope's right this edge runs along (back edges, and forward edges that
    /// would cross a state), counted from 1.
    lane: Option<i64>,
}

/// A scope's layout, relative to its top-left corner.
#[derive(Debug, Clone, Default)]
struct ScopeLayout {
    items: Vec<Item>,
    edges: Vec<LocalEdge>,
    w: i64,
    h: i64,
    /// For each container state (by item index): its child scopes and their offsets inside it.
    nested: HashMap<usize, Vec<(usize, i64, i64)>>,
}

/// Lays out every scope, children before parents (a child's index is always larger).
fn layout_all(g: &Graph) -> Vec<ScopeLayout> {
    let mut layouts: Vec<ScopeLayout> = vec![ScopeLayout::default(); g.scopes.len()];
    // The scope a node id belongs to, for the edges.
    let mut home: HashMap<&str, (usize, usize)> = HashMap::new();
    for (si, scope) in g.scopes.iter().enumerate() {
        for (ni, n) in scope.nodes.iter().enumerate() {
            home.insert(n.id.as_str(), (si, ni));
        }
    }
    let mut edges_of: Vec<Vec<usize>> = vec![Vec::new(); g.scopes.len()];
    for (ei, e) in g.edges.iter().enumerate() {
        if let Some(&(si, _)) = home.get(e.from.as_str()) {
            edges_of[si].push(ei);
        }
    }
    for si in (0..g.scopes.len()).rev() {
        layouts[si] = layout_scope(g, si, &edges_of[si], &layouts);
    }
    layouts
}

fn text_w(text: &str) -> i64 {
    text.chars().count().min(MAX_LABEL) as i64 * FONT_W
}

fn layout_scope(g: &Graph, si: usize, edge_ids: &[usize], done: &[ScopeLayout]) -> ScopeLayout {
    let scope = &g.scopes[si];
    let mut items: Vec<Item> = Vec::with_capacity(scope.nodes.len() + 2);
    let mut index: HashMap<&str, usize> = HashMap::new();
    let marker = |id: &str| Item {
        id: id.to_owned(),
        node: None,
        w: MARK,
        h: MARK,
        x: 0,
        y: 0,
        row_bottom: 0,
    };
    let mut edges: Vec<LocalEdge> = Vec::new();
    let mut nested: HashMap<usize, Vec<(usize, i64, i64)>> = HashMap::new();
    let start_item = if si == 0 && g.start.is_some() {
        items.push(marker("start"));
        Some(0)
    } else {
        None
    };
    for (ni, n) in scope.nodes.iter().enumerate() {
        let label_w = text_w(&n.name).max(text_w(n.kind)) + 2 * PAD;
        let mut w = label_w.max(MIN_W);
        let mut h = NODE_H;
        if n.shape == Shape::Container {
            let children: Vec<usize> = scope
                .children
                .iter()
                .copied()
                .filter(|&c| g.scopes[c].owner.as_deref() == Some(n.id.as_str()))
                .collect();
            if !children.is_empty() {
                let inner_w: i64 = children.iter().map(|&c| done[c].w + 2 * PAD).sum::<i64>()
                    + GAP_X / 2 * (children.len() as i64 - 1);
                let inner_h = children
                    .iter()
                    .map(|&c| done[c].h + 2 * PAD + 14)
                    .max()
                    .unwrap_or(0);
                w = w.max(inner_w + 2 * PAD);
                h = HEADER + inner_h + PAD;
                let mut x = (w - inner_w) / 2;
                let mut placed = Vec::with_capacity(children.len());
                for &c in &children {
                    placed.push((c, x, HEADER));
                    x += done[c].w + 2 * PAD + GAP_X / 2;
                }
                nested.insert(items.len(), placed);
            }
        }
        index.insert(n.id.as_str(), items.len());
        items.push(Item {
            id: n.id.clone(),
            node: Some(ni),
            w,
            h,
            x: 0,
            y: 0,
            row_bottom: 0,
        });
    }
    let end_item = scope.end.as_ref().map(|end| {
        index.insert(end.as_str(), items.len());
        items.push(marker(end));
        items.len() - 1
    });
    if let (Some(s), Some(first)) = (start_item, g.start.as_deref()) {
        if let Some(&t) = index.get(first) {
            edges.push(LocalEdge {
                from: s,
                to: t,
                label: None,
                dashed: false,
                back: false,
                lane: None,
            });
        }
    }
    for &ei in edge_ids {
        let e = &g.edges[ei];
        if let (Some(&a), Some(&b)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) {
            edges.push(LocalEdge {
                from: a,
                to: b,
                label: e.label.clone(),
                dashed: e.style == Style::Dashed,
                back: false,
                lane: None,
            });
        }
    }
    let n = items.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in edges.iter().enumerate() {
        out[e.from].push(i);
    }
    // 1. Depth-first walk: discovery order, and back edges.
    let first = start_item.or_else(|| scope.first.as_deref().and_then(|f| index.get(f).copied()));
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut seen = vec![0u8; n]; // 0 new, 1 on stack, 2 done
    let roots: Vec<usize> = first.into_iter().chain(0..n).collect();
    for root in roots {
        if seen[root] != 0 {
            continue;
        }
        seen[root] = 1;
        order.push(root);
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (v, k) = *top;
            if k < out[v].len() {
                top.1 += 1;
                let ei = out[v][k];
                let t = edges[ei].to;
                match seen[t] {
                    0 => {
                        seen[t] = 1;
                        order.push(t);
                        stack.push((t, 0));
                    }
                    1 => edges[ei].back = true,
                    _ => {}
                }
            } else {
                seen[v] = 2;
                stack.pop();
            }
        }
    }
    // 2. Layers: longest path over the forward edges (Kahn's order).
    let mut indeg = vec![0usize; n];
    for e in edges.iter().filter(|e| !e.back) {
        indeg[e.to] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut queue: Vec<usize> = order.iter().copied().filter(|&v| indeg[v] == 0).collect();
    let mut qi = 0;
    while qi < queue.len() {
        let v = queue[qi];
        qi += 1;
        for &ei in &out[v] {
            let e = &edges[ei];
            if e.back {
                continue;
            }
            layer[e.to] = layer[e.to].max(layer[v] + 1);
            indeg[e.to] -= 1;
            if indeg[e.to] == 0 {
                queue.push(e.to);
            }
        }
    }
    if let Some(end) = end_item {
        let deepest = (0..n).filter(|&v| v != end).map(|v| layer[v]).max();
        layer[end] = deepest.map_or(0, |d| d + 1);
    }
    let layers_n = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers_n];
    for &v in &order {
        rows[layer[v]].push(v);
    }
    // 3. Order within layers: barycentres of predecessors, two sweeps.
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in edges.iter().filter(|e| !e.back && e.from != e.to) {
        preds[e.to].push(e.from);
    }
    let mut pos = vec![0usize; n];
    for row in &rows {
        for (i, &v) in row.iter().enumerate() {
            pos[v] = i;
        }
    }
    for _ in 0..2 {
        for row in rows.iter_mut().skip(1) {
            let key = |v: usize| -> (usize, usize) {
                if preds[v].is_empty() {
                    (pos[v] * 1000, v)
                } else {
                    let sum: usize = preds[v].iter().map(|&p| pos[p] * 1000).sum();
                    (sum / preds[v].len(), v)
                }
            };
            let mut keyed: Vec<((usize, usize), usize)> =
                row.iter().map(|&v| (key(v), v)).collect();
            keyed.sort();
            *row = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in row.iter().enumerate() {
                pos[v] = i;
            }
        }
    }
    // 4. Coordinates: rows centred on the widest one; a lane on the right per back edge.
    let row_w: Vec<i64> = rows
        .iter()
        .map(|row| {
            row.iter().map(|&v| items[v].w).sum::<i64>()
                + GAP_X * (row.len().saturating_sub(1) as i64)
        })
        .collect();
    let content_w = row_w.iter().copied().max().unwrap_or(0).max(MARK);
    let mut y = 0;
    for (row, &rw) in rows.iter().zip(&row_w) {
        let row_h = row.iter().map(|&v| items[v].h).max().unwrap_or(0);
        let mut x = (content_w - rw) / 2;
        for &v in row {
            items[v].x = x;
            items[v].y = y;
            items[v].row_bottom = y + row_h;
            x += items[v].w + GAP_X;
        }
        y += row_h + GAP_Y;
    }
    let h = (y - GAP_Y).max(MARK);
    // 5. Lanes: back edges, and forward edges whose straight course would cross a state.
    let mut lanes = 0i64;
    for e in &mut edges {
        let needs_lane = e.back || e.from == e.to || {
            let (a, b) = (&items[e.from], &items[e.to]);
            let (x1, x2) = (a.x + a.w / 2, b.x + b.w / 2);
            let (lo, hi) = (x1.min(x2) - 6, x1.max(x2) + 6);
            (layer[e.from] + 1..layer[e.to]).any(|l| {
                rows[l]
                    .iter()
                    .any(|&v| items[v].x < hi && items[v].x + items[v].w > lo)
            })
        };
        if needs_lane {
            lanes += 1;
            e.lane = Some(lanes);
        }
    }
    let w = content_w + if lanes > 0 { PAD + LANE * lanes } else { 0 };
    ScopeLayout {
        items,
        edges,
        w,
        h,
        nested,
    }
}

struct Renderer<'a> {
    g: &'a Graph,
    layouts: &'a [ScopeLayout],
    statuses: &'a Statuses,
    out: String,
}

impl Renderer<'_> {
    /// Draws scope `si` with its top-left corner at `(ox, oy)`.
    fn scope(&mut self, si: usize, ox: i64, oy: i64) {
        let layouts = self.layouts;
        let lay = &layouts[si];
        let scope = &self.g.scopes[si];
        let _ = writeln!(self.out, "<g class=\"edges\">");
        for e in &lay.edges {
            let (a, b) = (&lay.items[e.from], &lay.items[e.to]);
            let class = match (e.dashed, e.back) {
                (_, true) => "edge back",
                (true, false) => "edge dashed",
                (false, false) => "edge",
            };
            let (d, lx, ly) = if let Some(lane) = e.lane {
                // Down into the gap below the source, along the lane, into the gap above the
                // target, and down into it: the gaps hold edges only, never states.
                let off = 8 + 5 * (lane % 4);
                let x1 = ox + a.x + a.w / 2;
                let y1 = oy + a.y + a.h;
                let below = oy + a.row_bottom + off;
                let x2 = ox + b.x + b.w / 2;
                let y2 = oy + b.y;
                let lx = ox + lay.w - LANE * (lane - 1);
                (
                    format!("M{x1},{y1} V{below} H{lx} V{} H{x2} V{y2}", y2 - off),
                    x1 + 6,
                    below + 12,
                )
            } else {
                let x1 = ox + a.x + a.w / 2;
                let y1 = oy + a.y + a.h;
                let x2 = ox + b.x + b.w / 2;
                let y2 = oy + b.y;
                // The bend happens in the gap below the source's layer, which holds no state.
                let mid = (oy + a.row_bottom + y2) / 2;
                (
                    format!(
                        "M{x1},{y1} V{} C{x1},{mid} {x2},{mid} {x2},{y2}",
                        oy + a.row_bottom
                    ),
                    x2 + 5,
                    y2 - 6,
                )
            };
            let _ = writeln!(
                self.out,
                "<path class=\"{class}\" d=\"{d}\" marker-end=\"url(#wf-arrow)\"/>"
            );
            if let Some(label) = &e.label {
                let _ = writeln!(
                    self.out,
                    "<text class=\"edge-label\" x=\"{lx}\" y=\"{ly}\">{}</text>",
                    xml(&clip(label, MAX_LABEL))
                );
            }
        }
        let _ = writeln!(self.out, "</g>");
        for (ii, item) in lay.items.iter().enumerate() {
            let (x, y) = (ox + item.x, oy + item.y);
            let Some(ni) = item.node else {
                let text = if item.id == "start" { "Start" } else { "End" };
                let r = MARK / 2;
                let _ = writeln!(
                    self.out,
                    "<g class=\"marker-node\"><circle class=\"marker\" cx=\"{}\" cy=\"{}\" r=\"{r}\"/>\
                     <text class=\"marker-text\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{text}</text></g>",
                    x + r,
                    y + r,
                    x + r,
                    y + r + 3
                );
                continue;
            };
            let node = &scope.nodes[ni];
            let status = self
                .statuses
                .get(&node.name)
                .copied()
                .unwrap_or(Status::NotRun);
            let _ = write!(
                self.out,
                "<g class=\"state\" data-state=\"{}\" data-status=\"{}\" data-type=\"{}\">",
                xml(&node.name),
                status.as_str(),
                node.kind
            );
            let (w, h) = (item.w, item.h);
            match node.shape {
                Shape::Decision => {
                    let _ = write!(
                        self.out,
                        "<polygon points=\"{},{y} {},{} {},{} {x},{}\"/>",
                        x + w / 2,
                        x + w,
                        y + h / 2,
                        x + w / 2,
                        y + h,
                        y + h / 2
                    );
                }
                Shape::Success | Shape::Failure => {
                    let _ = write!(
                        self.out,
                        "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"{}\"/>",
                        h / 2
                    );
                }
                _ => {
                    let _ = write!(
                        self.out,
                        "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\"/>"
                    );
                }
            }
            let cx = x + w / 2;
            let text_y = if node.shape == Shape::Container && lay.nested.contains_key(&ii) {
                y + 17
            } else {
                y + h / 2 - 2
            };
            let _ = writeln!(
                self.out,
                "<title>{} ({})</title><text class=\"name\" x=\"{cx}\" y=\"{text_y}\" \
                 text-anchor=\"middle\">{}</text><text class=\"type\" x=\"{cx}\" y=\"{}\" \
                 text-anchor=\"middle\">{}</text>",
                xml(&node.name),
                node.kind,
                xml(&clip(&node.name, MAX_LABEL)),
                text_y + 13,
                node.kind
            );
            if let Some(children) = lay.nested.get(&ii) {
                for &(c, dx, dy) in children {
                    let child = &layouts[c];
                    let (bx, by) = (x + dx, y + dy);
                    let _ = writeln!(
                        self.out,
                        "<g class=\"scope\"><rect x=\"{bx}\" y=\"{by}\" width=\"{}\" height=\"{}\" rx=\"8\"/>\
                         <text x=\"{}\" y=\"{}\">{}</text>",
                        child.w + 2 * PAD,
                        child.h + 2 * PAD + 14,
                        bx + 6,
                        by + 12,
                        xml(&clip(&self.g.scopes[c].title, MAX_LABEL + 20))
                    );
                    self.scope(c, bx + PAD, by + PAD + 14);
                    self.out.push_str("</g>\n");
                }
            }
            self.out.push_str("</g>\n");
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Text for XML content and attribute values.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svg(def: &str, statuses: &Statuses) -> String {
        let m = workflow_asl::check_str(def).machine.expect("an object");
        render(&Graph::build(&m), statuses)
    }

    const LOOP: &str = r#"{"StartAt": "Poll", "States": {
        "Poll": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:echo", "Next": "Done?"},
        "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": true, "Next": "Fan"}], "Default": "Poll"},
        "Fan": {"Type": "Parallel", "Next": "Each", "Branches": [
            {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
            {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": 1, "Next": "C"}, "C": {"Type": "Pass", "End": true}}}]},
        "Each": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Item <1> & \"x\"", "States": {"Item <1> & \"x\"": {"Type": "Succeed"}}}}}}"#;

    #[test]
    fn every_state_is_one_element_with_its_status() {
        let out = svg(LOOP, &Statuses::new());
        for name in ["Poll", "Done?", "Fan", "A", "B", "C", "Each"] {
            assert_eq!(
                out.matches(&format!("data-state=\"{name}\"")).count(),
                1,
                "{name}: {out}"
            );
        }
        assert_eq!(
            out.matches("data-state=\"Item &lt;1&gt; &amp; &quot;x&quot;\"")
                .count(),
            1
        );
        assert_eq!(out.matches("data-state=").count(), 8);
        assert_eq!(out.matches("data-status=\"not-run\"").count(), 8);
        assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(out.ends_with("</svg>\n"));
        // Balanced groups.
        assert_eq!(
            out.matches("<g ").count() + out.matches("<g>").count(),
            out.matches("</g>").count()
        );
    }

    #[test]
    fn statuses_are_drawn_and_the_loop_is_a_back_edge() {
        let statuses: Statuses = [
            ("Poll".to_owned(), Status::Succeeded),
            ("Done?".to_owned(), Status::Running),
            ("A".to_owned(), Status::Caught),
            ("C".to_owned(), Status::Failed),
        ]
        .into_iter()
        .collect();
        let out = svg(LOOP, &statuses);
        assert!(out.contains("data-state=\"Poll\" data-status=\"succeeded\""));
        assert!(out.contains("data-state=\"Done?\" data-status=\"running\""));
        assert!(out.contains("data-state=\"A\" data-status=\"caught\""));
        assert!(out.contains("data-state=\"C\" data-status=\"failed\""));
        assert!(out.contains("data-state=\"B\" data-status=\"not-run\""));
        assert_eq!(out.matches("class=\"edge back\"").count(), 1, "{out}");
        assert_eq!(out.matches("class=\"scope\"").count(), 3);
    }

    #[test]
    fn the_output_is_deterministic() {
        let a = svg(LOOP, &Statuses::new());
        for _ in 0..5 {
            assert_eq!(svg(LOOP, &Statuses::new()), a);
        }
    }

    #[test]
    fn a_long_chain_lays_out_without_recursion() {
        let mut states = serde_json::Map::new();
        for i in 0..5000 {
            let next = if i == 4999 {
                serde_json::json!({"Type": "Pass", "End": true})
            } else {
                serde_json::json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
            };
            states.insert(format!("S{i}"), next);
        }
        let def = serde_json::json!({"StartAt": "S0", "States": states}).to_string();
        let out = svg(&def, &Statuses::new());
        assert_eq!(out.matches("data-state=").count(), 5000);
    }
}
