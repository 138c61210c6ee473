//! `#[weft::main]` and `#[weft::test]`.

use std::error::Error;

/// What a user's `src/main.rs` looks like (`main` is an ordinary function once expanded, so
/// a test can call it).
mod example {
    use std::error::Error;

    #[weft::main]
    pub async fn main() -> Result<(), Box<dyn Error>> {
        let a = weft::create_task(async { "4" });
        let b = weft::create_task(async { "2" });
        let (a, b) = weft::gather!(a, b).await;
        let n: u32 = format!("{}{}", a?, b?).parse()?;
        assert_eq!(n, 42);
        Ok(())
    }
}

#[test]
fn main_runs_its_body_on_a_runtime() {
    example::main().unwrap();
}

#[weft::main]
async fn main_with_arguments(x: u32, name: &str) -> String {
    weft::yield_now().await;
    format!("{name}={}", x * 2)
}

#[test]
fn main_keeps_arguments_and_return_type() {
    assert_eq!(main_with_arguments(21, "x"), "x=42");
}

#[weft::main]
async fn main_that_fails() -> Result<(), std::num::ParseIntError> {
    let _: u8 = "300".parse()?;
    Ok(())
}

#[test]
fn main_returns_the_error() {
    assert!(main_that_fails().is_err());
}

#[weft::test]
async fn test_runs_in_a_task_free_runtime() {
    assert!(weft::all_tasks().is_empty(), "a fresh runtime");
    let h = weft::spawn(async { 6 * 7 });
    assert_eq!(h.await.unwrap(), 42);
}

#[weft::test]
async fn test_returning_result() -> Result<(), Box<dyn Error>> {
    let v: i32 = weft::spawn(async { "-7" }).await?.parse()?;
    assert_eq!(v, -7);
    Ok(())
}

/// Doc comments and other attributes are kept.
#[weft::test]
#[should_panic(expected = "inside the test")]
async fn test_with_should_panic() {
    weft::yield_now().await;
    panic!("inside the test");
}

#[weft::test(start_paused = false)]
async fn test_with_explicit_default_option() {
    weft::yield_now().await;
}

#[test]
fn test_attribute_declares_a_test() {
    // `#[weft::test]` functions are plain `fn() -> R` once expanded.
    test_runs_in_a_task_free_runtime();
    test_returning_result().unwrap();
}
