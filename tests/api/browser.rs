//! The pages in a real browser: headless Chromium driven over WebDriver (chromedriver and
//! fantoccini) against the real `payments` binary. Every page visited is checked with
//! axe-core (`tools/browser`, from npm), which must find no `serious` or `critical`
//! violation, and saved as a screenshot under `target/browser/`.
//!
//! Chromium, chromedriver (Debian's `chromium` and `chromium-driver`) and axe-core
//! (`npm ci` in `tools/browser`) are optional on a workstation, where the tests say why they
//! skip, and required in CI (`CI` set; `.ci/run` installs them). `CHROMEDRIVER` and
//! `CHROMIUM` name other binaries.
//!
//! [`harness`] holds what a new page's test needs: [`harness::Session::start`] (service,
//! driver, browser), `goto`, `click_link`, `fill`, `click_button`, `sign_in`, `axe_check`
//! and `screenshot`.

mod checkout;
mod console;
mod harness;
mod storefront;
