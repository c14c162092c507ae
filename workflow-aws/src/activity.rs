//! The Step Functions Activity worker (cargo feature `activity`).
//!
//! A worker long-polls `GetActivityTask` for one activity, runs a handler on each task's input
//! and answers with `SendTaskSuccess` (the handler's output) or `SendTaskFailure` (the
//! [`TaskError`]'s error and cause). While a handler runs, the worker sends `SendTaskHeartbeat`
//! every [`ActivityWorker::heartbeat_interval`]: choose it below the state's `HeartbeatSeconds`.
//! If a heartbeat answers `TaskTimedOut` (the state gave up), the handler is dropped and its
//! result never sent. [`ActivityWorker::concurrency`] tasks run at once, each with its own poller.
//!
//! Shutdown ([`ActivityWorker::run_until`], or SIGTERM/Ctrl-C with [`ActivityWorker::run`]):
//! the pollers stop asking for tasks at once (an outstanding long poll is abandoned); tasks
//! already started run to the end and their results are sent, then `run_until` returns.
//!
//! The protocol: <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-activities.html>.
//! Limits applied before sending (AWS's API reference for `SendTaskFailure`): `error` is cut to
//! 256 characters and `cause` to 32,768.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sfn::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sfn::Client;
use serde_json::Value;
use tokio::sync::watch;

use crate::handlers::{call, TaskHandler, TaskHandlers};
use crate::TaskError;

/// The most characters of an `error` that `SendTaskFailure` accepts.
pub const MAX_ERROR_CHARS: usize = 256;
/// The most characters of a `cause` that `SendTaskFailure` accepts.
pub const MAX_CAUSE_CHARS: usize = 32_768;

/// Why a worker could not start or stopped.
///
/// ```
/// use serde_json::Value;
/// use workflow_aws::activity::{ActivityWorker, WorkerError};
/// use workflow_aws::{TaskError, TaskHandlers};
/// # fn client() -> aws_sdk_sfn::Client {
/// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
/// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// #     let conf = aws_sdk_sfn::Config::builder()
/// #         .behavior_version(BehaviorVersion::latest())
/// #         .region(Region::new("us-east-1"))
/// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
/// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
/// #         .build();
/// #     aws_sdk_sfn::Client::from_conf(conf)
/// # }
/// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
///
/// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
/// let err = ActivityWorker::new(client(), ARN, &handlers, "validate").unwrap_err();
/// assert!(matches!(&err, WorkerError::NoHandler { name, known } if name == "validate" && known == &["echo"]));
/// assert_eq!(err.to_string(), "no handler is named `validate`; the handlers are: echo");
/// let gone = WorkerError::ActivityDoesNotExist {
///     arn: ARN.to_string(),
///     message: "Activity Does Not Exist".to_string(),
/// };
/// assert_eq!(
///     gone.to_string(),
///     format!("the activity {ARN} does not exist: Activity Does Not Exist")
/// );
/// ```
#[derive(Debug)]
pub enum WorkerError {
    /// The handler asked for is not registered.
    NoHandler {
        /// The name asked for.
        name: String,
        /// The handlers there are.
        known: Vec<String>,
    },
    /// Step Functions says the activity does not exist (`ActivityDoesNotExist`).
    ActivityDoesNotExist {
        /// The activity.
        arn: String,
        /// AWS's message.
        message: String,
    },
}

impl std::fmt::Display for WorkerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WorkerError::NoHandler { name, known } => write!(
                f,
                "no handler is named `{name}`; the handlers are: {}",
                known.join(", ")
            ),
            WorkerError::ActivityDoesNotExist { arn, message } => {
                write!(f, "the activity {arn} does not exist: {message}")
            }
        }
    }
}

impl std::error::Error for WorkerError {}

/// What a worker did, returned when it stops.
///
/// ```
/// use serde_json::Value;
/// use workflow_aws::activity::{ActivityWorker, WorkerStats};
/// use workflow_aws::{TaskError, TaskHandlers};
/// # fn client() -> aws_sdk_sfn::Client {
/// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
/// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
/// #     let conf = aws_sdk_sfn::Config::builder()
/// #         .behavior_version(BehaviorVersion::latest())
/// #         .region(Region::new("us-east-1"))
/// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
/// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
/// #         .build();
/// #     aws_sdk_sfn::Client::from_conf(conf)
/// # }
/// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
///
/// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
/// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?;
/// // Stopped before any task came: nothing done.
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let stats = rt.block_on(worker.run_until(async {}))?;
/// assert_eq!(stats, WorkerStats::default());
/// assert_eq!((stats.succeeded, stats.failed, stats.abandoned, stats.heartbeats), (0, 0, 0, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    /// Tasks answered with `SendTaskSuccess`.
    pub succeeded: u64,
    /// Tasks answered with `SendTaskFailure`.
    pub failed: u64,
    /// Tasks given up because a heartbeat said `TaskTimedOut` (or the answer could not be sent).
    pub abandoned: u64,
    /// Heartbeats sent.
    pub heartbeats: u64,
}

#[derive(Default)]
struct Counters {
    succeeded: AtomicU64,
    failed: AtomicU64,
    abandoned: AtomicU64,
    heartbeats: AtomicU64,
}

impl Counters {
    fn stats(&self) -> WorkerStats {
        WorkerStats {
            succeeded: self.succeeded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
            heartbeats: self.heartbeats.load(Ordering::Relaxed),
        }
    }
}

/// A worker for one activity and one handler.
///
/// ```
/// use std::time::Duration;
/// use serde_json::Value;
/// use workflow_aws::activity::ActivityWorker;
/// use workflow_aws::{TaskError, TaskHandlers};
///
/// fn client() -> aws_sdk_sfn::Client {
///     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
///     // A loopback port nothing listens on: no request leaves the machine.
///     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
///     let conf = aws_sdk_sfn::Config::builder()
///         .behavior_version(BehaviorVersion::latest())
///         .region(Region::new("us-east-1"))
///         .endpoint_url(format!("http://127.0.0.1:{port}"))
///         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
///         .build();
///     aws_sdk_sfn::Client::from_conf(conf)
/// }
/// const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
///
/// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
/// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?
///     .concurrency(4)
///     .heartbeat_interval(Duration::from_secs(5))
///     .worker_name("worker-1");
/// assert_eq!(
///     format!("{worker:?}"),
///     format!(
///         "ActivityWorker {{ activity_arn: \"{ARN}\", handler: \"echo\", \
///          worker_name: \"worker-1\", concurrency: 4, heartbeat_interval: 5s }}"
///     )
/// );
/// // In a binary: `worker.run().await?` serves tasks until SIGTERM or Ctrl-C.
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ActivityWorker {
    client: Client,
    activity_arn: String,
    handler_name: String,
    handler: TaskHandler,
    worker_name: String,
    concurrency: usize,
    heartbeat_interval: Duration,
    retry_delay: Duration,
}

impl std::fmt::Debug for ActivityWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityWorker")
            .field("activity_arn", &self.activity_arn)
            .field("handler", &self.handler_name)
            .field("worker_name", &self.worker_name)
            .field("concurrency", &self.concurrency)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .finish()
    }
}

impl ActivityWorker {
    /// A worker running the handler `handler` of `handlers` on the tasks of `activity_arn`, one
    /// task at a time, heartbeating every 10 seconds.
    ///
    /// ```
    /// use serde_json::Value;
    /// use workflow_aws::activity::{ActivityWorker, WorkerError};
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?;
    /// let shown = format!("{worker:?}");
    /// assert!(shown.contains("concurrency: 1, heartbeat_interval: 10s"), "{shown}");
    /// assert!(shown.contains(&format!("worker_name: \"workflow-aws-{}\"", std::process::id())));
    /// assert!(matches!(
    ///     ActivityWorker::new(client(), ARN, &handlers, "missing"),
    ///     Err(WorkerError::NoHandler { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        client: Client,
        activity_arn: &str,
        handlers: &TaskHandlers,
        handler: &str,
    ) -> Result<ActivityWorker, WorkerError> {
        let Some(h) = handlers.get(handler) else {
            return Err(WorkerError::NoHandler {
                name: handler.to_string(),
                known: handlers.names().map(str::to_string).collect(),
            });
        };
        Ok(ActivityWorker {
            client,
            activity_arn: activity_arn.to_string(),
            handler_name: handler.to_string(),
            handler: h.clone(),
            worker_name: format!("workflow-aws-{}", std::process::id()),
            concurrency: 1,
            heartbeat_interval: Duration::from_secs(10),
            retry_delay: Duration::from_secs(1),
        })
    }

    /// How many tasks run at once (at least 1).
    ///
    /// ```
    /// use serde_json::Value;
    /// use workflow_aws::activity::ActivityWorker;
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?;
    /// assert!(format!("{:?}", worker.clone().concurrency(8)).contains("concurrency: 8"));
    /// assert!(format!("{:?}", worker.concurrency(0)).contains("concurrency: 1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn concurrency(mut self, n: usize) -> ActivityWorker {
        self.concurrency = n.max(1);
        self
    }

    /// How often a running task sends `SendTaskHeartbeat`; keep it below the state's
    /// `HeartbeatSeconds` (at least 1 ms).
    ///
    /// ```
    /// use std::time::Duration;
    /// use serde_json::Value;
    /// use workflow_aws::activity::ActivityWorker;
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?;
    /// let every_20s = worker.clone().heartbeat_interval(Duration::from_secs(20));
    /// assert!(format!("{every_20s:?}").contains("heartbeat_interval: 20s"));
    /// let zero = worker.heartbeat_interval(Duration::ZERO);
    /// assert!(format!("{zero:?}").contains("heartbeat_interval: 1ms"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn heartbeat_interval(mut self, every: Duration) -> ActivityWorker {
        self.heartbeat_interval = every.max(Duration::from_millis(1));
        self
    }

    /// The `workerName` sent with `GetActivityTask` (default `workflow-aws-<pid>`).
    ///
    /// ```
    /// use serde_json::Value;
    /// use workflow_aws::activity::ActivityWorker;
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?.worker_name("host-a/1");
    /// assert!(format!("{worker:?}").contains("worker_name: \"host-a/1\""));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn worker_name(mut self, name: &str) -> ActivityWorker {
        self.worker_name = name.to_string();
        self
    }

    /// How long a poller waits after a failed `GetActivityTask` before asking again (default 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// use serde_json::Value;
    /// use workflow_aws::activity::{ActivityWorker, WorkerStats};
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// // The endpoint refuses connections: the poller fails, waits an hour, and the shutdown
    /// // interrupts the wait (a stop never waits out the delay).
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?
    ///     .retry_delay(Duration::from_secs(3600));
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let stats = rt.block_on(async {
    ///     let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    ///     let running = tokio::spawn(worker.run_until(async {
    ///         let _ = stopped.await;
    ///     }));
    ///     tokio::task::yield_now().await;
    ///     let _ = stop.send(());
    ///     tokio::time::timeout(Duration::from_secs(60), running).await
    /// })???;
    /// assert_eq!(stats, WorkerStats::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry_delay(mut self, delay: Duration) -> ActivityWorker {
        self.retry_delay = delay;
        self
    }

    /// Runs until SIGTERM or Ctrl-C, then finishes the tasks it started.
    ///
    /// Compiled, not run, by `cargo test`: it sends SIGTERM to its own process, and a second
    /// example doing so in the same doc-test process ([`shutdown_signal`]'s, which runs) could
    /// end the other's wait early. [`ActivityWorker::run_until`] shows a worker stopped by a
    /// future.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use serde_json::Value;
    /// use workflow_aws::activity::{ActivityWorker, WorkerStats};
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?;
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let stats = rt.block_on(async {
    ///     let running = tokio::spawn(worker.run());
    ///     // Let the worker start (and take over SIGTERM), then send SIGTERM to this process.
    ///     for _ in 0..3 {
    ///         tokio::task::yield_now().await;
    ///     }
    ///     let pid = std::process::id().to_string();
    ///     assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status()?.success());
    ///     Ok::<_, Box<dyn std::error::Error>>(tokio::time::timeout(Duration::from_secs(60), running).await???)
    /// })?;
    /// assert_eq!(stats, WorkerStats::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn run(self) -> Result<WorkerStats, WorkerError> {
        self.run_until(shutdown_signal()).await
    }

    /// Runs until `shutdown` completes, then finishes the tasks it started.
    ///
    /// ```
    /// use serde_json::Value;
    /// use workflow_aws::activity::{ActivityWorker, WorkerStats};
    /// use workflow_aws::{TaskError, TaskHandlers};
    /// # fn client() -> aws_sdk_sfn::Client {
    /// #     use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
    /// #     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// #     let conf = aws_sdk_sfn::Config::builder()
    /// #         .behavior_version(BehaviorVersion::latest())
    /// #         .region(Region::new("us-east-1"))
    /// #         .endpoint_url(format!("http://127.0.0.1:{port}"))
    /// #         .credentials_provider(Credentials::new("test", "test", None, None, "test"))
    /// #         .build();
    /// #     aws_sdk_sfn::Client::from_conf(conf)
    /// # }
    /// # const ARN: &str = "arn:aws:states:us-east-1:123456789012:activity:echo";
    ///
    /// let handlers = TaskHandlers::new().raw("echo", |v: Value| async move { Ok::<_, TaskError>(v) });
    /// let worker = ActivityWorker::new(client(), ARN, &handlers, "echo")?.concurrency(2);
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// // A shutdown that comes at once: the pollers stop, no task was started.
    /// let stats = rt.block_on(worker.run_until(std::future::ready(())))?;
    /// assert_eq!(stats, WorkerStats::default());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<WorkerStats, WorkerError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let worker = Arc::new(self);
        let mut pollers = tokio::task::JoinSet::new();
        for _ in 0..worker.concurrency {
            let worker = Arc::clone(&worker);
            let counters = Arc::clone(&counters);
            let stop = stop_rx.clone();
            pollers.spawn(async move { worker.poll_loop(stop, &counters).await });
        }
        let mut result = Ok(());
        tokio::select! {
            () = shutdown => {}
            Some(joined) = pollers.join_next() => {
                // A poller only ends early on a fatal error.
                if let Ok(Err(e)) = joined {
                    result = Err(e);
                }
            }
        }
        let _ = stop_tx.send(true);
        while let Some(joined) = pollers.join_next().await {
            if let Ok(Err(e)) = joined
                && result.is_ok()
            {
                result = Err(e);
            }
        }
        result.map(|()| counters.stats())
    }

    async fn poll_loop(
        &self,
        mut stop: watch::Receiver<bool>,
        counters: &Counters,
    ) -> Result<(), WorkerError> {
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let poll = self
                .client
                .get_activity_task()
                .activity_arn(&self.activity_arn)
                .worker_name(&self.worker_name)
                .send();
            let got = tokio::select! {
                _ = stop.changed() => return Ok(()),
                got = poll => got,
            };
            match got {
                Ok(task) => {
                    // An empty token: the long poll ended without a task.
                    let Some(token) = task.task_token().filter(|t| !t.is_empty()) else {
                        continue;
                    };
                    let input = task.input().unwrap_or("null");
                    self.run_task(token, input, counters).await;
                }
                Err(e) => {
                    if e.code() == Some("ActivityDoesNotExist") {
                        return Err(WorkerError::ActivityDoesNotExist {
                            arn: self.activity_arn.clone(),
                            message: e.message().unwrap_or_default().to_string(),
                        });
                    }
                    eprintln!(
                        "workflow-aws: GetActivityTask failed, retrying in {:?}: {}",
                        self.retry_delay,
                        DisplayErrorContext(&e)
                    );
                    tokio::select! {
                        _ = stop.changed() => return Ok(()),
                        () = tokio::time::sleep(self.retry_delay) => {}
                    }
                }
            }
        }
    }

    /// Runs one task with heartbeats and sends its answer.
    async fn run_task(&self, token: &str, input: &str, counters: &Counters) {
        let result = match serde_json::from_str::<Value>(input) {
            Ok(input) => {
                let work = call(&self.handler, &self.handler_name, input);
                tokio::pin!(work);
                let mut ticker = tokio::time::interval(self.heartbeat_interval);
                ticker.tick().await; // the first tick is immediate
                loop {
                    tokio::select! {
                        result = &mut work => break result,
                        _ = ticker.tick() => {
                            counters.heartbeats.fetch_add(1, Ordering::Relaxed);
                            let beat = self.client.send_task_heartbeat().task_token(token).send().await;
                            if let Err(e) = beat {
                                if matches!(e.code(), Some("TaskTimedOut" | "TaskDoesNotExist" | "InvalidToken")) {
                                    counters.abandoned.fetch_add(1, Ordering::Relaxed);
                                    return;
                                }
                                eprintln!("workflow-aws: SendTaskHeartbeat failed: {}", DisplayErrorContext(&e));
                            }
                        }
                    }
                }
            }
            Err(e) => Err(TaskError::task_failed(format!(
                "the activity task's input is not JSON: {e}"
            ))),
        };
        let sent = match &result {
            Ok(output) => self
                .client
                .send_task_success()
                .task_token(token)
                .output(output.to_string())
                .send()
                .await
                .map(|_| &counters.succeeded)
                .map_err(|e| DisplayErrorContext(e).to_string()),
            Err(e) => self
                .client
                .send_task_failure()
                .task_token(token)
                .error(truncate(&e.error, MAX_ERROR_CHARS))
                .cause(truncate(e.cause.as_deref().unwrap_or(""), MAX_CAUSE_CHARS))
                .send()
                .await
                .map(|_| &counters.failed)
                .map_err(|e| DisplayErrorContext(e).to_string()),
        };
        match sent {
            Ok(counter) => {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Err(why) => {
                counters.abandoned.fetch_add(1, Ordering::Relaxed);
                eprintln!("workflow-aws: could not send the task's answer: {why}");
            }
        }
    }
}

/// The first `max` characters of `s`.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

/// Completes on SIGTERM (Unix) or Ctrl-C.
///
/// ```
/// use std::time::Duration;
/// use workflow_aws::activity::shutdown_signal;
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// rt.block_on(async {
///     let waiting = tokio::spawn(shutdown_signal());
///     // Let it take over SIGTERM, then send SIGTERM to this process: it completes.
///     for _ in 0..3 {
///         tokio::task::yield_now().await;
///     }
///     assert!(!waiting.is_finished());
///     let pid = std::process::id().to_string();
///     assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status()?.success());
///     tokio::time::timeout(Duration::from_secs(60), waiting).await??;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
