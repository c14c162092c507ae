//! The console in a real browser: headless Chromium driven through `chromedriver` (WebDriver)
//! with fantoccini. Opens the list, clicks an execution, sees the coloured graph, opens a
//! state's side panel.
//!
//! Needs `chromium` and `chromium-driver` (Debian packages; `.ci/run` installs them). Without
//! them the test prints "skipped" and passes, except under `CI=true`, where it fails.
//! With `CONSOLE_SCREENSHOTS=DIR` it saves `console-list.png` and `console-execution.png` there
//! (how the screenshots in `docs/` are made).

use crate::support;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use support::{seed_demo, Console, TempDir};

/// The first of `names` found on `PATH` (or in /usr/bin).
fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/lib/chromium"));
    for name in names {
        for d in &dirs {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// A chromedriver process, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_driver(driver: &Path) -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let guard = Driver(child);
    let until = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (guard, port)
}

#[test]
fn a_browser_opens_an_execution_and_sees_the_coloured_graph() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let (Some(driver), Some(chromium)) = (
        find(&["chromedriver"]),
        find(&["chromium", "chromium-browser", "google-chrome"]),
    ) else {
        assert!(
            !ci,
            "chromedriver or chromium is missing: install the Debian packages `chromium chromium-driver` (.ci/run does)"
        );
        println!("skipped: chromedriver or chromium not found (apt-get install chromium chromium-driver)");
        return;
    };
    let dir = TempDir::new("browser");
    let db = dir.path("runs.db");
    seed_demo(&db);
    let console = Console::start(&db);
    let (_driver, port) = start_driver(&driver);
    let profile = dir.path("profile");
    std::fs::create_dir_all(&profile).expect("profile dir");
    let shots = std::env::var_os("CONSOLE_SCREENSHOTS").map(PathBuf::from);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        let result = async {
            client.goto(&console.url).await?;
            let link = client
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css("a.exec-link[href='/executions/order-2']"))
                .await?;
            assert_eq!(link.text().await?, "order-2");
            if let Some(dir) = &shots {
                std::fs::write(dir.join("console-list.png"), client.screenshot().await?)
                    .expect("save the screenshot");
            }
            link.click().await?;
            // The page's script has loaded the states and events and redrawn the graph.
            client
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css("body[data-ready='1']"))
                .await?;
            let failed = client
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css("#graph svg [data-state='Decline'][data-status='failed']"))
                .await?;
            assert_eq!(failed.attr("data-type").await?.as_deref(), Some("Task"));
            assert!(client.current_url().await?.as_str().ends_with("/executions/order-2"));
            let states = client.find_all(Locator::Css("#graph svg [data-state]")).await?;
            assert_eq!(states.len(), 13, "one element per state");
            let ok = client
                .find(Locator::Css("#graph svg [data-state='Validate']"))
                .await?;
            assert_eq!(ok.attr("data-status").await?.as_deref(), Some("succeeded"));
            // The colours come from the CSS: failed is red, succeeded green, caught orange.
            let fills = client
                .execute(
                    "return ['Decline','Validate','Fulfil'].map(n => getComputedStyle(\
                     document.querySelector(`#graph [data-state='${n}'] > rect`)).fill);",
                    vec![],
                )
                .await?;
            assert_eq!(
                fills,
                json!(["rgb(251, 218, 218)", "rgb(220, 242, 220)", "rgb(255, 232, 194)"])
            );
            // Click a state: the side panel shows its input, output and path pipeline.
            ok.click().await?;
            let side = client
                .wait()
                .at_most(Duration::from_secs(20))
                .for_element(Locator::Css("#side-body .step"))
                .await?;
            let _ = side;
            let panel = client.find(Locator::Css("#side-body")).await?.text().await?;
            for want in ["Validate", "Input", "InputPath", "ResultSelector", "ResultPath", "retries 1"] {
                assert!(panel.contains(want), "{want} in {panel}");
            }
            if let Some(dir) = &shots {
                std::fs::write(dir.join("console-execution.png"), client.screenshot().await?)
                    .expect("save the screenshot");
            }
            Ok::<(), fantoccini::error::CmdError>(())
        }
        .await;
        let _ = client.close().await;
        result.expect("the browser steps");
    });
}
