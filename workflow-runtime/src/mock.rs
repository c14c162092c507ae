//! Mocked task responses in AWS Step Functions Local's `MockConfigFile` format.
//!
//! ```json
//! {
//!   "StateMachines": {
//!     "Orders": { "TestCases": { "HappyPath": { "Charge": "ChargeOk" } } }
//!   },
//!   "MockedResponses": {
//!     "ChargeOk": {
//!       "0": { "Throw": { "Error": "Card.Declined", "Cause": "try again" } },
//!       "1-2": { "Return": { "charged": true } }
//!     }
//!   }
//! }
//! ```
//!
//! A test case maps Task state names to mocked responses. A mocked response is a list of
//! `Return`/`Throw` entries keyed by invocation number or an inclusive range (`"1-2"`); the keys
//! must cover `0, 1, 2, …` without gaps. As in AWS Step Functions Local, the number counts every
//! invocation of that state in the execution: its retries, and every later visit (a polling loop
//! that comes back to the state moves on to `"1"`, `"2"`, …; each Map iteration takes the next
//! number). Sources: AWS's description of the format
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html>), whose
//! `RetryPath` example (`"0"` throws, `"1-2"` throw, `"3"` returns) is consumed by the retries of
//! one state, and issue 9's measurement of Step Functions Local on polling loops. An invocation
//! beyond the last key fails the
//! task with `States.TaskFailed` and a cause that says so. A mocked state never calls its handler.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// A mock configuration file that could not be used.
///
/// ```
/// use workflow_runtime::MockConfig;
///
/// let err = "[1, 2]".parse::<MockConfig>().unwrap_err();
/// assert_eq!(err.to_string(), "mock configuration: the configuration must be a JSON object");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mock configuration: {0}")]
pub struct MockError(pub String);

/// One mocked response.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use workflow_runtime::mock::MockResponse;
/// use workflow_runtime::MockConfig;
///
/// let config: MockConfig = r#"{
///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
///   "MockedResponses": {"CardDeclined": {
///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
///     "1-2": {"Return": {"charged": true}}
///   }}
/// }"#.parse()?;
/// let case = config.test_case("Orders", "Declined")?;
/// assert_eq!(
///     case.response("Charge", 0).unwrap()?,
///     &MockResponse::Throw { error: "Declined".into(), cause: Some("no funds".into()) }
/// );
/// assert_eq!(case.response("Charge", 2).unwrap()?, &MockResponse::Return(json!({"charged": true})));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum MockResponse {
    /// `Return`: the task succeeds with this result.
    Return(Value),
    /// `Throw`: the task fails with this error and cause.
    Throw {
        /// `Error`.
        error: String,
        /// `Cause`.
        cause: Option<String>,
    },
}

/// A mocked response's entries: `(first attempt, last attempt, response)`, consecutive from 0.
type Ranges = Vec<(u64, u64, MockResponse)>;

/// A parsed `MockConfigFile`.
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::MockConfig;
///
/// // AWS Step Functions Local's MockConfigFile format.
/// let config: MockConfig = r#"{
///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
///   "MockedResponses": {"CardDeclined": {
///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
///     "1-2": {"Return": {"charged": true}}
///   }}
/// }"#.parse()?;
/// let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {"Charge": {
///   "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
///   "Parameters": {"FunctionName": "charge"},
///   "Retry": [{"ErrorEquals": ["Declined"], "IntervalSeconds": 1}], "End": true}}}"#).expect("valid");
/// let runtime = Runtime::builder().mocks(config.test_case("Orders", "Declined")?).build();
/// let outcome = runtime.run_machine(&machine, json!({})).await?;
/// // The first call throws, the retry gets the second response.
/// assert_eq!(outcome.output, Some(json!({"charged": true})));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MockConfig {
    /// state machine → test case → state → mocked response name.
    machines: HashMap<String, HashMap<String, HashMap<String, String>>>,
    /// mocked response name → its entries.
    responses: HashMap<String, Arc<Ranges>>,
}

/// The mocked responses of one test case, by state name.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::MockConfig;
///
/// let config: MockConfig = r#"{
///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
///   "MockedResponses": {"CardDeclined": {
///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
///     "1-2": {"Return": {"charged": true}}
///   }}
/// }"#.parse()?;
/// let case = config.find_test_case("Declined")?;
/// assert!(case.is_mocked("Charge"));
/// assert!(!case.is_mocked("Ship"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MockTestCase {
    states: HashMap<String, (String, Arc<Ranges>)>,
}

impl FromStr for MockConfig {
    type Err = MockError;

    fn from_str(text: &str) -> Result<MockConfig, MockError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| MockError(format!("the file is not valid JSON: {e}")))?;
        MockConfig::from_value(&value)
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a serde_json::Map<String, Value>, MockError> {
    v.as_object()
        .ok_or_else(|| MockError(format!("{what} must be a JSON object")))
}

impl MockConfig {
    /// Reads the configuration from JSON.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::MockConfig;
    ///
    /// let config = MockConfig::from_value(&json!({
    ///     "StateMachines": {"M": {"TestCases": {"Happy": {"S": "Ok"}}}},
    ///     "MockedResponses": {"Ok": {"0": {"Return": 1}}}
    /// }))
    /// .expect("a valid configuration");
    /// assert!(config.test_case("M", "Happy").expect("defined").is_mocked("S"));
    /// // A configuration that is not an object is an error saying so.
    /// assert!(MockConfig::from_value(&json!([])).is_err());
    /// ```
    pub fn from_value(value: &Value) -> Result<MockConfig, MockError> {
        let root = object(value, "the configuration")?;
        let mut config = MockConfig::default();
        if let Some(machines) = root.get("StateMachines") {
            for (machine, body) in object(machines, "`StateMachines`")? {
                let body = object(body, &format!("`StateMachines.{machine}`"))?;
                let mut cases = HashMap::new();
                if let Some(tcs) = body.get("TestCases") {
                    for (case, states) in object(tcs, &format!("`{machine}.TestCases`"))? {
                        let mut map = HashMap::new();
                        for (state, response) in object(states, &format!("test case `{case}`"))? {
                            let name = response.as_str().ok_or_else(|| {
                                MockError(format!(
                                    "test case `{case}`: the response for state `{state}` must be the name of a mocked response"
                                ))
                            })?;
                            map.insert(state.clone(), name.to_string());
                        }
                        cases.insert(case.clone(), map);
                    }
                }
                config.machines.insert(machine.clone(), cases);
            }
        }
        if let Some(responses) = root.get("MockedResponses") {
            for (name, entries) in object(responses, "`MockedResponses`")? {
                config
                    .responses
                    .insert(name.clone(), Arc::new(parse_ranges(name, entries)?));
            }
        }
        // Every response a test case names must exist: a mistyped name is reported when the
        // file is read, not only when that test case is chosen. Sorted, so that the error named
        // is the same on every run.
        let mut machines: Vec<_> = config.machines.iter().collect();
        machines.sort_unstable_by_key(|(m, _)| *m);
        for (machine, cases) in machines {
            let mut cases: Vec<_> = cases.iter().collect();
            cases.sort_unstable_by_key(|(c, _)| *c);
            for (case, states) in cases {
                config
                    .resolve(case, states)
                    .map_err(|e| MockError(format!("state machine `{machine}`, {}", e.0)))?;
            }
        }
        Ok(config)
    }

    /// The test case `test_case` of state machine `state_machine`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow_runtime::MockConfig;
    ///
    /// let config: MockConfig = r#"{
    ///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
    ///   "MockedResponses": {"CardDeclined": {
    ///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
    ///     "1-2": {"Return": {"charged": true}}
    ///   }}
    /// }"#.parse()?;
    /// assert!(config.test_case("Orders", "Declined").is_ok());
    /// let err = config.test_case("Orders", "Happy").unwrap_err();
    /// assert_eq!(err.0, "state machine `Orders` has no test case `Happy`");
    /// # Ok(())
    /// # }
    /// ```
    pub fn test_case(
        &self,
        state_machine: &str,
        test_case: &str,
    ) -> Result<MockTestCase, MockError> {
        let cases = self.machines.get(state_machine).ok_or_else(|| {
            MockError(format!(
                "no state machine `{state_machine}` in `StateMachines`"
            ))
        })?;
        let states = cases.get(test_case).ok_or_else(|| {
            MockError(format!(
                "state machine `{state_machine}` has no test case `{test_case}`"
            ))
        })?;
        self.resolve(test_case, states)
    }

    /// The test case named `test_case`, in whichever state machine defines it (an error when none
    /// or several do).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow_runtime::MockConfig;
    ///
    /// let config: MockConfig = r#"{
    ///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
    ///   "MockedResponses": {"CardDeclined": {
    ///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
    ///     "1-2": {"Return": {"charged": true}}
    ///   }}
    /// }"#.parse()?;
    /// assert!(config.find_test_case("Declined")?.is_mocked("Charge"));
    /// assert!(config.find_test_case("Nope").is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn find_test_case(&self, test_case: &str) -> Result<MockTestCase, MockError> {
        let mut found = self
            .machines
            .iter()
            .filter(|(_, cases)| cases.contains_key(test_case))
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>();
        found.sort_unstable();
        match found.as_slice() {
            [machine] => self.test_case(machine, test_case),
            [] => Err(MockError(format!(
                "no state machine has a test case `{test_case}`"
            ))),
            many => Err(MockError(format!(
                "several state machines have a test case `{test_case}`: {}",
                many.join(", ")
            ))),
        }
    }

    fn resolve(
        &self,
        test_case: &str,
        states: &HashMap<String, String>,
    ) -> Result<MockTestCase, MockError> {
        let mut out = HashMap::new();
        for (state, name) in states {
            let ranges = self.responses.get(name).ok_or_else(|| {
                MockError(format!(
                    "test case `{test_case}`: state `{state}` uses mocked response `{name}`, which `MockedResponses` does not define"
                ))
            })?;
            out.insert(state.clone(), (name.clone(), Arc::clone(ranges)));
        }
        Ok(MockTestCase { states: out })
    }
}

fn parse_ranges(name: &str, entries: &Value) -> Result<Ranges, MockError> {
    let entries = object(entries, &format!("mocked response `{name}`"))?;
    let mut ranges = Vec::new();
    for (key, entry) in entries {
        let bad = || {
            MockError(format!(
                "mocked response `{name}`: `{key}` is not an attempt number or a range like `1-2`"
            ))
        };
        let (start, end) = match key.trim().split_once('-') {
            Some((a, b)) => (
                a.trim().parse::<u64>().map_err(|_| bad())?,
                b.trim().parse::<u64>().map_err(|_| bad())?,
            ),
            None => {
                let n = key.trim().parse::<u64>().map_err(|_| bad())?;
                (n, n)
            }
        };
        if end < start {
            return Err(MockError(format!(
                "mocked response `{name}`: range `{key}` ends before it starts"
            )));
        }
        let entry = object(entry, &format!("mocked response `{name}.{key}`"))?;
        let response = match (entry.get("Return"), entry.get("Throw")) {
            (Some(v), None) => MockResponse::Return(v.clone()),
            (None, Some(t)) => {
                let t = object(t, &format!("`{name}.{key}.Throw`"))?;
                let error = t.get("Error").and_then(Value::as_str).ok_or_else(|| {
                    MockError(format!("`{name}.{key}.Throw` needs a string `Error`"))
                })?;
                MockResponse::Throw {
                    error: error.to_string(),
                    cause: t.get("Cause").and_then(Value::as_str).map(str::to_string),
                }
            }
            _ => {
                return Err(MockError(format!(
                    "mocked response `{name}.{key}` must have exactly one of `Return` or `Throw`"
                )))
            }
        };
        ranges.push((start, end, response));
    }
    ranges.sort_by_key(|r| r.0);
    let mut next = 0u64;
    for (start, end, _) in &ranges {
        if *start != next {
            return Err(MockError(format!(
                "mocked response `{name}`: attempts must be numbered consecutively from 0; expected `{next}`, found `{start}`"
            )));
        }
        next = end.saturating_add(1);
    }
    if ranges.is_empty() {
        return Err(MockError(format!(
            "mocked response `{name}` has no entries"
        )));
    }
    Ok(ranges)
}

impl MockTestCase {
    /// Whether the state is mocked in this test case.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use workflow_runtime::MockConfig;
    /// # let config: MockConfig = r#"{
    ///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
    ///   "MockedResponses": {"CardDeclined": {
    ///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
    ///     "1-2": {"Return": {"charged": true}}
    ///   }}
    /// }"#.parse()?;
    /// let case = config.test_case("Orders", "Declined")?;
    /// assert!(case.is_mocked("Charge"));
    /// assert!(!case.is_mocked("Ship"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_mocked(&self, state: &str) -> bool {
        self.states.contains_key(state)
    }

    /// The response to invocation `attempt` (0 for the first) of `state` in an execution: `None`
    /// when the state is not mocked, `Some(Err(..))` when its responses end before that one.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use workflow_runtime::MockConfig;
    /// # let config: MockConfig = r#"{
    ///   "StateMachines": {"Orders": {"TestCases": {"Declined": {"Charge": "CardDeclined"}}}},
    ///   "MockedResponses": {"CardDeclined": {
    ///     "0": {"Throw": {"Error": "Declined", "Cause": "no funds"}},
    ///     "1-2": {"Return": {"charged": true}}
    ///   }}
    /// }"#.parse()?;
    /// use workflow_runtime::mock::MockResponse;
    ///
    /// let case = config.test_case("Orders", "Declined")?;
    /// assert!(matches!(case.response("Charge", 1), Some(Ok(MockResponse::Return(_)))));
    /// assert!(matches!(case.response("Charge", 3), Some(Err(_)))); // the responses end at 2
    /// assert!(case.response("Ship", 0).is_none()); // not mocked
    /// # Ok(())
    /// # }
    /// ```
    pub fn response(&self, state: &str, attempt: u64) -> Option<Result<&MockResponse, MockError>> {
        let (name, ranges) = self.states.get(state)?;
        Some(
            ranges
                .iter()
                .find(|(start, end, _)| (*start..=*end).contains(&attempt))
                .map(|(_, _, r)| r)
                .ok_or_else(|| {
                    MockError(format!(
                        "mocked response `{name}` for state `{state}` has no entry for invocation {attempt} (it is invoked once per attempt and per visit, counting from 0)"
                    ))
                }),
        )
    }
}

/// One execution's use of a test case: counts the invocations of each mocked state, so that the
/// n-th invocation of a state (0 for the first) gets the response keyed `n`.
#[derive(Debug)]
pub(crate) struct MockCalls {
    case: Arc<MockTestCase>,
    /// State name → invocations so far. Held only while counting, never across an `.await`.
    calls: Mutex<HashMap<String, u64>>,
}

impl MockCalls {
    /// A fresh count for one execution.
    pub(crate) fn new(case: Arc<MockTestCase>) -> MockCalls {
        MockCalls {
            case,
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// The number of this invocation of `state` (0 for the first), counting it.
    fn count(&self, state: &str) -> u64 {
        let mut calls = self
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = calls.entry(state.to_string()).or_insert(0);
        let this = *n;
        *n = n.saturating_add(1);
        this
    }

    /// The response to the next invocation of `state`: `None` when the state is not mocked.
    pub(crate) fn next(&self, state: &str) -> Option<Result<MockResponse, MockError>> {
        if !self.case.is_mocked(state) {
            return None;
        }
        let n = self.count(state);
        self.case.response(state, n).map(|r| r.cloned())
    }

    /// Counts an invocation of `state` whose result was replayed from a recorded history, so
    /// that the invocations after it get the same responses as in the recorded run.
    pub(crate) fn skip(&self, state: &str) {
        if self.case.is_mocked(state) {
            self.count(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FILE: &str = r#"{
      "StateMachines": {
        "M": {"TestCases": {"Happy": {"A": "Ok"}, "Retry": {"A": "Flaky", "B": "Ok"}}},
        "N": {"TestCases": {"Retry": {"A": "Ok"}}}
      },
      "MockedResponses": {
        "Ok": {"0": {"Return": {"ok": true}}},
        "Flaky": {
          "0": {"Throw": {"Error": "E1", "Cause": "first"}},
          "1-2": {"Throw": {"Error": "E2"}},
          "3": {"Return": 7}
        }
      }
    }"#;

    #[test]
    fn attempts_select_entries_by_range() {
        let config: MockConfig = FILE.parse().expect("valid");
        let tc = config.test_case("M", "Retry").expect("exists");
        let table: [(u64, Option<MockResponse>); 5] = [
            (
                0,
                Some(MockResponse::Throw {
                    error: "E1".into(),
                    cause: Some("first".into()),
                }),
            ),
            (
                1,
                Some(MockResponse::Throw {
                    error: "E2".into(),
                    cause: None,
                }),
            ),
            (
                2,
                Some(MockResponse::Throw {
                    error: "E2".into(),
                    cause: None,
                }),
            ),
            (3, Some(MockResponse::Return(json!(7)))),
            (4, None),
        ];
        for (attempt, expected) in table {
            let got = tc.response("A", attempt).expect("mocked");
            assert_eq!(got.ok().cloned(), expected, "attempt {attempt}");
        }
        assert!(tc.response("Other", 0).is_none());
        assert!(tc.is_mocked("B"));
    }

    #[test]
    fn each_invocation_takes_the_next_response() {
        let config: MockConfig = FILE.parse().expect("valid");
        let calls = MockCalls::new(Arc::new(config.test_case("M", "Retry").expect("exists")));
        let errors = (0..4)
            .map(|_| match calls.next("A") {
                Some(Ok(MockResponse::Throw { error, .. })) => error,
                Some(Ok(MockResponse::Return(v))) => v.to_string(),
                other => panic!("{other:?}"),
            })
            .collect::<Vec<_>>();
        assert_eq!(errors, ["E1", "E2", "E2", "7"]);
        assert!(matches!(calls.next("A"), Some(Err(_))));
        // Counts are per state; a replayed invocation is counted too.
        calls.skip("B");
        assert!(matches!(calls.next("B"), Some(Err(_))));
        assert!(calls.next("NotMocked").is_none());
    }

    #[test]
    fn find_test_case_needs_a_unique_name() {
        let config: MockConfig = FILE.parse().expect("valid");
        assert!(config.find_test_case("Happy").is_ok());
        assert!(config
            .find_test_case("Retry")
            .unwrap_err()
            .0
            .contains("several"));
        assert!(config.find_test_case("Nope").is_err());
    }

    #[test]
    fn bad_files_are_clear_errors() {
        for (text, fragment) in [
            ("[", "not valid JSON"),
            (
                r#"{"MockedResponses": {"R": {"1": {"Return": 1}}}}"#,
                "consecutively",
            ),
            (
                r#"{"MockedResponses": {"R": {"x": {"Return": 1}}}}"#,
                "not an attempt number",
            ),
            (r#"{"MockedResponses": {"R": {"0": {}}}}"#, "exactly one of"),
            (
                r#"{"MockedResponses": {"R": {"2-1": {"Return": 1}}}}"#,
                "ends before",
            ),
            (
                r#"{"StateMachines": {"M": {"TestCases": {"T": {"A": "Missing"}}}}}"#,
                "state machine `M`, test case `T`: state `A` uses mocked response `Missing`, which `MockedResponses` does not define",
            ),
        ] {
            let e = text.parse::<MockConfig>().unwrap_err();
            assert!(e.0.contains(fragment), "{text}: {e}");
        }
    }
}
