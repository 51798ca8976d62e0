//! The tip widget in a real browser: starts the web demo (validator with the
//! program's bytecode, relayer, demo wallet with a real keypair) and runs the
//! Playwright test in `sdk/browser/` against it with Debian's Chromium, headless.
//! Playwright's verdict is this test's; the chain is checked here too.
//!
//! Needs the SDK built and Chromium installed; `./scripts/test` does both first.

use std::{path::PathBuf, time::Duration};

use micropay_devnet::web::{WebDemo, TIP};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_tip_widget_tips_from_chromium_and_the_creator_is_paid() {
    let demo = WebDemo::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("the web demo starts");
    let sdk = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    let run = tokio::process::Command::new("npx")
        .args(["--no-install", "playwright", "test"])
        .current_dir(&sdk)
        .env("MICROPAY_DEMO_URL", &demo.url)
        .status();
    let status = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("playwright finishes")
        .expect("playwright runs");
    assert!(
        status.success(),
        "the browser test failed (see its output above)"
    );

    // Twenty tips of TIP, settled, net of the 1% fee: the creator's token account.
    let gross = 20 * TIP;
    assert_eq!(
        demo.devnet()
            .token_balance(&demo.creator_account)
            .await
            .unwrap(),
        gross - gross / 100
    );
    demo.stop().await;
}
