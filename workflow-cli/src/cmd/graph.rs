//! `workflow graph FILE --format mermaid|dot`: states as nodes; `Next`, Choice rule, `Default`
//! and Catch transitions as labelled edges; Parallel branches and Map item processors as
//! subgraphs (Mermaid) or clusters (DOT); `--format svg` draws it as a picture
//! ([`crate::svg`]) with every state `data-status="not-run"`.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use indexmap::IndexMap;
use workflow_asl::model::{ChoiceRule, Condition, ProcessorKey, State, StateKind};
use workflow_asl::StateMachine;

use super::substitute::SubstituteArgs;
use super::{read_report_with, INVALID, OK};

/// Arguments of `workflow graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
    /// `--substitute NAME=VALUE`, `--substitutions FILE.json`: fill in `${NAME}` placeholders.
    #[command(flatten)]
    pub substitutions: SubstituteArgs,
}

/// The graph languages `graph` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid `flowchart`.
    Mermaid,
    /// A Graphviz `digraph`.
    Dot,
    /// An SVG picture (layered layout; Parallel branches and Map processors as nested boxes).
    Svg,
}

/// Runs `workflow graph`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (name, _, report) = match read_report_with(&args.file, &args.substitutions, err) {
        Ok(read) => read,
        Err(status) => return status,
    };
    let Some(machine) = &report.machine else {
        return INVALID;
    };
    let errors = report.errors().count();
    if errors > 0 {
        let _ = writeln!(
            err,
            "{name}: warning: the definition has {errors} problem(s) (see `workflow validate`); drawing what can be drawn"
        );
    }
    let graph = Graph::build(machine);
    let rendered = match args.format {
        GraphFormat::Mermaid => graph.mermaid(),
        GraphFormat::Dot => graph.dot(),
        GraphFormat::Svg => crate::svg::render(&graph, &crate::svg::Statuses::new()),
    };
    let _ = out.write_all(rendered.as_bytes());
    OK
}

/// The shape a state is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Task, Pass, Wait.
    Step,
    /// Choice.
    Decision,
    /// Parallel, Map.
    Container,
    /// Succeed.
    Success,
    /// Fail.
    Failure,
}

/// A node: one state.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) id: String,
    /// The state's name.
    pub(crate) name: String,
    /// The state's `Type`.
    pub(crate) kind: &'static str,
    label: String,
    pub(crate) shape: Shape,
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// A transition (`Next`, Choice rule, `Default`).
    Solid,
    /// A Catch transition, or the entry into a branch or item processor.
    Dashed,
}

#[derive(Debug)]
pub(crate) struct Edge {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) label: Option<String>,
    pub(crate) style: Style,
}

/// A scope: the machine, a Parallel branch or a Map item processor.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) title: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) children: Vec<usize>,
    /// The node id of this scope's terminal marker, when some state ends the scope.
    pub(crate) end: Option<String>,
    /// The node id of the Parallel or Map state this scope belongs to (`None` for the machine).
    pub(crate) owner: Option<String>,
    /// The node id of the scope's `StartAt` state, when it names one.
    pub(crate) first: Option<String>,
}

/// The whole drawing, independent of the output language.
#[derive(Debug)]
pub(crate) struct Graph {
    pub(crate) scopes: Vec<Scope>,
    pub(crate) edges: Vec<Edge>,
    pub(crate) start: Option<String>,
}

/// What `build` still has to visit.
struct Pending<'a> {
    scope: usize,
    states: &'a IndexMap<String, State>,
    start_at: &'a str,
    owner: Option<(String, String)>,
}

impl Graph {
    /// Lays out the machine, visiting nested scopes with an explicit work list.
    pub(crate) fn build(machine: &StateMachine) -> Graph {
        let mut g = Graph {
            scopes: vec![Scope {
                title: String::new(),
                nodes: Vec::new(),
                children: Vec::new(),
                end: None,
                owner: None,
                first: None,
            }],
            edges: Vec::new(),
            start: None,
        };
        let mut counter = 0usize;
        // First in, first out: scopes are numbered in the order they are written.
        let mut work = VecDeque::from([Pending {
            scope: 0,
            states: &machine.states,
            start_at: &machine.start_at,
            owner: None,
        }]);
        while let Some(p) = work.pop_front() {
            let ids: HashMap<&str, String> = p
                .states
                .keys()
                .map(|n| {
                    counter += 1;
                    (n.as_str(), format!("s{counter}"))
                })
                .collect();
            g.scopes[p.scope].first = ids.get(p.start_at).cloned();
            match (&p.owner, ids.get(p.start_at)) {
                (None, Some(first)) => g.start = Some(first.clone()),
                (Some((owner, label)), Some(first)) => g.edges.push(Edge {
                    from: owner.clone(),
                    to: first.clone(),
                    label: Some(label.clone()),
                    style: Style::Dashed,
                }),
                _ => {}
            }
            for (name, state) in p.states {
                let id = ids[name.as_str()].clone();
                g.scopes[p.scope].nodes.push(Node {
                    id: id.clone(),
                    name: name.clone(),
                    kind: state.kind.type_name(),
                    label: format!("{name}\n({})", state.kind.type_name()),
                    shape: shape(state),
                });
                let edge = |to: &str, label: Option<String>, style: Style, g: &mut Graph| {
                    if let Some(t) = ids.get(to) {
                        g.edges.push(Edge {
                            from: id.clone(),
                            to: t.clone(),
                            label,
                            style,
                        });
                    }
                };
                if let Some(next) = state.transition().and_then(|t| t.next.as_deref()) {
                    edge(next, None, Style::Solid, &mut g);
                }
                if let StateKind::Choice(c) = &state.kind {
                    for rule in &c.choices {
                        if let Some(next) = rule.next.as_deref() {
                            edge(next, Some(describe_rule(rule)), Style::Solid, &mut g);
                        }
                    }
                    if let Some(d) = c.default.as_deref() {
                        edge(d, Some("Default".to_owned()), Style::Solid, &mut g);
                    }
                }
                if let Some(e) = state.error_handling() {
                    for c in &e.catch {
                        if let Some(next) = c.next.as_deref() {
                            let label = format!("Catch {}", c.error_equals.join(", "));
                            edge(next, Some(label), Style::Dashed, &mut g);
                        }
                    }
                }
                let ends = matches!(state.kind, StateKind::Succeed | StateKind::Fail(_))
                    || state.transition().is_some_and(|t| t.end == Some(true));
                if ends {
                    let end = g.scopes[p.scope]
                        .end
                        .get_or_insert_with(|| {
                            counter += 1;
                            format!("fin{counter}")
                        })
                        .clone();
                    g.edges.push(Edge {
                        from: id.clone(),
                        to: end,
                        label: None,
                        style: Style::Solid,
                    });
                }
                let nested: Vec<(String, &IndexMap<String, State>, &str, String)> =
                    match &state.kind {
                        StateKind::Parallel(par) => par
                            .branches
                            .iter()
                            .enumerate()
                            .map(|(i, b)| {
                                (
                                    format!("{name}: branch {i}"),
                                    &b.states,
                                    b.start_at.as_str(),
                                    format!("branch {i}"),
                                )
                            })
                            .collect(),
                        StateKind::Map(m) => m
                            .processor
                            .iter()
                            .map(|b| {
                                let what = match m.processor_key {
                                    ProcessorKey::ItemProcessor => "item processor",
                                    ProcessorKey::Iterator => "iterator",
                                };
                                (
                                    format!("{name}: {what}"),
                                    &b.states,
                                    b.start_at.as_str(),
                                    "each item".to_owned(),
                                )
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                for (title, states, start_at, entry) in nested {
                    let idx = g.scopes.len();
                    g.scopes.push(Scope {
                        title,
                        nodes: Vec::new(),
                        children: Vec::new(),
                        end: None,
                        owner: Some(id.clone()),
                        first: None,
                    });
                    g.scopes[p.scope].children.push(idx);
                    work.push_back(Pending {
                        scope: idx,
                        states,
                        start_at,
                        owner: Some((id.clone(), entry)),
                    });
                }
            }
        }
        g
    }

    /// The scopes in drawing order: `Some(i)` opens scope `i`, `None` closes the last one opened.
    fn walk(&self) -> Vec<Option<usize>> {
        let mut order = Vec::new();
        let mut stack = vec![Some(0usize)];
        while let Some(item) = stack.pop() {
            order.push(item);
            if let Some(i) = item {
                stack.push(None);
                for &c in self.scopes[i].children.iter().rev() {
                    stack.push(Some(c));
                }
            }
        }
        order
    }

    fn mermaid(&self) -> String {
        let mut s = String::from("flowchart TD\n");
        let mut depth = 0usize;
        for item in self.walk() {
            match item {
                Some(i) => {
                    let scope = &self.scopes[i];
                    if i != 0 {
                        let _ = writeln!(
                            s,
                            "{}subgraph sub{i}[\"{}\"]",
                            indent(depth),
                            mermaid_text(&scope.title)
                        );
                    }
                    depth += 1;
                    if i == 0 && self.start.is_some() {
                        let _ = writeln!(s, "{}start((Start))", indent(depth));
                    }
                    for n in &scope.nodes {
                        let label = mermaid_text(&n.label);
                        let node = match n.shape {
                            Shape::Step => format!("{}[\"{label}\"]", n.id),
                            Shape::Decision => format!("{}{{\"{label}\"}}", n.id),
                            Shape::Container => format!("{}[[\"{label}\"]]", n.id),
                            Shape::Success => format!("{}([\"{label}\"])", n.id),
                            Shape::Failure => format!("{}[/\"{label}\"\\]", n.id),
                        };
                        let _ = writeln!(s, "{}{node}", indent(depth));
                    }
                    if let Some(end) = &scope.end {
                        let _ = writeln!(s, "{}{end}((End))", indent(depth));
                    }
                }
                None => {
                    depth = depth.saturating_sub(1);
                    if depth > 0 {
                        let _ = writeln!(s, "{}end", indent(depth));
                    }
                }
            }
        }
        if let Some(first) = &self.start {
            let _ = writeln!(s, "    start --> {first}");
        }
        for e in &self.edges {
            let arrow = match e.style {
                Style::Solid => "-->",
                Style::Dashed => "-.->",
            };
            match &e.label {
                Some(l) => {
                    let _ = writeln!(
                        s,
                        "    {} {arrow}|\"{}\"| {}",
                        e.from,
                        mermaid_text(l),
                        e.to
                    );
                }
                None => {
                    let _ = writeln!(s, "    {} {arrow} {}", e.from, e.to);
                }
            }
        }
        s
    }

    fn dot(&self) -> String {
        let mut s = String::from(
            "digraph workflow {\n    rankdir=TB;\n    node [shape=box, style=rounded];\n",
        );
        let mut depth = 0usize;
        for item in self.walk() {
            match item {
                Some(i) => {
                    let scope = &self.scopes[i];
                    if i != 0 {
                        let _ = writeln!(s, "{}subgraph cluster_{i} {{", indent(depth));
                        let _ = writeln!(
                            s,
                            "{}label=\"{}\";",
                            indent(depth + 1),
                            dot_text(&scope.title)
                        );
                        let _ = writeln!(s, "{}style=dashed;", indent(depth + 1));
                    }
                    depth += 1;
                    if i == 0 && self.start.is_some() {
                        let _ =
                            writeln!(s, "{}start [shape=circle, label=\"Start\"];", indent(depth));
                    }
                    for n in &scope.nodes {
                        let shape = match n.shape {
                            Shape::Step => "shape=box, style=rounded",
                            Shape::Decision => "shape=diamond",
                            Shape::Container => "shape=box3d",
                            Shape::Success => "shape=box, style=\"rounded,bold\"",
                            Shape::Failure => "shape=octagon",
                        };
                        let _ = writeln!(
                            s,
                            "{}{} [label=\"{}\", {shape}];",
                            indent(depth),
                            n.id,
                            dot_text(&n.label)
                        );
                    }
                    if let Some(end) = &scope.end {
                        let _ = writeln!(
                            s,
                            "{}{end} [shape=doublecircle, label=\"End\"];",
                            indent(depth)
                        );
                    }
                }
                None => {
                    depth = depth.saturating_sub(1);
                    if depth > 0 {
                        let _ = writeln!(s, "{}}}", indent(depth));
                    }
                }
            }
        }
        if let Some(first) = &self.start {
            let _ = writeln!(s, "    start -> {first};");
        }
        for e in &self.edges {
            let mut attrs = Vec::new();
            if let Some(l) = &e.label {
                attrs.push(format!("label=\"{}\"", dot_text(l)));
            }
            if e.style == Style::Dashed {
                attrs.push("style=dashed".to_owned());
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            let _ = writeln!(s, "    {} -> {}{attrs};", e.from, e.to);
        }
        s.push_str("}\n");
        s
    }
}

fn shape(state: &State) -> Shape {
    match state.kind {
        StateKind::Choice(_) => Shape::Decision,
        StateKind::Parallel(_) | StateKind::Map(_) => Shape::Container,
        StateKind::Succeed => Shape::Success,
        StateKind::Fail(_) => Shape::Failure,
        _ => Shape::Step,
    }
}

fn indent(depth: usize) -> String {
    "    ".repeat(depth)
}

/// A short description of a choice rule's test, for an edge label.
fn describe_rule(rule: &ChoiceRule) -> String {
    let text = match &rule.condition {
        Condition::Compare {
            variable,
            op,
            operand,
        } => format!("{variable} {} {operand}", op.as_str()),
        Condition::And(rules) => format!("And ({} rules)", rules.len()),
        Condition::Or(rules) => format!("Or ({} rules)", rules.len()),
        Condition::Not(inner) => format!("Not ({})", describe_rule(inner)),
        Condition::Jsonata(v) => match v.as_str() {
            Some(s) => s.to_owned(),
            None => v.to_string(),
        },
        Condition::Missing { .. } => "?".to_owned(),
    };
    truncate(&text, 60)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Text inside a quoted Mermaid label: quotes and angle brackets as entities, newlines as `<br/>`.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' => out.push_str("<br/>"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a quoted DOT string.
fn dot_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(def: &str) -> Graph {
        let m = workflow_asl::check_str(def).machine.expect("an object");
        Graph::build(&m)
    }

    const DEF: &str = r#"{"StartAt": "Check", "States": {
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Fan"}], "Default": "Done"},
        "Fan": {"Type": "Parallel", "Next": "Done", "Branches": [{"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Oops"}]},
        "Oops": {"Type": "Fail", "Error": "E"},
        "Done": {"Type": "Succeed"}}}"#;

    #[test]
    fn mermaid_has_nodes_edges_and_subgraphs() {
        let m = graph(DEF).mermaid();
        assert!(m.starts_with("flowchart TD\n"), "{m}");
        assert!(m.contains("{\"Check<br/>(Choice)\"}"), "{m}");
        assert!(m.contains("subgraph sub1[\"Fan: branch 0\"]"), "{m}");
        assert!(m.contains("-->|\"$.n NumericGreaterThan 1\"|"), "{m}");
        assert!(m.contains("-->|\"Default\"|"), "{m}");
        assert!(m.contains("-.->|\"Catch States.ALL\"|"), "{m}");
        assert!(m.contains("-.->|\"branch 0\"|"), "{m}");
        assert_eq!(
            m.matches("subgraph").count(),
            m.lines().filter(|l| l.trim() == "end").count()
        );
    }

    #[test]
    fn dot_has_clusters_and_escapes() {
        let d = graph(
            r#"{"StartAt": "Say \"hi\"", "States": {"Say \"hi\"": {"Type": "Map", "End": true,
            "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}}}}"#,
        )
        .dot();
        assert!(d.starts_with("digraph workflow {"), "{d}");
        assert!(d.contains("subgraph cluster_1 {"), "{d}");
        assert!(d.contains("label=\"Say \\\"hi\\\"\\n(Map)\""), "{d}");
        assert!(d.contains("[label=\"each item\", style=dashed]"), "{d}");
        assert_eq!(d.matches('{').count(), d.matches('}').count(), "{d}");
    }
}
