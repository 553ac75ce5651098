//! The control panel end to end, in a real headless browser: a program with
//! decorated functions runs with its panel; a person opens it, switches a
//! function to mock, adds a manual outcome and gives it a weight; the
//! program's next call returns that outcome.
//!
//! Needs Chromium and its driver (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` installs them). `CHROMEDRIVER` and
//! `CHROMIUM` name other binaries.

#[path = "../support/interactive.rs"]
mod interactive;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use self::interactive::Interactive;

/// The probe (tests/probe) with the panel on a free port, taking commands
/// on stdin, and its data dir.
fn program(args: &[&str]) -> (Interactive, tempfile::TempDir) {
    let data = tempfile::Builder::new().prefix("browser-").tempdir().expect("a temporary dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cacheow-probe"));
    command
        .args(args)
        .env("CACHEOW_ENABLE", "1")
        .env("CACHEOW_DATA_DIR", data.path().join("data"))
        .env("CACHEOW_START_SERVER", "1")
        .env("CACHEOW_SERVER_PORT", "0")
        .env_remove("CACHEOW_SEED");
    (Interactive::spawn(command), data)
}

/// chromedriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run `{binary}` ({error}): install Chromium and its driver (Debian: `apt-get install \
                     chromium chromium-driver`), or name the driver in CHROMEDRIVER"
                )
            });
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, url: format!("http://127.0.0.1:{port}") }
    }

    async fn browser(&self) -> Client {
        let mut options =
            json!({ "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
        let chromium = std::env::var("CHROMIUM").ok().or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
                .into_iter()
                .find(|path| std::path::Path::new(path).exists())
                .map(str::to_owned)
        });
        if let Some(chromium) = chromium {
            options["binary"] = json!(chromium);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("chromedriver could not start Chromium: {error}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of the first `css` element once it passes `check`: a form's
/// page loads after the click that posts it.
async fn text_of(browser: &Client, css: &str, check: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(10) {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if check(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let page = browser.current_url().await.map(|url| url.to_string()).unwrap_or_default();
    let source = browser.source().await.unwrap_or_default();
    panic!("`{css}` never passed the check on {page}; last seen: {last:?}. The page:\n{source}")
}

async fn shows(browser: &Client, css: &str, expected: &str) {
    text_of(browser, css, |text| text == expected).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_person_mocks_a_function_from_the_panel_and_the_program_follows() {
    // Flushed, so that the panel shows the call at once.
    let (mut program, _data) = program(&["square", "3", "flush"]);
    let url = program.run("panel", "panel");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let driver = Driver::start();
    let browser = driver.browser().await;
    let result = drive(&browser, &url, &mut program).await;
    let _ = browser.close().await;
    result.unwrap_or_else(|error| panic!("{error}"));
    let stderr = program.finish();
    assert!(!stderr.contains("WARN"), "the program ran without a warning: {stderr}");
}

async fn drive(browser: &Client, url: &str, program: &mut Interactive) -> Result<(), fantoccini::error::CmdError> {
    browser.goto(url).await?;
    assert_eq!(browser.title().await?, "Functions · cacheow");
    // The keyboard reaches the skip link first.
    browser.active_element().await?.send_keys(&Key::Tab).await?;
    assert_eq!(browser.active_element().await?.text().await?, "Skip to content");

    browser.find(Locator::LinkText("square")).await?.click().await?;
    text_of(browser, "h1", |title| title.starts_with("square")).await;
    assert!(browser.find(Locator::Css("figure.chart svg rect.ev-recorded")).await.is_ok(), "the chart shows the call");

    // Mock mode, chosen and submitted from the keyboard.
    browser.find(Locator::Css("input[name='mode'][value='mock']")).await?.click().await?;
    browser.find(Locator::XPath("//button[text()='Set mode']")).await?.send_keys(&Key::Enter).await?;
    shows(browser, "p.notice", "Mode set. Running programs switch within 100 ms.").await;
    shows(browser, "h1 .badge", "mock").await;

    // A manual return outcome.
    browser.find(Locator::Id("manual-value")).await?.send_keys("42").await?;
    browser.find(Locator::XPath("//button[text()='Add outcome']")).await?.click().await?;
    shows(browser, "p.notice", "Manual outcome added.").await;
    let manual_row = text_of(browser, "table.outcomes tbody tr", |row| row.contains("manual")).await;
    assert!(manual_row.contains("42"), "the newest outcome: {manual_row}");

    // Its weight: only weighted outcomes replay now.
    browser
        .find(Locator::XPath("//select[@id='new-mock-outcome']/option[contains(., ' · 42')]"))
        .await?
        .click()
        .await?;
    let weight = browser.find(Locator::Css("input[name='entry-0-weight']")).await?;
    weight.clear().await?;
    weight.send_keys("5").await?;
    browser.find(Locator::XPath("//button[text()='Save mock weights']")).await?.click().await?;
    shows(browser, "p.notice", "Mock weights saved.").await;
    let weighted = browser.find(Locator::Css("input[name='entry-0-weight']")).await?.prop("value").await?;
    assert_eq!(weighted.as_deref(), Some("5"));

    program.send("square 3 square 77 ran");
    assert_eq!(program.value("square(3)"), "42", "the program's next call returns the manual outcome");
    assert_eq!(program.value("square(77)"), "42");
    assert_eq!(program.value("ran"), "1", "the function itself ran only for the first recording");

    // The calls show on the page as mocks.
    program.send("flush");
    program.until("flushed");
    browser.refresh().await?;
    let mocks = browser.find_all(Locator::Css("figure.chart svg rect.ev-mock")).await?;
    assert_eq!(mocks.len(), 2);
    Ok(())
}
