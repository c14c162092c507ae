//! Static checks over a parsed expression: the JSONata 2.1 operators Step Functions lacks, and the
//! references AWS refuses because a Step Functions expression has no context item.
//!
//! Both walk the syntax tree with an explicit stack, so that no expression can overflow the stack.

use jsonata_core::ast::{AstNode, Stage};

use super::op_text;

/// A reference AWS refuses in a Step Functions expression (floci-io/floci#2670, measured with
/// `ValidateStateMachineDefinition`).
///
/// ```
/// use workflow_asl::jsonata::{Expression, TopLevel};
///
/// let found = Expression::parse("$$.a").unwrap().top_level_reference();
/// assert_eq!(found, Some(TopLevel::Root));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopLevel {
    /// A path that starts with a field name: AWS says
    /// `Reference to 'phone' at the top level is not supported.`
    Field(String),
    /// The context item `$` outside any path step.
    Context,
    /// The root input `$$`.
    Root,
}

impl TopLevel {
    /// AWS's wording of the problem (the message of `UNSUPPORTED_JSONATA_EXPRESSION`).
    ///
    /// ```
    /// use workflow_asl::jsonata::TopLevel;
    /// assert_eq!(TopLevel::Field("phone".into()).message(), "Reference to 'phone' at the top level is not supported.");
    /// ```
    pub fn message(&self) -> String {
        match self {
            TopLevel::Field(name) => {
                format!("Reference to '{name}' at the top level is not supported.")
            }
            TopLevel::Context => "Reference to '$' at the top level is not supported.".to_owned(),
            TopLevel::Root => "Reference to '$$' at the top level is not supported.".to_owned(),
        }
    }
}

/// Whether a child is evaluated with its parent's context item (`Same`) or with another one
/// (`Inner`: a later path step, a predicate, a sort term, a group-by pattern, a transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Same,
    Inner,
}

/// Calls `f` on each direct child of `node`, saying which context it is evaluated in.
fn children<'a>(node: &'a AstNode, mut f: impl FnMut(&'a AstNode, Ctx)) {
    match node {
        AstNode::Path { steps } => {
            for (i, step) in steps.iter().enumerate() {
                f(&step.node, if i == 0 { Ctx::Same } else { Ctx::Inner });
                for stage in &step.stages {
                    if let Stage::Filter(e) = stage {
                        f(e, Ctx::Inner);
                    }
                }
            }
        }
        AstNode::Binary { lhs, rhs, .. } => {
            f(lhs, Ctx::Same);
            f(rhs, Ctx::Same);
        }
        AstNode::Unary { operand, .. } => f(operand, Ctx::Same),
        AstNode::Function { args, .. } => args.iter().for_each(|a| f(a, Ctx::Same)),
        AstNode::Call { procedure, args } => {
            f(procedure, Ctx::Same);
            args.iter().for_each(|a| f(a, Ctx::Same));
        }
        // A lambda's body runs with the context item of the place it is defined (jsonata-js
        // `evaluateLambda` keeps `input`).
        AstNode::Lambda { body, .. } => f(body, Ctx::Same),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            items.iter().for_each(|a| f(a, Ctx::Same))
        }
        AstNode::Object(pairs) => {
            for (k, v) in pairs {
                f(k, Ctx::Same);
                f(v, Ctx::Same);
            }
        }
        AstNode::ObjectTransform { input, pattern } => {
            f(input, Ctx::Same);
            for (k, v) in pattern {
                f(k, Ctx::Inner);
                f(v, Ctx::Inner);
            }
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            f(condition, Ctx::Same);
            f(then_branch, Ctx::Same);
            if let Some(e) = else_branch {
                f(e, Ctx::Same);
            }
        }
        AstNode::FunctionApplication(e) => f(e, Ctx::Inner),
        AstNode::Sort { input, terms } => {
            f(input, Ctx::Same);
            terms.iter().for_each(|(t, _)| f(t, Ctx::Inner));
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            f(location, Ctx::Inner);
            f(update, Ctx::Inner);
            if let Some(d) = delete {
                f(d, Ctx::Inner);
            }
        }
        AstNode::String(_)
        | AstNode::Name(_)
        | AstNode::Number(_)
        | AstNode::Boolean(_)
        | AstNode::Null
        | AstNode::Undefined
        | AstNode::Placeholder
        | AstNode::Regex { .. }
        | AstNode::Variable(_)
        | AstNode::ParentVariable(_)
        | AstNode::Wildcard
        | AstNode::Descendant
        | AstNode::Parent(_) => {}
    }
}

/// The first JSONata 2.1 operator (`??`, `?:`) in the expression, if any.
pub(super) fn newer_operator(ast: &AstNode) -> Option<&'static str> {
    let mut stack = vec![ast];
    while let Some(node) = stack.pop() {
        if let AstNode::Binary { op, .. } = node {
            if let Some(text) = op_text(*op) {
                return Some(text);
            }
        }
        children(node, |c, _| stack.push(c));
    }
    None
}

/// The first reference to the (absent) context item, in document order.
pub(super) fn top_level(ast: &AstNode) -> Option<TopLevel> {
    let mut stack = vec![(ast, Ctx::Same)];
    while let Some((node, ctx)) = stack.pop() {
        match node {
            AstNode::Name(name) if ctx == Ctx::Same => return Some(TopLevel::Field(name.clone())),
            AstNode::Variable(name) if ctx == Ctx::Same && name.is_empty() => {
                return Some(TopLevel::Context)
            }
            AstNode::ParentVariable(name) if name.is_empty() => return Some(TopLevel::Root),
            AstNode::Wildcard if ctx == Ctx::Same => return Some(TopLevel::Field("*".to_owned())),
            AstNode::Descendant if ctx == Ctx::Same => {
                return Some(TopLevel::Field("**".to_owned()))
            }
            _ => {}
        }
        let mut kids = Vec::new();
        children(node, |c, k| {
            let inner = if ctx == Ctx::Inner { Ctx::Inner } else { k };
            kids.push((c, inner));
        });
        stack.extend(kids.into_iter().rev());
    }
    None
}
