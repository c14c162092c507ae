//! `workflow console --store DB [--addr 127.0.0.1:PORT]`: a local web console over a store.
//!
//! One HTML page embedded in the binary (`page.html`: CSS and a small script, no build step)
//! and a JSON API, served by axum on a loopback address by default:
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the executions (server-rendered links; filters `status`, `name`, `offset`) |
//! | `GET /executions/NAME` | one execution: summary, coloured graph (inline SVG), states, events |
//! | `GET /api/executions` | `[{name, status, startDate, stopDate?, eventCount}]`, newest first (`X-Total-Count`) |
//! | `GET /api/executions/NAME` | the execution with its definition, input, output, error, cause |
//! | `GET /api/executions/NAME/history` | `{"events": [...]}` as `workflow history --format json` |
//! | `GET /api/executions/NAME/graph.svg` | the graph coloured by status (`?scope=` a branch/iteration) |
//! | `GET /api/executions/NAME/states` | each entry into a state, and the branches/iterations |
//! | `GET /api/executions/NAME/states/I` | entry `I` with the steps of its path pipeline |
//! | `GET /api/stream` | server-sent events: `change` whenever the list (or `?execution=NAME`) changes |
//! | `POST /api/executions` | start an execution (`{name?, input, from? , definition?}`) |
//! | `POST /api/executions/NAME/stop` | stop it (`{error?, cause?}`) |
//! | `POST /api/executions/NAME/resume` | resume it in this process |
//! | `GET /api/executions/NAME/tasks` | its tasks waiting for a callback: `[{taskToken, state}]` |
//! | `POST /api/executions/NAME/task-success` | `SendTaskSuccess`: `{taskToken?, output}` |
//! | `POST /api/executions/NAME/task-failure` | `SendTaskFailure`: `{taskToken?, error?, cause?}` |
//!
//! Callbacks reach the `.waitForTaskToken` tasks of the executions this console runs (started
//! or resumed here): such a task with no handler announces its token and waits, as with
//! `workflow run --serve`. `taskToken` may be left out when exactly one task waits. An execution
//! run by another process is answered through that process's `--serve` address (or resumed here
//! first, once that process has ended).
//!
//! The console reads the store and writes to it only through the actions (start, stop,
//! resume, callbacks). A store that cannot be opened or read (busy, damaged, foreign) gives an error page
//! or a JSON error with status 503, and the console keeps serving; an unknown execution is a
//! 404 JSON error.

mod view;

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use workflow_runtime::history::HistoryEvent;
use workflow_runtime::store::{
    stop_execution, DurableError, DurableRuntime, ExecutionRecord, ExecutionStatus, NewExecution,
    PageQuery, SqliteOptions, SqliteStore, Store, StoreError,
};
use workflow_runtime::{CallbackError, Callbacks, RuntimeBuilder, WaitingTask};

use crate::cmd::describe::record_json;
use crate::cmd::durable::HandlerArgs;
use crate::cmd::graph::Graph;
use crate::cmd::tasks::{self, TaskArgs};
use crate::cmd::{OK, UNREADABLE};
use crate::svg;
pub use view::ExecutionView;

/// The page: CSS, markup and script; `<!--TITLE-->`, `<!--BODY-->` are filled in per request.
const PAGE: &str = include_str!("page.html");

/// The default address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3030";

/// Rows per page of the executions list (the most `limit` may ask for is `MAX_LIMIT`).
const PAGE_SIZE: usize = 50;
const MAX_LIMIT: usize = 1000;

/// How often the event stream looks at the store.
const POLL: Duration = Duration::from_millis(500);

/// Arguments of `workflow console`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store file (SQLite) to show.
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// Where to listen (a loopback address by default; port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,
}

/// Runs `workflow console` until the process is interrupted; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if !args.store.exists() {
        let _ = writeln!(
            err,
            "error: there is no store at {} (create one with `workflow run DEF --store {}`)",
            args.store.display(),
            args.store.display()
        );
        return UNREADABLE;
    }
    let rt = match crate::cmd::durable::tokio_runtime(err) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let app = Arc::new(App::new(args.store.clone()));
    if let Err(e) = app.store() {
        let _ = writeln!(
            err,
            "warning: {e}\nthe console serves an error page until the store can be read"
        );
    }
    let listener = match rt.block_on(tokio::net::TcpListener::bind(args.addr)) {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "error: cannot listen on {}: {e}", args.addr);
            return UNREADABLE;
        }
    };
    let addr = listener.local_addr().unwrap_or(args.addr);
    let _ = writeln!(
        out,
        "workflow console: http://{addr}/ (store {})",
        args.store.display()
    );
    let _ = out.flush();
    let served = rt.block_on(async move {
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    match served {
        Ok(()) => OK,
        Err(e) => {
            let _ = writeln!(err, "error: the server stopped: {e}");
            UNREADABLE
        }
    }
}

/// What every handler shares: the store (opened lazily, reopened after damage) and the names
/// of the executions this process runs.
pub struct App {
    path: PathBuf,
    store: Mutex<Option<Arc<SqliteStore>>>,
    running: Mutex<HashSet<String>>,
    /// The task tokens of the executions this process runs.
    callbacks: Arc<Callbacks>,
}

impl App {
    /// A console over the store file at `path`.
    pub fn new(path: PathBuf) -> App {
        App {
            path,
            store: Mutex::new(None),
            running: Mutex::new(HashSet::new()),
            callbacks: Arc::new(Callbacks::new()),
        }
    }

    /// The runtime for an execution of `definition` started or resumed here: the handlers its
    /// metadata names, `.waitForTaskToken` tasks without one waiting for this console's
    /// callbacks.
    fn builder(&self, definition: &str, metadata: &Value) -> Result<RuntimeBuilder, ApiError> {
        let base = HandlerArgs::default().handlers_for(metadata);
        let handlers = match serde_json::from_str::<Value>(definition) {
            Ok(def) => {
                let serve = TaskArgs {
                    serve: Some("the console".into()),
                    quiet_tokens: true,
                    ..TaskArgs::default()
                };
                tasks::handlers(base, &def, &serve)
                    .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "InvalidDefinition", m))?
            }
            // Not JSON: the runtime reports it when it loads the definition.
            Err(_) => base,
        };
        Ok(RuntimeBuilder::default()
            .handlers(handlers)
            .callbacks(Arc::clone(&self.callbacks)))
    }

    fn runs_here(&self, name: &str) -> bool {
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(name)
    }

    /// The open store, opening it on first use.
    fn store(&self) -> Result<Arc<SqliteStore>, StoreError> {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        if !self.path.exists() {
            return Err(StoreError::Storage {
                path: self.path.display().to_string(),
                detail: "there is no store file here (was it moved or deleted?)".into(),
            });
        }
        let store = Arc::new(SqliteStore::open_with(
            &self.path,
            SqliteOptions::default(),
        )?);
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Forgets the open store after it reported damage, so the next request opens it again.
    fn forget(&self, e: &StoreError) {
        if matches!(e, StoreError::Corrupt { .. }) {
            *self.store.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }
}

/// The routes (see the module docs).
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(list_page))
        .route("/executions/{name}", get(execution_page))
        .route("/api/executions", get(api_list).post(api_start))
        .route("/api/executions/{name}", get(api_describe))
        .route("/api/executions/{name}/history", get(api_history))
        .route("/api/executions/{name}/graph.svg", get(api_graph))
        .route("/api/executions/{name}/states", get(api_states))
        .route("/api/executions/{name}/states/{index}", get(api_state))
        .route("/api/executions/{name}/stop", post(api_stop))
        .route("/api/executions/{name}/resume", post(api_resume))
        .route("/api/executions/{name}/tasks", get(api_tasks))
        .route(
            "/api/executions/{name}/task-success",
            post(api_task_success),
        )
        .route(
            "/api/executions/{name}/task-failure",
            post(api_task_failure),
        )
        .route("/api/stream", get(api_stream))
        .fallback(not_found)
        .with_state(app)
}

// ===== errors =====

/// An error answer: JSON for the API, an HTML page for pages.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    html: bool,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            html: false,
        }
    }

    fn page(mut self) -> ApiError {
        self.html = true;
        self
    }

    fn store(app: &App, e: StoreError) -> ApiError {
        app.forget(&e);
        let (status, code) = match &e {
            StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "ExecutionDoesNotExist"),
            StoreError::InvalidName { .. } => (StatusCode::BAD_REQUEST, "InvalidName"),
            StoreError::AlreadyExists { .. } => (StatusCode::CONFLICT, "ExecutionAlreadyExists"),
            StoreError::Closed { .. } => (StatusCode::CONFLICT, "ExecutionNotRunning"),
            StoreError::Conflict { .. } => (StatusCode::CONFLICT, "HistoryConflict"),
            StoreError::Owned { .. } => (StatusCode::CONFLICT, "ExecutionOwnedElsewhere"),
            StoreError::Corrupt { .. } | StoreError::UnsupportedVersion { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "StoreUnreadable")
            }
            // `Storage`, and kinds added later.
            _ => (StatusCode::SERVICE_UNAVAILABLE, "StoreUnavailable"),
        };
        ApiError::new(status, code, e.to_string())
    }

    fn durable(app: &App, e: DurableError) -> ApiError {
        match e {
            DurableError::Store(e) => ApiError::store(app, e),
            other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidDefinition",
                other.to_string(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.html {
            let body = format!(
                "<section class=\"error-page\"><h1>{} {}</h1><p class=\"error\">{}</p>\
                 <p><a href=\"/\">Back to the executions</a></p></section>",
                self.status.as_u16(),
                esc(self.status.canonical_reason().unwrap_or("")),
                esc(&self.message)
            );
            (self.status, Html(page("Error", &body, ""))).into_response()
        } else {
            (
                self.status,
                Json(json!({"error": self.code, "message": self.message})),
            )
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        "no such page or API route",
    )
}

type Shared = State<Arc<App>>;

fn store_of(app: &App) -> Result<Arc<SqliteStore>, ApiError> {
    app.store().map_err(|e| ApiError::store(app, e))
}

// ===== the JSON API =====

/// The query of `GET /api/executions` and `GET /`.
#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    name: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

impl ListQuery {
    fn page_query(&self) -> Result<PageQuery, ApiError> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                s.parse::<ExecutionStatus>()
                    .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidStatus", e))?,
            ),
        };
        Ok(PageQuery {
            status,
            name_contains: self.name.clone().unwrap_or_default(),
            offset: self.offset.unwrap_or(0),
            limit: self.limit.unwrap_or(PAGE_SIZE).min(MAX_LIMIT),
        })
    }
}

async fn api_list(State(app): Shared, Query(q): Query<ListQuery>) -> Result<Response, ApiError> {
    let query = q.page_query()?;
    let store = store_of(&app)?;
    let page = store
        .list_page(query)
        .await
        .map_err(|e| ApiError::store(&app, e))?;
    let mut res = Json(&page.executions).into_response();
    res.headers_mut()
        .insert("x-total-count", HeaderValue::from(page.total));
    Ok(res)
}

async fn describe(app: &App, name: &str) -> Result<ExecutionRecord, ApiError> {
    let store = store_of(app)?;
    store
        .describe_execution(name)
        .await
        .map_err(|e| ApiError::store(app, e))
}

async fn load(app: &App, name: &str) -> Result<Vec<HistoryEvent>, ApiError> {
    let store = store_of(app)?;
    store
        .load_events(name)
        .await
        .map_err(|e| ApiError::store(app, e))
}

async fn api_describe(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let record = describe(&app, &name).await?;
    let mut v = record_json(&record, true);
    v["runningHere"] = json!(app
        .running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&name));
    Ok(Json(v))
}

async fn api_history(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
) -> Result<Response, ApiError> {
    let events = load(&app, &name).await?;
    let doc = json!({"events": events.iter().map(HistoryEvent::to_aws_json).collect::<Vec<_>>()});
    Ok(Json(doc).into_response())
}

/// The query of `graph.svg`.
#[derive(Debug, Default, Deserialize)]
struct GraphQuery {
    scope: Option<String>,
}

/// The graph of `record` coloured by `events`, or a message when the definition has no graph.
fn graph_svg(
    record: &ExecutionRecord,
    view: &ExecutionView,
    scope: Option<&str>,
) -> Result<String, String> {
    let report = workflow_asl::check_str(&record.definition);
    let machine = report
        .machine
        .ok_or_else(|| "the stored definition is not a state machine".to_owned())?;
    Ok(svg::render(&Graph::build(&machine), &view.statuses(scope)))
}

async fn api_graph(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
    Query(q): Query<GraphQuery>,
) -> Result<Response, ApiError> {
    let record = describe(&app, &name).await?;
    let events = load(&app, &name).await?;
    let view = ExecutionView::build(&events, record.status == ExecutionStatus::Running);
    let svg = graph_svg(&record, &view, q.scope.as_deref().filter(|s| !s.is_empty()))
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "InvalidDefinition", m))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

async fn api_states(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<ExecutionView>, ApiError> {
    let record = describe(&app, &name).await?;
    let events = load(&app, &name).await?;
    Ok(Json(ExecutionView::build(
        &events,
        record.status == ExecutionStatus::Running,
    )))
}

async fn api_state(
    State(app): Shared,
    UrlPath((name, index)): UrlPath<(String, usize)>,
) -> Result<Json<Value>, ApiError> {
    let record = describe(&app, &name).await?;
    let events = load(&app, &name).await?;
    let view = ExecutionView::build(&events, record.status == ExecutionStatus::Running);
    let occ = view.states.get(index).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "StateEntryDoesNotExist",
            format!(
                "execution `{name}` has {} state entries; there is no entry {index}",
                view.states.len()
            ),
        )
    })?;
    let machine = workflow_asl::check_str(&record.definition).machine;
    let steps = machine
        .as_ref()
        .and_then(|m| view::find_state(m, &occ.name))
        .map(|s| view::pipeline(s, occ))
        .unwrap_or_default();
    let mut v = serde_json::to_value(occ).unwrap_or(Value::Null);
    v["steps"] = serde_json::to_value(steps).unwrap_or(Value::Null);
    Ok(Json(v))
}

/// The body of `POST /api/executions`.
#[derive(Debug, Deserialize)]
struct StartBody {
    /// The new execution's name (default: `console-<unix ms>`).
    name: Option<String>,
    /// Its input (default `{}`).
    input: Option<Value>,
    /// Copy the definition and handlers of this execution.
    from: Option<String>,
    /// Or run this definition (text or JSON).
    definition: Option<Value>,
    /// `builtin` or `none` (default: those of `from`, else none).
    handlers: Option<String>,
}

async fn api_start(State(app): Shared, Json(body): Json<StartBody>) -> Result<Response, ApiError> {
    let store = store_of(&app)?;
    let (definition, mut metadata) = match (&body.from, &body.definition) {
        (Some(from), _) => {
            let r = describe(&app, from).await?;
            (r.definition, r.metadata)
        }
        (None, Some(Value::String(text))) => (text.clone(), json!({})),
        (None, Some(v)) => (v.to_string(), json!({})),
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "MissingDefinition",
                "give `from` (an execution to copy) or `definition`",
            ))
        }
    };
    if let Value::Object(m) = &mut metadata {
        m.remove(workflow_runtime::store::SEED_KEY);
    }
    if let Some(h) = &body.handlers {
        if h != "builtin" && h != "none" {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidHandlers",
                format!("handlers must be `builtin` or `none`, not `{h}`"),
            ));
        }
        metadata["handlers"] = json!(h);
    }
    let name = body.name.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        format!("console-{ms}")
    });
    let durable = DurableRuntime::new(app.builder(&definition, &metadata)?, store);
    let execution = durable
        .start(NewExecution {
            name: name.clone(),
            definition,
            input: body.input.unwrap_or_else(|| json!({})),
            metadata,
        })
        .await
        .map_err(|e| ApiError::durable(&app, e))?;
    drive(&app, execution);
    Ok((StatusCode::CREATED, Json(json!({"name": name}))).into_response())
}

/// Lets an execution run to its end in the background, remembering that it runs here.
fn drive(app: &Arc<App>, execution: workflow_runtime::store::DurableExecution) {
    let name = execution.name().to_string();
    app.running
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name.clone());
    let app = app.clone();
    tokio::spawn(async move {
        let _ = execution.wait().await;
        app.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&name);
    });
}

/// The body of `POST …/stop`.
#[derive(Debug, Default, Deserialize)]
struct StopBody {
    error: Option<String>,
    cause: Option<String>,
}

async fn api_stop(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
    body: Option<Json<StopBody>>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map(|b| b.0).unwrap_or_default();
    let store = store_of(&app)?;
    let record = stop_execution(store.as_ref(), &name, body.error, body.cause)
        .await
        .map_err(|e| ApiError::store(&app, e))?;
    Ok(Json(record_json(&record, false)))
}

async fn api_resume(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
) -> Result<Response, ApiError> {
    if app.runs_here(&name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "AlreadyRunningHere",
            format!("execution `{name}` is already running in this console"),
        ));
    }
    let record = describe(&app, &name).await?;
    let store = store_of(&app)?;
    let durable = DurableRuntime::new(app.builder(&record.definition, &record.metadata)?, store);
    let execution = durable
        .resume_execution(&name)
        .await
        .map_err(|e| ApiError::durable(&app, e))?;
    drive(&app, execution);
    Ok((StatusCode::ACCEPTED, Json(json!({"name": name}))).into_response())
}

/// The tasks of execution `name` that wait for a callback in this console; an error when the
/// execution is unknown, or is running in another process.
async fn waiting(app: &App, name: &str) -> Result<Vec<WaitingTask>, ApiError> {
    let record = describe(app, name).await?;
    if record.status == ExecutionStatus::Running && !app.runs_here(name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "NotRunHere",
            format!(
                "execution `{name}` is not run by this console: answer its tasks through the --serve address of the process that runs it, or resume it here once that process has ended"
            ),
        ));
    }
    Ok(app.callbacks.waiting_tasks(Some(name)))
}

fn task_json(t: &WaitingTask) -> Value {
    json!({"taskToken": t.token, "state": t.state})
}

async fn api_tasks(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let tasks = waiting(&app, &name).await?;
    Ok(Json(Value::Array(tasks.iter().map(task_json).collect())))
}

/// The body of `POST …/task-success` and `…/task-failure`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackBody {
    /// The task's token; may be left out when exactly one task of the execution waits.
    task_token: Option<String>,
    /// `task-success`: the task's result.
    output: Option<Value>,
    /// `task-failure`: the error name.
    error: Option<String>,
    /// `task-failure`: the cause.
    cause: Option<String>,
}

/// The token a callback answers: the one given (it must be a task of this execution that
/// waits), else the only waiting one.
async fn token_of(app: &App, name: &str, body: &CallbackBody) -> Result<String, ApiError> {
    let tasks = waiting(app, name).await?;
    match &body.task_token {
        Some(t) => {
            if tasks.iter().any(|w| &w.token == t) {
                Ok(t.clone())
            } else if let Err(e) = app.callbacks.probe(t) {
                // Not waiting: the registry says why (InvalidToken, TaskTimedOut, …).
                Err(callback_error(e))
            } else {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "TaskDoesNotExist",
                    format!(
                        "Task does not exist: the token '{t}' is not a task of execution `{name}`"
                    ),
                ))
            }
        }
        None => match tasks.as_slice() {
            [one] => Ok(one.token.clone()),
            [] => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "TaskDoesNotExist",
                format!("no task of execution `{name}` waits for a callback"),
            )),
            _ => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "MissingTaskToken",
                format!(
                    "{} tasks of execution `{name}` wait for a callback: give `taskToken`",
                    tasks.len()
                ),
            )),
        },
    }
}

fn callback_error(e: CallbackError) -> ApiError {
    let code = e.aws_name();
    ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
}

async fn api_task_success(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
    Json(body): Json<CallbackBody>,
) -> Result<Json<Value>, ApiError> {
    let token = token_of(&app, &name, &body).await?;
    let output = body.output.unwrap_or_else(|| json!({}));
    app.callbacks
        .send_success(&token, output)
        .map_err(callback_error)?;
    Ok(Json(json!({"taskToken": token})))
}

async fn api_task_failure(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
    Json(body): Json<CallbackBody>,
) -> Result<Json<Value>, ApiError> {
    let token = token_of(&app, &name, &body).await?;
    app.callbacks
        .send_failure(&token, body.error, body.cause)
        .map_err(callback_error)?;
    Ok(Json(json!({"taskToken": token})))
}

/// The query of `GET /api/stream`.
#[derive(Debug, Default, Deserialize)]
struct StreamQuery {
    execution: Option<String>,
}

/// What the stream compares between two looks at the store.
async fn fingerprint(app: &App, execution: Option<&str>) -> Result<String, String> {
    let store = app.store().map_err(|e| e.to_string())?;
    match execution {
        Some(name) => {
            let r = store
                .describe_execution(name)
                .await
                .map_err(|e| e.to_string())?;
            Ok(format!("{} {}", r.status, r.event_count))
        }
        None => {
            let page = store
                .list_page(PageQuery {
                    limit: PAGE_SIZE,
                    ..PageQuery::default()
                })
                .await
                .map_err(|e| e.to_string())?;
            let mut f = page.total.to_string();
            for s in &page.executions {
                let _ = write!(f, " {}:{}:{}", s.name, s.status, s.event_count);
            }
            Ok(f)
        }
    }
}

async fn api_stream(
    State(app): Shared,
    Query(q): Query<StreamQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (app, q.execution, None::<String>, true),
        |(app, execution, last, first)| async move {
            loop {
                if !first || last.is_some() {
                    tokio::time::sleep(POLL).await;
                }
                let now = fingerprint(&app, execution.as_deref()).await;
                let (key, event) = match now {
                    Ok(f) => (f.clone(), Event::default().event("change").data(f)),
                    Err(e) => (
                        format!("error {e}"),
                        Event::default().event("error").data(e),
                    ),
                };
                if last.as_deref() != Some(key.as_str()) {
                    return Some((Ok(event), (app, execution, Some(key), false)));
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

// ===== pages =====

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment or query value.
fn url(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn page(title: &str, body: &str, view: &str) -> String {
    PAGE.replacen("<!--TITLE-->", &esc(title), 1)
        .replacen("<!--VIEW-->", view, 1)
        .replacen("<!--BODY-->", body, 1)
}

fn status_badge(status: &str) -> String {
    format!(
        "<span class=\"badge s-{}\">{}</span>",
        esc(&status.to_ascii_lowercase()),
        esc(status)
    )
}

fn duration(start: &str, stop: Option<&str>) -> String {
    let Some(stop) = stop else {
        return String::new();
    };
    match (
        chrono::DateTime::parse_from_rfc3339(start),
        chrono::DateTime::parse_from_rfc3339(stop),
    ) {
        (Ok(a), Ok(b)) => {
            let ms = (b - a).num_milliseconds();
            if ms < 1000 {
                format!("{ms} ms")
            } else {
                format!("{:.3} s", ms as f64 / 1000.0)
            }
        }
        _ => String::new(),
    }
}

async fn list_page(
    State(app): Shared,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, ApiError> {
    let query = q.page_query().map_err(ApiError::page)?;
    let store = store_of(&app).map_err(ApiError::page)?;
    let listing = store
        .list_page(query.clone())
        .await
        .map_err(|e| ApiError::store(&app, e).page())?;
    let mut b = String::new();
    let status = query.status.map(|s| s.as_str()).unwrap_or("");
    let _ = write!(
        b,
        "<section id=\"list\"><h1>Executions <small id=\"total\">{}</small></h1>\
         <form class=\"filters\" method=\"get\" action=\"/\"><input name=\"name\" placeholder=\"name contains…\" value=\"{}\">\
         <select name=\"status\"><option value=\"\">any status</option>",
        listing.total,
        esc(&query.name_contains)
    );
    for s in ExecutionStatus::ALL {
        let _ = write!(
            b,
            "<option{}>{}</option>",
            if s.as_str() == status {
                " selected"
            } else {
                ""
            },
            s.as_str()
        );
    }
    b.push_str(
        "</select><button>Filter</button></form>\
         <table class=\"executions\"><thead><tr><th>Name</th><th>Status</th><th>Started</th>\
         <th>Stopped</th><th>Duration</th><th>Events</th></tr></thead><tbody id=\"rows\">",
    );
    for s in &listing.executions {
        let _ = write!(
            b,
            "<tr data-name=\"{}\"><td><a class=\"exec-link\" href=\"/executions/{}\">{}</a></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.name),
            url(&s.name),
            esc(&s.name),
            status_badge(s.status.as_str()),
            esc(&s.start_date),
            esc(s.stop_date.as_deref().unwrap_or("")),
            duration(&s.start_date, s.stop_date.as_deref()),
            s.event_count
        );
    }
    if listing.executions.is_empty() {
        b.push_str("<tr><td colspan=\"6\" class=\"empty\">No executions match.</td></tr>");
    }
    b.push_str("</tbody></table><nav class=\"pager\">");
    let link = |offset: usize| {
        format!(
            "/?name={}&status={}&offset={offset}",
            url(&query.name_contains),
            status
        )
    };
    if query.offset > 0 {
        let _ = write!(
            b,
            "<a href=\"{}\">← newer</a> ",
            esc(&link(query.offset.saturating_sub(query.limit)))
        );
    }
    let shown_to = query.offset + listing.executions.len();
    if listing.total > 0 {
        let _ = write!(
            b,
            "<span>{}–{} of {}</span>",
            query.offset + 1,
            shown_to,
            listing.total
        );
    }
    if (shown_to as u64) < listing.total {
        let _ = write!(b, " <a href=\"{}\">older →</a>", esc(&link(shown_to)));
    }
    b.push_str("</nav></section>");
    Ok(Html(page("Executions", &b, "list")))
}

async fn execution_page(
    State(app): Shared,
    UrlPath(name): UrlPath<String>,
) -> Result<Html<String>, ApiError> {
    let record = describe(&app, &name).await.map_err(ApiError::page)?;
    let events = load(&app, &name).await.map_err(ApiError::page)?;
    let running = record.status == ExecutionStatus::Running;
    let view = ExecutionView::build(&events, running);
    let graph = match graph_svg(&record, &view, None) {
        Ok(svg) => svg,
        Err(m) => format!("<p class=\"error\">{}</p>", esc(&m)),
    };
    let transitions = view.states.len();
    let mut b = String::new();
    let _ = write!(
        b,
        "<section id=\"execution\" data-name=\"{}\" data-status=\"{}\">\
         <p class=\"crumbs\"><a href=\"/\">Executions</a> › {}</p>\
         <h1>{} {}</h1><dl class=\"summary\">\
         <dt>Started</dt><dd>{}</dd><dt>Stopped</dt><dd>{}</dd><dt>Duration</dt><dd>{}</dd>\
         <dt>State transitions</dt><dd>{transitions}</dd><dt>Events</dt><dd>{}</dd>",
        esc(&name),
        record.status.as_str(),
        esc(&name),
        esc(&name),
        status_badge(record.status.as_str()),
        esc(&record.start_date),
        esc(record.stop_date.as_deref().unwrap_or("—")),
        duration(&record.start_date, record.stop_date.as_deref()),
        record.event_count
    );
    if let Some(e) = &record.error {
        let _ = write!(b, "<dt>Error</dt><dd class=\"error\">{}</dd>", esc(e));
    }
    if let Some(c) = &record.cause {
        let _ = write!(
            b,
            "<dt>Cause</dt><dd class=\"error\"><pre>{}</pre></dd>",
            esc(c)
        );
    }
    b.push_str("</dl><div class=\"actions\" id=\"actions\"></div>");
    let _ = write!(
        b,
        "<div class=\"tabs\"><button data-tab=\"graph\" class=\"on\">Graph</button>\
         <button data-tab=\"table\">States</button><button data-tab=\"events\">Events</button>\
         <button data-tab=\"io\">Input / output</button>\
         <label class=\"picker\">Branch / iteration <select id=\"scope\"><option value=\"\">all</option></select></label></div>\
         <div class=\"panes\"><div class=\"pane on\" id=\"pane-graph\"><div id=\"graph\">{graph}</div></div>\
         <div class=\"pane\" id=\"pane-table\"><table class=\"states\"><thead><tr><th>#</th><th>State</th><th>Type</th>\
         <th>Scope</th><th>Status</th><th>Entered</th><th>Duration</th><th>Retries</th></tr></thead><tbody id=\"state-rows\"></tbody></table></div>\
         <div class=\"pane\" id=\"pane-events\"><pre id=\"events\">loading…</pre></div>\
         <div class=\"pane\" id=\"pane-io\"><h3>Input</h3><pre>{}</pre><h3>Output</h3><pre>{}</pre></div></div>\
         <aside id=\"side\" hidden><button class=\"close\" id=\"side-close\">×</button><div id=\"side-body\"></div></aside></section>",
        esc(&serde_json::to_string_pretty(&record.input).unwrap_or_default()),
        esc(&record
            .output
            .as_ref()
            .map(|o| serde_json::to_string_pretty(o).unwrap_or_default())
            .unwrap_or_else(|| "—".into())),
    );
    Ok(Html(page(&name, &b, "execution")))
}
