//! Outcomes managed from code: manual and mock-only outcomes, deletion,
//! counts of repeated outcomes, retention, and rebuilding the index from
//! the files after hand edits.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use cacheow::{Error, ManualOutcome, MockOutcome, Mode, OutcomeKind, cacheow, handle};

use crate::{data_dir, outcome_file};

static PROFILE_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn profile(id: u32) -> Result<String, String> {
    PROFILE_RAN.fetch_add(1, SeqCst);
    Ok(format!("user {id}"))
}

#[test]
fn manual_outcomes_answer_their_arguments_and_mock_only_ones_only_mocks() -> Result<(), Error> {
    let f = handle!(profile);
    let hit = f.add_manual_outcome(ManualOutcome::returns("Ann").for_args(serde_json::json!({ "id": 7 })))?;
    let limited = f.add_manual_outcome(ManualOutcome::error("rate limited").mock_only())?;
    f.add_manual_outcome(ManualOutcome::error("busy").for_args(serde_json::json!({ "id": 9 })).mock_only())?;
    f.set_mode(Mode::Cache)?;
    assert_eq!(profile(7), Ok("Ann".to_owned()), "a cache hit for the arguments it names");
    assert_eq!(profile(8), Ok("user 8".to_owned()), "not for others");
    assert_eq!(profile(9), Ok("user 9".to_owned()), "mock-only: no cache hit, even for the arguments it names");
    assert_eq!(PROFILE_RAN.load(SeqCst), 2, "and the mock-only errors are never cache hits");

    f.set_mode(Mode::Mock)?;
    f.set_mock_outcomes([MockOutcome::new(&limited)])?;
    assert_eq!(profile(1), Err("rate limited".to_owned()));
    let infos = f.outcomes()?;
    let manual = infos.iter().find(|outcome| outcome.id == limited).expect("listed");
    assert!(manual.manual && manual.mock_only && manual.kind == OutcomeKind::Error);
    assert!(infos.iter().any(|outcome| outcome.id == hit && outcome.args == r#"{"id":7}"#));

    // Once the function ran here, an outcome that cannot replay is refused.
    let error = f.add_manual_outcome(ManualOutcome::returns(42)).expect_err("not a String");
    assert!(matches!(error, Error::InvalidOutcome { .. }), "{error}");
    assert!(error.to_string().contains("does not fit the function's return type"), "{error}");
    Ok(())
}

#[cacheow]
fn words(text: String) -> impl Iterator<Item = String> {
    text.split(' ').map(str::to_owned).collect::<Vec<_>>().into_iter()
}

#[cacheow]
fn checked(n: u32) -> u32 {
    n
}

#[test]
fn manual_items_and_panics_replay_as_their_kind() -> Result<(), Error> {
    handle!(words).add_manual_outcome(ManualOutcome::items(["hand", "made"]))?;
    handle!(words).set_mode(Mode::Mock)?;
    assert_eq!(words("a b c".to_owned()).collect::<Vec<_>>(), ["hand", "made"]);

    let f = handle!(checked);
    f.add_manual_outcome(ManualOutcome::panics("upstream is down"))?;
    f.set_mode(Mode::Mock)?;
    let panicked = std::panic::catch_unwind(|| checked(1)).expect_err("a replayed panic");
    assert_eq!(crate::panics::panic_text(&*panicked), "upstream is down");
    Ok(())
}

static REPEATED_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn repeated(n: u32) -> u32 {
    REPEATED_RAN.fetch_add(1, SeqCst);
    n % 2
}

#[test]
fn repeated_outcomes_are_counted_not_stored_again() -> Result<(), Error> {
    let f = handle!(repeated);
    for _ in 0..1000 {
        repeated(3);
    }
    repeated(4);
    let outcomes = f.outcomes()?;
    assert_eq!(outcomes.len(), 2, "two distinct outcomes");
    let hot = outcomes.iter().find(|outcome| outcome.args == r#"{"n":3}"#).expect("recorded");
    assert_eq!(hot.count, 1000);
    let dir = data_dir().join("functions").join(f.id()).join("outcomes");
    cacheow::manager().expect("on").flush();
    assert_eq!(std::fs::read_dir(dir).map(Iterator::count).unwrap_or_default(), 2, "one file per distinct outcome");
    assert_eq!(REPEATED_RAN.load(SeqCst), 1001);
    Ok(())
}

#[cacheow]
fn capped(n: u32) -> u32 {
    n * 10
}

#[test]
fn retention_keeps_the_newest_outcomes() -> Result<(), Error> {
    let f = handle!(capped);
    assert!(matches!(f.set_max_outcomes(Some(0)), Err(Error::InvalidRetention)));
    f.set_max_outcomes(Some(3))?;
    assert_eq!(f.max_outcomes()?, Some(3));
    for n in 0..10 {
        capped(n);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    cacheow::manager().expect("on").flush();
    let mut kept: Vec<String> = f.outcomes()?.into_iter().map(|outcome| outcome.args).collect();
    kept.sort();
    assert_eq!(kept, [r#"{"n":7}"#, r#"{"n":8}"#, r#"{"n":9}"#]);
    let dir = data_dir().join("functions").join(f.id()).join("outcomes");
    assert_eq!(std::fs::read_dir(&dir).map(Iterator::count).unwrap_or_default(), 3, "their files are gone too");

    f.set_max_outcomes(Some(1))?;
    assert_eq!(f.outcomes()?.len(), 1, "a lower cap applies at once");
    f.set_max_outcomes(None)?;
    capped(20);
    cacheow::manager().expect("on").flush();
    assert_eq!(f.outcomes()?.len(), 2, "no cap");
    Ok(())
}

#[cacheow]
fn kept(n: u32) -> u32 {
    n * 10
}

#[test]
fn retention_keeps_chosen_outcomes_and_counts_hits_as_seen() -> Result<(), Error> {
    let f = handle!(kept);
    let pause = || std::thread::sleep(std::time::Duration::from_millis(3));
    for n in 0..3 {
        pause();
        kept(n);
    }
    let outcomes = f.outcomes()?;
    let id_of = |n: u32| outcomes.iter().find(|o| o.args == format!(r#"{{"n":{n}}}"#)).map(|o| o.id.clone());
    let recorded: Vec<String> = (0..3).filter_map(id_of).collect();
    let manual = f.add_manual_outcome(ManualOutcome::returns(99).mock_only())?;
    f.set_mock_outcomes([MockOutcome::new(&recorded[1])])?;
    // A cache hit of the oldest outcome makes it the one seen last.
    f.set_mode(Mode::Cache)?;
    pause();
    assert_eq!(kept(0), 0);
    cacheow::manager().expect("on").flush();

    f.set_max_outcomes(Some(1))?;
    let mut kept_ids: Vec<String> = f.outcomes()?.into_iter().map(|outcome| outcome.id).collect();
    kept_ids.sort();
    let mut expected = vec![recorded[0].clone(), recorded[1].clone(), manual];
    expected.sort();
    assert_eq!(kept_ids, expected, "the hit one, the mock-listed one and the hand-made one stay");
    Ok(())
}

#[cacheow]
fn edited(n: u32) -> u32 {
    n + 1
}

#[test]
fn a_rebuild_reads_hand_edits_and_reports_what_no_longer_fits() -> Result<(), Error> {
    let f = handle!(edited);
    for n in 0..3 {
        edited(n);
    }
    let outcomes = f.outcomes()?;
    let id_of = |n: u32| outcomes.iter().find(|o| o.args == format!(r#"{{"n":{n}}}"#)).map(|o| o.id.clone());
    let (zero, one, two) = (id_of(0).expect("0"), id_of(1).expect("1"), id_of(2).expect("2"));
    let path = |id: &str| outcome_file(f, id);
    // A good hand edit, one that no longer fits `u32`, and one that is not JSON.
    let text = std::fs::read_to_string(path(&zero)).expect("readable");
    std::fs::write(path(&zero), text.replace("\"value\": 1", "\"value\": 100")).expect("edited");
    let text = std::fs::read_to_string(path(&one)).expect("readable");
    std::fs::write(path(&one), text.replace("\"value\": 2", "\"value\": \"two\"")).expect("edited");
    std::fs::write(path(&two), "{ \"kind\": ").expect("broken");

    let rebuilt = f.rebuild_index()?;
    assert_eq!(rebuilt.indexed, 1);
    let mut corrupt: Vec<(String, String)> = rebuilt
        .corrupt
        .iter()
        .map(|file| (file.path.file_stem().unwrap_or_default().to_string_lossy().into_owned(), file.error.clone()))
        .collect();
    corrupt.sort();
    let reason =
        |id: &str| corrupt.iter().find(|(file, _)| file == id).map(|(_, error)| error.clone()).unwrap_or_default();
    assert!(reason(&one).contains("no longer fits the function's return type"), "{corrupt:?}");
    assert!(reason(&two).contains("not a JSON object"), "{corrupt:?}");

    f.set_mode(Mode::Cache)?;
    assert_eq!(edited(0), 100, "the good edit replays");
    assert_eq!(edited(1), 2, "the unfit one is never replayed: the function runs");
    Ok(())
}

#[cacheow]
fn pruned(n: u32) -> u32 {
    n
}

#[test]
fn an_outcome_can_be_deleted() -> Result<(), Error> {
    let f = handle!(pruned);
    pruned(1);
    pruned(2);
    let id = f.outcomes()?[0].id.clone();
    f.delete_outcome(&id)?;
    assert_eq!(f.outcomes()?.len(), 1);
    assert!(!outcome_file(f, &id).exists());
    assert!(matches!(f.delete_outcome(&id), Err(Error::UnknownOutcome { .. })));
    assert!(matches!(f.delete_outcome("../cacheow.db"), Err(Error::UnknownOutcome { .. })));
    Ok(())
}
