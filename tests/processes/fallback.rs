//! What a program that installs no `tracing` subscriber sees: cacheow's
//! warnings, and its panel's URL once, as `cacheow: ...` lines on stderr,
//! as far as `CACHEOW_LOG` allows; and, once a subscriber is installed,
//! nothing but what goes through it.

use super::{DataDir, Probed};

/// The probe without a subscriber, run to the end with these variables.
fn bare(data: &DataDir, args: &[&str], env: &[(&str, &str)]) -> Probed {
    let mut command = data.probe(&[&["bare"], args].concat());
    command.env_remove("CACHEOW_LOG");
    for (name, value) in env {
        command.env(name, value);
    }
    Probed::from(command.output().expect("the probe runs"))
}

fn lines<'a>(probed: &'a Probed, containing: &str) -> Vec<&'a str> {
    probed.stderr.lines().filter(|line| line.contains(containing)).collect()
}

#[test]
fn without_a_subscriber_a_bad_value_is_one_line_on_stderr() {
    let data = DataDir::new();
    let probed = bare(&data, &["square", "3", "settings"], &[("CACHEOW_SERVER_PORT", "abc")]);
    assert_eq!(probed.value("square(3)"), "9", "the program runs on");
    assert!(probed.value("settings").starts_with("127.0.0.1:8765 "), "the default is used");
    assert_eq!(
        probed.stderr.trim_end(),
        r#"cacheow: CACHEOW_SERVER_PORT="abc" is not valid: expected a port number from 0 to 65535; using the default 8765"#
    );
}

#[test]
fn without_a_subscriber_a_refused_panel_and_an_unusable_data_dir_are_told() {
    let data = DataDir::new();
    let exposed = bare(
        &data,
        &["square", "3", "panel"],
        &[("CACHEOW_START_SERVER", "1"), ("CACHEOW_SERVER_HOST", "0.0.0.0"), ("CACHEOW_SERVER_PORT", "0")],
    );
    assert_eq!(exposed.value("panel"), "none");
    let refused = lines(&exposed, "not a loopback address");
    assert_eq!(refused.len(), 1, "{}", exposed.stderr);
    assert!(refused[0].starts_with("cacheow: ") && refused[0].contains("set CACHEOW_TOKEN"), "{}", exposed.stderr);

    // A data dir that cannot be made: a file stands where it should be.
    let blocked = data.dir.path().join("blocked");
    std::fs::write(&blocked, "not a directory").expect("a file");
    let unusable = bare(
        &data,
        &["square", "3", "square", "3", "ran"],
        &[("CACHEOW_DATA_DIR", &blocked.join("data").display().to_string())],
    );
    assert_eq!(unusable.value("ran"), "2", "calls run as if cacheow were off");
    let told = lines(&unusable, "is unavailable");
    assert_eq!(told.len(), 1, "once: {}", unusable.stderr);
    assert!(told[0].starts_with("cacheow: ") && told[0].contains("CACHEOW_DATA_DIR"), "{}", unusable.stderr);
}

#[test]
fn without_a_subscriber_the_panel_url_is_shown_once_unless_cacheow_log_says_otherwise() {
    let data = DataDir::new();
    let panel = [("CACHEOW_START_SERVER", "1"), ("CACHEOW_SERVER_PORT", "0")];
    let shown = bare(&data, &["square", "3", "square", "4", "panel"], &panel);
    let url = shown.value("panel");
    assert_eq!(shown.stderr.trim_end(), format!("cacheow: control panel: {url}"));

    let warn_only = bare(&data, &["square", "3", "panel"], &[panel[0], panel[1], ("CACHEOW_LOG", "warn")]);
    assert!(warn_only.stderr.is_empty(), "{}", warn_only.stderr);
    let with_warning = [panel[0], ("CACHEOW_SERVER_PORT", "abc"), ("CACHEOW_LOG", "warn")];
    let warned = bare(&data, &["square", "3"], &with_warning);
    assert_eq!(lines(&warned, "cacheow: ").len(), 1, "{}", warned.stderr);
    assert_eq!(lines(&warned, "control panel:").len(), 0, "{}", warned.stderr);

    let off =
        bare(&data, &["square", "3", "panel"], &[panel[0], ("CACHEOW_SERVER_PORT", "abc"), ("CACHEOW_LOG", "off")]);
    assert!(off.stderr.is_empty(), "{}", off.stderr);
    let typo = bare(&data, &["square", "3"], &[("CACHEOW_LOG", "loud")]);
    assert_eq!(lines(&typo, r#"CACHEOW_LOG="loud""#).len(), 1, "a bad CACHEOW_LOG is told too: {}", typo.stderr);
}

#[test]
fn once_a_subscriber_is_in_effect_messages_go_through_it_alone() {
    let data = DataDir::new();
    // A file the first call of `fetch` cannot read: a warning made after
    // the probe installs its subscriber.
    let outcomes = data.path().join("functions").join(data.id("fetch")).join("outcomes");
    std::fs::create_dir_all(&outcomes).expect("a folder");
    std::fs::write(outcomes.join("00000000000000ab.json"), "{").expect("a corrupt file");
    let probed = bare(&data, &["square", "3", "subscribe", "fetch", "5"], &[("CACHEOW_SERVER_PORT", "abc")]);
    assert_eq!(probed.value("fetch(5)"), "user-5");
    // Checked per message: before the subscriber, stderr; after, through it.
    assert_eq!(lines(&probed, "cacheow: ").len(), 1, "{}", probed.stderr);
    assert_eq!(lines(&probed, r#"cacheow: CACHEOW_SERVER_PORT="abc""#).len(), 1, "{}", probed.stderr);
    let warnings = probed.warnings();
    assert_eq!(warnings.len(), 1, "{}", probed.stderr);
    assert!(warnings[0].contains("00000000000000ab.json") && warnings[0].contains("cannot read"), "{}", probed.stderr);

    // With a subscriber from the start, CACHEOW_LOG changes nothing.
    let mut subscribed = data.probe(&["square", "3"]);
    subscribed.env("CACHEOW_SERVER_PORT", "abc").env("CACHEOW_LOG", "off");
    let probed = Probed::from(subscribed.output().expect("the probe runs"));
    assert_eq!(probed.warnings().len(), 1, "{}", probed.stderr);
    assert!(lines(&probed, "cacheow: ").is_empty(), "{}", probed.stderr);
}
