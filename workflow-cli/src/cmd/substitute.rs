//! `--substitute NAME=VALUE` and `--substitutions FILE.json`: values for the `${NAME}`
//! placeholders of a definition, as CloudFormation's `DefinitionSubstitutions` gives them
//! (see [`workflow_asl::substitute`]). Shared by `validate`, `run`, `graph` and `fmt`.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

use super::read_text;

/// The substitution flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubstituteArgs {
    /// Give the placeholder `${NAME}` the value VALUE, as CloudFormation's
    /// `DefinitionSubstitutions` does (repeatable; wins over `--substitutions`).
    #[arg(long = "substitute", value_name = "NAME=VALUE")]
    pub substitute: Vec<String>,
    /// A JSON object of placeholder values: CloudFormation's `DefinitionSubstitutions` map,
    /// such as `{"ProcessFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:process"}`.
    #[arg(long = "substitutions", value_name = "FILE.json")]
    pub substitutions: Option<PathBuf>,
}

impl SubstituteArgs {
    /// Whether no substitution was given.
    pub fn is_empty(&self) -> bool {
        self.substitute.is_empty() && self.substitutions.is_none()
    }

    /// The values, by placeholder name; the error says which argument is unusable.
    pub fn values(&self) -> Result<HashMap<String, String>, String> {
        let mut out = HashMap::new();
        if let Some(path) = &self.substitutions {
            let name = path.display();
            let text = read_text(path).map_err(|why| format!("{name}: {why}"))?;
            let value: Value = serde_json::from_str(&text)
                .map_err(|e| format!("{name}: the substitutions are not valid JSON: {e}"))?;
            let Value::Object(map) = value else {
                return Err(format!(
                    "{name}: the substitutions must be a JSON object of names and values, like CloudFormation's DefinitionSubstitutions"
                ));
            };
            for (key, v) in map {
                let text = match v {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        return Err(format!(
                            "{name}: the value of \"{key}\" must be a string, a number or a boolean, found {}; resolve CloudFormation functions such as Fn::GetAtt to their values first",
                            match other {
                                Value::Null => "null",
                                Value::Array(_) => "an array",
                                _ => "an object",
                            }
                        ))
                    }
                };
                out.insert(key, text);
            }
        }
        for arg in &self.substitute {
            let Some((key, value)) = arg.split_once('=') else {
                return Err(format!(
                    "--substitute {arg}: expected NAME=VALUE, such as --substitute ProcessFunctionArn=arn:aws:lambda:us-east-1:123456789012:function:process"
                ));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err(format!("--substitute {arg}: the name before '=' is empty"));
            }
            out.insert(key.to_string(), value.to_string());
        }
        Ok(out)
    }

    /// Definition text with the placeholders substituted (unchanged without substitutions).
    pub fn apply(&self, text: String) -> Result<String, String> {
        if self.is_empty() {
            return Ok(text);
        }
        let values = self.values()?;
        Ok(workflow_asl::substitute::substitute_text(&text, &values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("wf-subs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("subs.json");
        std::fs::write(&file, r#"{"A": "from-file", "B": "b", "N": 5, "T": true}"#).expect("write");
        let args = SubstituteArgs {
            substitute: vec!["A=from-flag".into(), "C=x=y".into()],
            substitutions: Some(file.clone()),
        };
        let values = args.values().expect("usable");
        assert_eq!(values["A"], "from-flag");
        assert_eq!(values["B"], "b");
        assert_eq!(values["C"], "x=y");
        assert_eq!(values["N"], "5");
        assert_eq!(values["T"], "true");
        assert_eq!(
            args.apply(r#"["${A}", "${B}", "${D}"]"#.into())
                .expect("applied"),
            r#"["from-flag", "b", "${D}"]"#
        );
        std::fs::write(&file, r#"{"A": {"Fn::GetAtt": ["F", "Arn"]}}"#).expect("write");
        let err = args.values().expect_err("an object is not a value");
        assert!(err.contains("\"A\"") && err.contains("Fn::GetAtt"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
        let bad = SubstituteArgs {
            substitute: vec!["novalue".into()],
            substitutions: None,
        };
        assert!(bad.values().expect_err("no =").contains("NAME=VALUE"));
    }
}
